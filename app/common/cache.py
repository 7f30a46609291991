"""The Redis client, when REDIS_URL is set; every caller must work on without it."""
import logging
import time

from flask import current_app

log = logging.getLogger("jiefang.cache")


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
    log.warning("redis unavailable while %s; carrying on without it", doing)
