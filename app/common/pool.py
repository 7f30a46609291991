"""Connection checks that cost a round trip only when a connection may have gone stale.

`pool_pre_ping` pings on every check-out, and every request checks a connection out: one extra round trip
per request, on hot paths whose whole budget is three statements and a commit. A connection that was in
use a moment ago is alive (as alive as a pinged one: the server can drop it the next millisecond either way),
so only a connection idle longer than DB_PING_AFTER_IDLE_SECONDS is pinged; a dead one is replaced before
the request sees it (DisconnectionError makes the pool retry with a fresh connection). pool_recycle retires
connections before a server or proxy idle timeout can cut them."""
import time

from sqlalchemy import event, exc

_IDLE_SINCE = "jiefang_idle_since"


def install_idle_ping(engine, idle_seconds: float) -> None:
    """Ping a checked-out connection only when it sat in the pool longer than idle_seconds."""

    @event.listens_for(engine, "checkin")
    def _stamp(_dbapi_connection, record):
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection, record, _proxy):
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since <= idle_seconds:
            return  # a new connection, or one used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
            dbapi_connection.rollback()  # the ping's implicit BEGIN: leave no transaction open
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError("stale pooled connection replaced") from error
