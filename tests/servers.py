"""Real servers for tests that need them: the app under gunicorn (gunicorn.conf.py) and a private Redis.

The extensions are module-level singletons bound to the session app, so a second configuration of the app
(the bench's, another Redis) runs in its own process. Both are bounded in time and always stopped."""
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.server import Gunicorn, RedisServer


@contextmanager
def gunicorn(app, tmp_path: Path, target: str = "wsgi:app", **env: str):
    """Serve `target` under gunicorn with one worker, on the session app's database; yields the base URL."""
    from config import SECRET_NAMES

    secrets = {name: app.config[name] for name in SECRET_NAMES}  # the server reads what the suite writes
    server = Gunicorn({"JIEFANG_ENV": "development", "JIEFANG_ALLOW_DEVELOPMENT": "1", **secrets,
                       "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                       "GUNICORN_WORKERS": "1", "GUNICORN_GRACEFUL_TIMEOUT": "5", "REDIS_URL": "", **env},
                      tmp_path / "gunicorn.log", target)
    server.start(seconds=30)
    try:
        yield server.base
    finally:
        server.stop()


@contextmanager
def private_redis(ports: range | None = None):
    """A started RedisServer of the test's own (on one of `ports` if given), always stopped; skips when
    redis-server is not installed."""
    if not RedisServer.installed():
        pytest.skip("redis-server is not installed (Debian package redis-server): cannot test Redis failover")
    server = RedisServer(ports)
    server.start()
    try:
        yield server
    finally:
        server.stop()
