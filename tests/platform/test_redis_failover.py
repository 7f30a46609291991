"""Redis goes away in the middle of a run: nothing answers 5xx, limits and revocations still hold, and it
recovers. The app runs under gunicorn against a Redis of the test's own (never the shared one on 6379)."""
import time

import jwt
import pytest
import requests
from sqlalchemy import select

from app.auth.models import RevokedToken
from tests import factories
from tests.servers import gunicorn, private_redis

PAUSE = 1.0  # REDIS_PAUSE_SECONDS in the served app


class Client:
    """Calls the served app and keeps every status, so the test can say that none was a 5xx."""

    def __init__(self, base: str):
        self.base, self.statuses = base, []

    def call(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        reply = requests.request(method, self.base + path, headers=headers, timeout=10, **kwargs)
        self.statuses.append((method, path, reply.status_code))
        return reply

    def sign_in(self) -> str:
        phone = factories.phone()
        sent = self.call("POST", "/api/v1/auth/sms-codes", json={"phone": phone})
        assert sent.status_code == 202, sent.text
        login = self.call("POST", "/api/v1/auth/login/sms", json={"phone": phone, "code": sent.json()["debug_code"]})
        assert login.status_code == 200, login.text
        return login.json()["access_token"]

    def me(self, token: str) -> int:
        return self.call("GET", "/api/v1/me", token).status_code

    def logout(self, token: str) -> None:
        assert self.call("POST", "/api/v1/auth/logout", token).status_code == 200

    def wrong_passwords(self, n: int) -> list[int]:
        body = {"username": "nobody-here", "password": "wrong-password"}
        return [self.call("POST", "/api/v1/auth/login/password", json=body).status_code for _ in range(n)]

    def no_5xx(self) -> list:
        return [s for s in self.statuses if s[2] >= 500]


def _jti(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["jti"]


def _until(check, seconds: float, step=None) -> bool:
    """Poll check() (after step(), if given) until it holds or the time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if step:
            step()
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def served(app, tmp_path):
    """(client, private redis, redis connection): the app under gunicorn using a Redis of its own."""
    import redis

    with private_redis() as server, gunicorn(app, tmp_path, REDIS_URL=server.url(), RATELIMIT_AUTH="5 per minute",
                                             REDIS_PAUSE_SECONDS=str(PAUSE)) as base:
        yield Client(base), server, redis.Redis.from_url(server.url(), socket_timeout=2)


def test_redis_stopped_and_restarted(served, db):
    client, server, rds = served
    alice, bob = client.sign_in(), client.sign_in()
    client.logout(bob)
    assert client.me(alice) == 200 and client.me(bob) == 401
    assert rds.keys("LIMITS*"), "the limiter counts in Redis while it is up"
    assert rds.exists(f"revoked:{_jti(bob)}") and rds.exists("sync:generation")

    server.stop()
    assert client.me(alice) == 200, "the database answers for revocation"
    assert client.me(bob) == 401
    carol = client.sign_in()
    client.logout(carol)
    assert client.me(carol) == 401
    assert client.wrong_passwords(6) == [401] * 5 + [429], "limits fall back to this process's memory"
    assert db.session.scalar(select(RevokedToken.jti).where(RevokedToken.jti == _jti(carol))) is not None

    server.start()  # empty: it kept nothing
    assert _until(lambda: rds.exists("sync:generation"), 10, step=lambda: client.me(alice)), \
        "Redis caught up: revocations re-warmed"
    assert client.me(bob) == 401 and client.me(carol) == 401 and client.me(alice) == 200
    assert rds.exists(f"revoked:{_jti(carol)}"), "a revocation made during the outage reached Redis"
    assert _until(lambda: rds.keys("LIMITS*"), 40, step=lambda: (client.me(alice), client.wrong_passwords(1))), \
        "the limiter counts in Redis again"
    assert client.no_5xx() == []


def test_redis_cut_off_with_its_data_kept(served):
    """A network cut (Redis frozen, its data kept): a logout during the cut must not be forgotten afterwards."""
    client, server, rds = served
    alice, dave = client.sign_in(), client.sign_in()
    assert client.me(alice) == 200 and rds.exists("sync:generation")

    server.pause()
    assert client.me(alice) == 200, "a frozen Redis costs a short socket timeout, then the database answers"
    client.logout(dave)
    assert client.me(dave) == 401
    server.resume()  # comes back with its old generation, without dave's revocation

    time.sleep(PAUSE + 0.3)
    assert client.me(dave) == 401, "Redis re-warmed from the database before answering"
    assert rds.exists(f"revoked:{_jti(dave)}")
    assert client.me(alice) == 200
    assert client.no_5xx() == []
