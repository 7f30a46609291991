"""The app pointed at a private Redis of the test's own (or at a dead port), and the SQL a block runs.

Import the fixtures by name into a test module that uses them."""
import pytest
from sqlalchemy import event

from app.common import cache
from bench.server import free_port
from tests.servers import private_redis


@pytest.fixture(scope="module")
def redis_server():
    with private_redis() as server:
        yield server


@pytest.fixture
def use_redis(app, monkeypatch):
    """use_redis(port) points the app's Redis client at a port (ours, or a dead one)."""

    def point(port: int):
        client = cache.connect(f"redis://127.0.0.1:{port}/0")
        monkeypatch.setitem(app.extensions, "redis", client)
        monkeypatch.setitem(app.extensions, "redis_paused_until", 0.0)
        return client

    # The database's Redis generation is read once per interval (docs/operations.md): read at the first request,
    # then not again, so that "no SQL" below means none per request.
    monkeypatch.setitem(app.extensions, "sync_read_at", float("-inf"))
    monkeypatch.setitem(app.config, "REDIS_SYNC_CHECK_SECONDS", 3600)
    return point


@pytest.fixture
def live(redis_server, use_redis):
    client = use_redis(redis_server.port)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def dead(use_redis):
    return use_redis(free_port())


class Statements:
    """SQL statements run while the block runs."""

    def __init__(self, engine):
        self.engine, self.sql = engine, []

    def _record(self, conn, cursor, statement, *args):
        self.sql.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._record)

    def touching(self, table: str) -> list[str]:
        return [s for s in self.sql if table in s]
