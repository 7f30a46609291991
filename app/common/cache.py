"""Redis when REDIS_URL is set, and a small JSON cache for hot reads that never raises.

Redis is an accelerator here, never the truth: every caller works on without it. After a Redis error this
process leaves Redis alone for REDIS_PAUSE_SECONDS (`redis_client()` answers None meanwhile), so a dead or
frozen Redis costs one short timeout, not one per request.

Domains cache like this, and delete the key in the service call that changes the row, after its commit:
    area = cache.cached(f"area:{code}", lambda: _area_dict(code), ttl=60)
    cache.delete(f"area:{code}")
An invalidation that cannot reach Redis is recorded in the database (`app.ops.sync.mark_behind`): until Redis
has caught up (every entry dropped), no process reads the cache, so an entry that outlived a network cut is not
served stale. `forget_on_change(Model, keys_of)` deletes keys after
any commit that changed such a row through the ORM; writes that bypass the ORM delete their keys themselves.

A hot view can name the keys it will read with `@prefetch(keys_of)` above `@require` (`app.api.hot_route`
puts it there): the auth layer then reads them in the same round trip as the token's revocation check, and
`fetched(key)` hands them out.
"""
import json
import logging
import time
from functools import wraps
from itertools import chain
from typing import Any, Callable

from flask import current_app, g, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.ops import metrics, sync

log = logging.getLogger("jiefang.cache")
PREFIX = "cache:"
DEFAULT_TTL = 60


def connect(url: str):
    """A lazily-connecting client with short timeouts: a slow Redis must not hold requests up."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2, health_check_interval=30)


def init_redis(app) -> None:
    """Create this app's client (or None without REDIS_URL)."""
    app.extensions["redis"] = connect(app.config["REDIS_URL"]) if app.config.get("REDIS_URL") else None


def redis_client():
    """The app's Redis client; None when Redis is not configured or failed in the last REDIS_PAUSE_SECONDS."""
    if current_app.extensions.get("redis_paused_until", 0.0) > time.monotonic():
        return None
    return current_app.extensions.get("redis")


def redis_failed(doing: str) -> None:
    """Report a Redis error: for a few seconds callers get None (and use the database) instead of waiting on it."""
    current_app.extensions["redis_paused_until"] = time.monotonic() + current_app.config["REDIS_PAUSE_SECONDS"]
    metrics.REDIS_FALLBACKS.labels("unreachable").inc()
    log.warning("redis unavailable while %s; carrying on without it", doing)


def _get_raw(key: str) -> bytes | None:
    """The stored bytes (prefetched in this request if they were), or None: absent, or Redis away."""
    raw = fetched(key)
    if was_fetched(raw):
        return raw
    client = ready_client()
    if client is None:
        return None
    try:
        return client.get(PREFIX + key)
    except RedisError:
        redis_failed("reading the cache")
        return None


def get_json(key: str) -> Any:
    """The cached value, or None: absent, expired, unreadable, or Redis away."""
    raw = _get_raw(key)
    try:
        return None if raw is None else json.loads(raw)
    except ValueError:
        log.warning("unreadable cache entry dropped")
        delete(key)
        return None


def set_json(key: str, value: Any, ttl: int = DEFAULT_TTL) -> None:
    """Cache a JSON-serialisable value for ttl seconds (keep it short: the database stays the truth)."""
    # a TypeError here is a caller's bug
    set_text(key, json.dumps(value, ensure_ascii=False, separators=(",", ":")), ttl)


def set_text(key: str, value: str, ttl: int = DEFAULT_TTL) -> None:
    """Cache a plain string (a format its reader parses itself) for ttl seconds."""
    client = ready_client()
    if client is None:
        return
    try:
        client.set(PREFIX + key, value, ex=ttl)
    except RedisError:
        redis_failed("writing the cache")


def set_texts(values: dict[str, str], ttl: int = DEFAULT_TTL) -> None:
    """set_text for several keys in one round trip."""
    client = ready_client()
    if client is None or not values:
        return
    try:
        pipe = client.pipeline(transaction=False)
        for key, value in values.items():
            pipe.set(PREFIX + key, value, ex=ttl)
        pipe.execute()
    except RedisError:
        redis_failed("writing the cache")


def delete(*keys: str) -> None:
    """Invalidate entries; when Redis is away, record that it is behind (no process reads it until caught up)."""
    if current_app.extensions.get("redis") is None or not keys:
        return
    client = redis_client()  # a delete is safe even while Redis is behind: it need not be caught up first
    if client is not None:
        try:
            client.delete(*[PREFIX + key for key in keys])
            return
        except RedisError:
            redis_failed("invalidating the cache")
    sync.mark_behind("invalidating the cache")


def cached(key: str, load: Callable[[], Any], ttl: int = DEFAULT_TTL) -> Any:
    """Read-through: the cached value, else load() (stored for ttl seconds unless it is None)."""
    value = get_json(key)
    if value is None:
        value = load()
        if value is not None:
            set_json(key, value, ttl)
    return value


def ready_client():
    """The client when Redis answers and holds every write the database does (`app.ops.sync`); else None."""
    client = redis_client()
    if client is None:
        return None
    try:
        return client if sync.caught_up(client) else None
    except RedisError:
        redis_failed("checking the cache generation")
        return None


# ---- prefetch: a view's cache keys read in the auth layer's round trip --------------------------------------

_NOT_FETCHED = object()


def prefetch(keys_of: Callable[..., list[str]]):
    """Decorate a view (above `@require`): keys_of(**view_args) names the cache keys it will read."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            for key in keys_of(**kwargs):
                want(key)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def prefetch_for_caller(keys_of: Callable[..., list[str]]):
    """Like `prefetch`, for keys that name the caller: keys_of(caller_id, **view_args), asked once the auth layer
    has read the caller's id from the token (`want_for_caller`). keys_of may read the request body; it must not
    raise on any body (the view's schema refuses a bad one afterwards)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            g.cache_prefetch_caller = lambda caller_id: keys_of(caller_id, **kwargs)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def want_for_caller(caller_id: int) -> None:
    """Queue the keys a `prefetch_for_caller` view names for this caller (called by the auth layer)."""
    keys_of = g.pop("cache_prefetch_caller", None)
    if keys_of is not None:
        for key in keys_of(caller_id):
            want(key)


def want(key: str) -> None:
    """Queue a key for the auth layer's round trip in this request (the view's, or the caller's account)."""
    g.setdefault("cache_prefetch", []).append(PREFIX + key)


def queued() -> list[str]:
    """The (prefixed) keys queued for this request's round trip."""
    return g.get("cache_prefetch") or []


def keep_fetched(names: list[str], values: list) -> None:
    """Record what a round trip read for queued() keys."""
    g.cache_fetched = dict(zip(names, values))


def fetched(key: str):
    """The raw value read for a prefetched key (None: not in Redis), or a sentinel when it was not read in this
    request (test it with `was_fetched`)."""
    return (g.get("cache_fetched") or {}).get(PREFIX + key, _NOT_FETCHED)


def was_fetched(value) -> bool:
    return value is not _NOT_FETCHED


def get_text(key: str) -> str | None:
    """A cached plain string (prefetched in this request if it was), or None."""
    raw = _get_raw(key)
    return raw.decode() if isinstance(raw, bytes) else raw


# ---- invalidation on ORM changes -----------------------------------------------------------------------------

_WATCHED: dict[type, Callable[[Any], list[str]]] = {}
_CHANGED = "jiefang_cache_changed"


def forget_on_change(model: type, keys_of: Callable[[Any], list[str]]) -> None:
    """After a commit that inserted, changed or deleted a `model` row through the ORM, delete keys_of(row)."""
    _WATCHED[model] = keys_of


@event.listens_for(Session, "after_flush")
def _note_changes(session, _flush_context) -> None:
    for obj in chain(session.new, session.dirty, session.deleted):
        keys_of = _WATCHED.get(type(obj))
        if keys_of is not None:
            keys = [key for key in keys_of(obj) if key]
            if keys:
                session.info.setdefault(_CHANGED, set()).update(keys)


@event.listens_for(Session, "after_commit")
def _forget_changed(session) -> None:
    keys = session.info.pop(_CHANGED, None)
    if keys and has_app_context():
        delete(*keys)


@event.listens_for(Session, "after_rollback")
def _drop_changed(session) -> None:
    session.info.pop(_CHANGED, None)
