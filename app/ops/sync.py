"""Whether Redis holds every fact the database does, kept as a generation number in both.

The database's `cache_sync.generation` is bumped by every write (a revocation, a cache invalidation) that could
not reach Redis; Redis's `sync:generation` is the generation it was last caught up to. A process trusts what
Redis says only while Redis's generation is at least the database's; otherwise it answers from the database and
one process (under a Redis lock) catches Redis up: every cache entry dropped, every catch-up hook run (live
revocations copied back), then `sync:generation` set to the generation read before it started. An empty Redis
(restarted, flushed) has no generation and is caught up the same way.

Each process reads the database's generation at most every REDIS_SYNC_CHECK_SECONDS, so a fact whose Redis
write failed is missed by other processes for at most that long after the failure is recorded (the failing write
waits at most Redis's 0.2 s socket timeout first)."""
import logging
import time
from typing import Callable

from flask import current_app, g
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.common.upsert import insert
from app.extensions import db
from app.ops import metrics
from app.ops.models import CacheSync

log = logging.getLogger("jiefang.cache")
SYNC_KEY = "sync:generation"
_LOCK_KEY = "sync:catching-up"
_LOCK_SECONDS = 30
_CACHE_PATTERN = "cache:*"
_HOOKS: list[Callable] = []
_UNREAD = object()


def on_catch_up(hook: Callable) -> None:
    """hook(client) runs whenever Redis is caught up, after the cache entries were dropped (refill what it owns)."""
    _HOOKS.append(hook)


def _read_generation() -> int:
    # Through the request's session: its connection, not a second one from the pool per request.
    return db.session.execute(select(CacheSync.generation).where(CacheSync.id == 1)).scalar() or 0


def database_generation() -> int:
    """The database's generation as this process last read it (at most REDIS_SYNC_CHECK_SECONDS ago)."""
    ext, now = current_app.extensions, time.monotonic()
    if now - ext.get("sync_read_at", float("-inf")) >= current_app.config["REDIS_SYNC_CHECK_SECONDS"]:
        try:
            _know(_read_generation())
        except SQLAlchemyError:  # database away: nothing can be written meanwhile, the last value holds
            log.warning("redis generation unreadable; keeping the last one")
        ext["sync_read_at"] = now
    return ext.get("sync_generation", 0)


def _know(generation: int) -> None:
    ext = current_app.extensions
    ext["sync_generation"] = max(generation, ext.get("sync_generation", 0))


def mark_behind(doing: str) -> None:
    """Record in the database that Redis missed a write: no process trusts Redis until it has caught up."""
    statement = insert(CacheSync).values(id=1, generation=1)
    statement = statement.on_conflict_do_update(index_elements=["id"],
                                                set_={"generation": CacheSync.generation + 1})
    try:
        with db.engine.begin() as conn:
            generation = conn.execute(statement.returning(CacheSync.generation)).scalar()
    except SQLAlchemyError as error:
        log.error("redis missed a write while %s and the database could not record it: %s", doing,
                  type(error).__name__)
        return
    _know(generation)
    metrics.REDIS_FALLBACKS.labels("write_lost").inc()
    log.warning("redis missed a write while %s: generation %s", doing, generation)


def generations_behind() -> int:
    """How many generations Redis lags the database (0 without Redis): above 0 for long, Redis is not catching up."""
    client = current_app.extensions.get("redis")
    if client is None:
        return 0
    seen = client.get(SYNC_KEY)
    return max(0, _read_generation() - int(seen or -1))


def trusted(seen) -> bool:
    """Whether Redis at generation `seen` (None: it has none) holds every write the database does."""
    g.redis_generation = seen
    return seen is not None and int(seen) >= database_generation()


def caught_up(client, seen=_UNREAD) -> bool:
    """Whether Redis may be trusted now (`seen`: its generation if this request read it already). When it is
    behind, catch it up, or let the process doing so finish while this request uses the database. Raises
    RedisError like any Redis call."""
    if seen is _UNREAD:
        seen = g.get("redis_generation", _UNREAD)
    if seen is _UNREAD:
        seen = client.get(SYNC_KEY)
    if trusted(seen):
        return True
    metrics.REDIS_FALLBACKS.labels("behind").inc()
    if not client.set(_LOCK_KEY, b"1", nx=True, ex=_LOCK_SECONDS):
        return False
    try:
        _catch_up(client)
    finally:
        client.delete(_LOCK_KEY)
    return True


def _catch_up(client) -> None:
    wanted = _read_generation()  # before the rebuild: a write lost during it bumps past this and is caught next
    batch = []
    for name in client.scan_iter(match=_CACHE_PATTERN, count=1000):
        batch.append(name)
        if len(batch) == 1000:
            client.unlink(*batch)
            batch = []
    if batch:
        client.unlink(*batch)
    for hook in _HOOKS:
        hook(client)
    client.set(SYNC_KEY, wanted)
    _know(wanted)
    g.redis_generation = wanted
    log.info("redis caught up to generation %s", wanted)
