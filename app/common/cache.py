"""Redis when REDIS_URL is set, and a small JSON cache for hot reads that never raises.

Redis is an accelerator here, never the truth: every caller works on without it. When a command fails to
reach Redis, this process marks it away for REDIS_RETRY_SECONDS (so requests do not each wait out a timeout),
logs that once, and `redis_client()` answers None until then. The first command after that pings first and,
when Redis answers, runs the `on_reconnect` hooks before anything else: a cache entry whose invalidation was
lost meanwhile is deleted then, before anyone can read it.

Domains cache like this (and delete the key in the same service call that changes the row, after commit):
    venue = cache.cached(f"venue:{venue_id}", lambda: _venue_dict(venue_id), ttl=60)
    cache.delete(f"venue:{venue_id}")
"""
import json
import logging
import time
from typing import Any, Callable

import redis
from flask import current_app

log = logging.getLogger("jiefang.cache")
PREFIX = "cache:"
DEFAULT_TTL = 60
_PENDING_LIMIT = 10_000
_reconnect_hooks: list[Callable[[redis.Redis], Any]] = []
_logged: set[tuple[str, str]] = set()


class RedisHealth:
    """This process's view of Redis: away since a failure, until the retry delay has passed."""

    def __init__(self, retry_seconds: float):
        self.retry_seconds = retry_seconds
        self.away = False
        self.retry_at = 0.0
        self.lost_deletes: set[str] = set()  # invalidations that did not reach Redis
        self.lost_too_many = False

    def usable(self) -> bool:
        return not self.away or time.monotonic() >= self.retry_at

    def failed(self, exc: Exception) -> None:
        if not self.away:
            log.warning("redis unreachable (%s): working without it, retrying every %.0f s",
                        type(exc).__name__, self.retry_seconds)
        self.away = True
        self.retry_at = time.monotonic() + self.retry_seconds

    def recovered(self, client: redis.Redis) -> None:
        self.away = False
        log.warning("redis reachable again")
        for hook in (_replay_lost_deletes, *_reconnect_hooks):
            try:
                hook(client)
            except redis.RedisError as exc:
                _log_once("reconnect hook", exc)


class GuardedRedis(redis.Redis):
    """A client that records in its `health` whether Redis answered."""

    health: RedisHealth

    def execute_command(self, *args, **options):
        try:
            if self.health.away:
                super().execute_command("PING")
                self.health.recovered(self)
            return super().execute_command(*args, **options)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self.health.failed(exc)
            raise


def init_redis(app) -> None:
    """Create the lazily-connecting client (or None) for this app."""
    client = None
    if app.config.get("REDIS_URL"):
        timeout = app.config["REDIS_TIMEOUT_SECONDS"]
        client = GuardedRedis.from_url(app.config["REDIS_URL"], socket_timeout=timeout,
                                       socket_connect_timeout=timeout, health_check_interval=30)
        client.health = RedisHealth(app.config["REDIS_RETRY_SECONDS"])
    app.extensions["redis"] = client


def redis_client() -> GuardedRedis | None:
    """The app's Redis client; None when Redis is not configured or was found away moments ago."""
    client = current_app.extensions.get("redis")
    if client is None or not client.health.usable():
        return None
    return client


def on_reconnect(hook: Callable[[redis.Redis], Any]) -> None:
    """Run hook(client) whenever this process finds Redis back after losing it (drop what may be stale)."""
    _reconnect_hooks.append(hook)


def _log_once(what: str, exc: Exception) -> None:
    key = (what, type(exc).__name__)
    if key not in _logged:
        _logged.add(key)
        log.warning("redis %s failed (%s); carrying on without the cache", what, type(exc).__name__)


def get_json(key: str) -> Any:
    """The cached value, or None: absent, expired, unreadable, or Redis away."""
    client = redis_client()
    if client is None:
        return None
    try:
        raw = client.get(PREFIX + key)
        return None if raw is None else json.loads(raw)
    except (redis.RedisError, ValueError) as exc:
        _log_once("get", exc)
        return None


def set_json(key: str, value: Any, ttl: int = DEFAULT_TTL) -> None:
    """Cache a JSON-serialisable value for ttl seconds (keep it short: the database stays the truth)."""
    client = redis_client()
    if client is None:
        return
    try:
        client.set(PREFIX + key, json.dumps(value, ensure_ascii=False, separators=(",", ":")), ex=ttl)
    except (redis.RedisError, TypeError, ValueError) as exc:
        _log_once("set", exc)


def delete(*keys: str) -> None:
    """Invalidate entries; when Redis is away the keys are kept and deleted as soon as it is back."""
    client = current_app.extensions.get("redis")
    if client is None or not keys:
        return
    names = [PREFIX + key for key in keys]
    if client.health.usable():
        try:
            client.delete(*names)
            return
        except redis.RedisError as exc:
            _log_once("delete", exc)
    _remember_lost(client.health, names)


def cached(key: str, load: Callable[[], Any], ttl: int = DEFAULT_TTL) -> Any:
    """Read-through: the cached value, else load() (stored for ttl seconds unless it is None)."""
    value = get_json(key)
    if value is None:
        value = load()
        if value is not None:
            set_json(key, value, ttl)
    return value


def _remember_lost(health: RedisHealth, names: list[str]) -> None:
    if len(health.lost_deletes) + len(names) > _PENDING_LIMIT:
        health.lost_too_many = True
        health.lost_deletes.clear()
    elif not health.lost_too_many:
        health.lost_deletes.update(names)


def _replay_lost_deletes(client: redis.Redis) -> None:
    """Delete what could not be invalidated while Redis was away (all cache entries if that was too many)."""
    health = client.health
    if health.lost_too_many:
        for batch in _batches(client.scan_iter(match=PREFIX + "*", count=1000), 1000):
            client.unlink(*batch)
    elif health.lost_deletes:
        client.delete(*health.lost_deletes)
    health.lost_deletes.clear()
    health.lost_too_many = False


def _batches(items, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
