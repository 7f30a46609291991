"""The pool pings only connections that sat idle (app/common/pool.py): a connection the server dropped while
idle is replaced before a request sees it, and a busy connection costs no ping."""
import pytest
from sqlalchemy import create_engine, text

from app.common import pool
from app.extensions import db as _db


def _record_pings(engine):
    seen = []
    original = engine.dialect.do_ping

    def ping(dbapi_connection):
        seen.append(1)
        return original(dbapi_connection)

    return seen, ping


def test_a_connection_used_a_moment_ago_is_not_pinged(app, client, login, monkeypatch):
    _, headers = login("resident")
    _db.session.remove()
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    seen, ping = _record_pings(_db.engine)
    monkeypatch.setattr(_db.engine.dialect, "do_ping", ping)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert seen == []


@pytest.mark.postgres
def test_a_connection_dropped_while_idle_is_replaced_before_the_request_uses_it(app, client, login, monkeypatch):
    user, headers = login("resident")
    _db.session.remove()
    _db.engine.dispose()  # the pool now holds one connection: the one killed below
    pid = _db.session.execute(text("SELECT pg_backend_pid()")).scalar()
    _db.session.remove()
    later = pool.time.monotonic() + app.config["DB_PING_AFTER_IDLE_SECONDS"] + 60
    monkeypatch.setattr(pool.time, "monotonic", lambda: later)
    killer = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with killer.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() is True
    killer.dispose()
    seen, ping = _record_pings(_db.engine)
    monkeypatch.setattr(_db.engine.dialect, "do_ping", ping)
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200 and response.get_json()["id"] == str(user.id)
    assert seen, "the idle connection was not pinged"
