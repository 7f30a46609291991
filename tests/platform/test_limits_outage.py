"""Rate limits while Redis is away: each worker counts alone, to its share, so the server as a whole still
admits no more than the configured limit."""
import pytest
import requests

from app.common.limits import share
from tests.servers import gunicorn, private_redis

WRONG = {"username": "nobody-here", "password": "wrong-password"}


@pytest.mark.parametrize("spec, workers, expected", [
    ("20 per minute", 1, "20 per minute"),
    ("20 per minute", 5, "4 per 1 minute"),
    ("20 per minute", 3, "6 per 1 minute"),
    ("10 per hour;30 per day", 4, "2 per 1 hour;7 per 1 day"),
    ("2 per minute", 5, "1 per 1 minute"),
])
def test_share_of_a_limit(spec, workers, expected):
    assert share(spec, workers) == expected


def _attempts(base: str, n: int) -> list[int]:
    # A new connection each time, so that every worker answers some.
    return [requests.post(base + "/api/v1/auth/login/password", json=WRONG, headers={"Connection": "close"},
                          timeout=10).status_code for _ in range(n)]


def test_sign_in_limit_holds_across_workers_while_redis_is_down(app, tmp_path):
    with private_redis(range(6391, 6400)) as redis_server, \
            gunicorn(app, tmp_path, GUNICORN_WORKERS="3", REDIS_URL=redis_server.url(),
                     RATELIMIT_AUTH="6 per minute") as base:
        redis_server.stop()
        statuses = _attempts(base, 30)
        assert statuses.count(401) <= 6, statuses
        assert set(statuses) == {401, 429}
        assert statuses.count(401) >= 2  # the kernel need not hand every worker a connection: no lower bound per worker
