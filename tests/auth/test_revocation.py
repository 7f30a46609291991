"""Revocation with Redis: written to the database and cached in Redis; Redis down or emptied loses nothing."""
from app.auth.models import RevokedToken
from bench.server import free_port
from tests.auth_flows import LOGIN_SMS, LOGOUT, ME, REFRESH, SEND, bearer, claims, count, envelope, sign_in
from tests.redis_fixtures import Statements, dead, live, redis_server, use_redis  # noqa: F401 — fixtures

PHONE = "13912345678"


def _keys(body: dict) -> tuple[str, str]:
    access = claims(body["access_token"])
    return access["jti"], access["fam"]


def test_logout_is_written_to_the_database_and_cached_in_redis(client, db, live):
    body = sign_in(client, PHONE)
    jti, family = _keys(body)
    assert client.post(LOGOUT, headers=bearer(body["access_token"])).status_code == 200
    assert db.session.get(RevokedToken, jti) is not None and db.session.get(RevokedToken, family) is not None
    for key in (jti, family):
        assert live.get(f"revoked:{key}") == b"1"
        assert 0 < live.ttl(f"revoked:{key}") <= 15 * 60 + 10 + 60
    envelope(client.get(ME, headers=bearer(body["access_token"])), 401, "token_revoked")


def test_warm_redis_answers_without_the_database(client, db, live):
    revoked, valid = sign_in(client, PHONE), sign_in(client, "13912345679")
    client.post(LOGOUT, headers=bearer(revoked["access_token"]))
    client.get(ME, headers=bearer(valid["access_token"]))  # warms Redis
    with Statements(db.engine) as seen:
        envelope(client.get(ME, headers=bearer(revoked["access_token"])), 401, "token_revoked")
        assert client.get(ME, headers=bearer(valid["access_token"])).status_code == 200
    assert seen.touching("revoked_tokens") == []


def test_redis_down_revocation_still_works_from_the_database(client, db, dead):
    send = client.post(SEND, json={"phone": PHONE})
    assert send.status_code == 202
    login = client.post(LOGIN_SMS, json={"phone": PHONE, "code": send.get_json()["debug_code"]})
    assert login.status_code == 200
    body = login.get_json()
    assert client.get(ME, headers=bearer(body["access_token"])).status_code == 200
    pair = client.post(REFRESH, headers=bearer(body["refresh_token"]))
    assert pair.status_code == 200
    pair = pair.get_json()
    r = client.post(LOGOUT, headers=bearer(pair["access_token"]))
    assert r.status_code == 200
    assert db.session.get(RevokedToken, _keys(pair)[0]) is not None
    envelope(client.get(ME, headers=bearer(pair["access_token"])), 401, "token_revoked")
    envelope(client.get(ME, headers=bearer(body["access_token"])), 401, "token_revoked")
    envelope(client.post(REFRESH, headers=bearer(pair["refresh_token"])), 401, "token_revoked")


def test_redis_down_is_not_waited_on_for_every_request(app, client, db, dead, monkeypatch):
    body = sign_in(client, PHONE)
    app.extensions["redis_paused_until"] = 0.0  # the sign-in's own cache invalidation already met the dead Redis
    calls = []
    real = dead.execute_command
    monkeypatch.setattr(dead, "execute_command", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    for _ in range(3):
        assert client.get(ME, headers=bearer(body["access_token"])).status_code == 200
    assert len(calls) == 1  # after one failure Redis is left alone for REDIS_PAUSE_SECONDS
    app.extensions["redis_paused_until"] = 0.0
    assert client.get(ME, headers=bearer(body["access_token"])).status_code == 200
    assert len(calls) == 2


def test_redis_back_empty_is_warmed_from_the_database(client, db, live, redis_server):
    revoked, valid = sign_in(client, PHONE), sign_in(client, "13912345679")
    client.post(LOGOUT, headers=bearer(revoked["access_token"]))
    jti, _ = _keys(revoked)
    assert live.get(f"revoked:{jti}") == b"1"
    redis_server.stop()
    redis_server.start()  # empty: it keeps nothing
    envelope(client.get(ME, headers=bearer(revoked["access_token"])), 401, "token_revoked")
    envelope(client.get(ME, headers=bearer(revoked["access_token"])), 401, "token_revoked")
    assert client.get(ME, headers=bearer(valid["access_token"])).status_code == 200
    assert live.get(f"revoked:{jti}") == b"1" and live.get("sync:generation") is not None  # caught up from the database
    assert count(db, RevokedToken) == 2


def test_redis_flushed_is_warmed_from_the_database(client, db, live):
    body = sign_in(client, PHONE)
    client.post(LOGOUT, headers=bearer(body["access_token"]))
    client.get(ME, headers=bearer(body["access_token"]))
    live.flushdb()
    envelope(client.get(ME, headers=bearer(body["access_token"])), 401, "token_revoked")
    assert live.get(f"revoked:{_keys(body)[0]}") == b"1"


def test_revocation_missed_by_a_warm_redis_is_still_enforced(client, db, redis_server, use_redis):
    """Redis unreachable during a logout but not emptied: it is caught up to an older generation and lacks the
    revocation."""
    live = use_redis(redis_server.port)
    live.flushdb()
    body = sign_in(client, PHONE)
    assert client.get(ME, headers=bearer(body["access_token"])).status_code == 200  # Redis now caught up
    use_redis(free_port())
    assert client.post(LOGOUT, headers=bearer(body["access_token"])).status_code == 200
    use_redis(redis_server.port)
    assert live.get("sync:generation") is not None and live.get(f"revoked:{_keys(body)[0]}") is None
    envelope(client.get(ME, headers=bearer(body["access_token"])), 401, "token_revoked")
    assert live.get(f"revoked:{_keys(body)[0]}") == b"1"
    live.flushdb()


def test_reused_refresh_token_revocation_is_cached(client, db, live, clock):
    body = sign_in(client, PHONE)
    pair = client.post(REFRESH, headers=bearer(body["refresh_token"])).get_json()
    clock.advance(seconds=11)  # past the grace window for parallel refreshes
    envelope(client.post(REFRESH, headers=bearer(body["refresh_token"])), 401, "token_reused")
    assert live.get(f"revoked:{_keys(body)[1]}") == b"1"
    envelope(client.get(ME, headers=bearer(pair["access_token"])), 401, "token_revoked")
