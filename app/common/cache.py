"""The Redis client, when REDIS_URL is set; every caller must work on without it."""
import logging

from flask import current_app

log = logging.getLogger("jiefang.cache")


def init_redis(app) -> None:
    """Create the client lazily-connecting client (or None) for this app."""
    client = None
    if app.config.get("REDIS_URL"):
        import redis

        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_timeout=0.2, socket_connect_timeout=0.2,
                                      health_check_interval=30)
    app.extensions["redis"] = client


def redis_client():
    """The app's Redis client, or None when Redis is not configured."""
    return current_app.extensions.get("redis")
