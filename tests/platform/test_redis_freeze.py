"""A Redis frozen (SIGSTOP) and resumed (SIGCONT) under two gunicorn workers: a logout and a colour change made
around the freeze hold in every worker once REDIS_SYNC_CHECK_SECONDS has passed (docs/operations.md)."""
import threading
import time

import pytest
import requests

from tests import factories
from tests.health_codes.conftest import application
from tests.servers import gunicorn, private_redis

PORTS = range(6391, 6400)
BOUND = 1.0 + 0.2 + 0.3  # REDIS_SYNC_CHECK_SECONDS + Redis's socket timeout + slack for a loaded machine


@pytest.fixture
def served(app, tmp_path):
    """(base URL, private Redis) with two workers and the default 5 s Redis pause."""
    with private_redis(PORTS) as redis_server, gunicorn(app, tmp_path, GUNICORN_WORKERS="2",
                                                        REDIS_URL=redis_server.url(),
                                                        RATELIMIT_AUTH="1000 per minute") as base:
        yield base, redis_server


def _call(base, method, path, headers=None, **kwargs) -> requests.Response:
    # A new connection each time, so that both workers answer in turn.
    reply = requests.request(method, base + path, headers={**(headers or {}), "Connection": "close"}, timeout=10,
                             **kwargs)
    assert reply.status_code < 500, (path, reply.status_code, reply.text)
    return reply


def _storm(base, n=15) -> None:
    """n concurrent staff sign-ins while Redis is frozen: every worker times out on it and pauses Redis."""
    factories.user(roles=[("organiser", "4401")], username="storm", password="storm-password")
    body = {"username": "storm", "password": "storm-password"}
    threads = [threading.Thread(target=_call, args=(base, "POST", "/api/v1/auth/login/password"), kwargs={"json": body})
               for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_logout_around_a_freeze_stays_revoked_in_every_worker(served):
    base, redis_server = served
    staff = factories.auth_headers(factories.user(roles=[("venue_staff", "4401")]))
    other = factories.auth_headers(factories.user())
    assert _call(base, "GET", "/api/v1/me", staff).status_code == 200

    redis_server.pause()
    _storm(base)
    redis_server.resume()
    assert _call(base, "POST", "/api/v1/auth/logout", staff).status_code == 200

    time.sleep(BOUND)
    assert [_call(base, "GET", "/api/v1/me", staff).status_code for _ in range(10)] == [401] * 10
    time.sleep(6 - BOUND)  # every worker's Redis pause is over: they read Redis again
    assert [_call(base, "GET", "/api/v1/me", staff).status_code for _ in range(10)] == [401] * 10
    assert _call(base, "GET", "/api/v1/me", other).status_code == 200


def test_colour_change_around_a_freeze_reaches_every_worker(served):
    base, redis_server = served
    resident = factories.auth_headers(factories.user())
    # Verifying without a venue is for health officials (venue staff name their venue).
    staff = factories.auth_headers(factories.user(roles=[("health_official", "4401")]))
    official = factories.auth_headers(factories.user(roles=[("health_official", "4401")]))
    code = _call(base, "POST", "/api/v1/health-codes", resident, json=application()).json()
    token = _call(base, "GET", f"/api/v1/health-codes/{code['id']}/token", resident).json()["token"]
    seen = [_call(base, "POST", "/api/v1/health-codes/verify", staff, json={"token": token}).json()["colour"]
            for _ in range(4)]
    assert seen == ["green"] * 4, "cached in Redis by both workers"

    redis_server.pause()
    threading.Timer(0.2, redis_server.resume).start()
    changed = _call(base, "PATCH", f"/api/v1/admin/health-codes/{code['id']}/colour", official,
                    json={"colour": "red", "reason": "密接"})
    assert changed.status_code == 200 and changed.json()["colour"] == "red"

    time.sleep(BOUND)
    deadline = time.monotonic() + 8  # past both workers' 5 s Redis pause
    colours = []
    while time.monotonic() < deadline:
        colours.append(_call(base, "POST", "/api/v1/health-codes/verify", staff,
                             json={"token": token}).json()["colour"])
        time.sleep(0.25)
    assert set(colours) == {"red"}, colours
