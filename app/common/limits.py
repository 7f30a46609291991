"""Rate limits: counted per signed-in account rather than per address (one office NAT is many people), and
keeping their strength while Redis is away.

With Redis every worker counts in it, so a limit holds for the whole server. Without it flask-limiter counts in
each worker's memory, which would let N workers admit N times the limit; `shared(name)` then gives each worker
its share (the limit divided by RATELIMIT_WORKERS, at least 1), so that together they still admit no more than
the configured limit. Counts made in Redis before it went away are not carried into memory."""
from typing import Callable

from flask import current_app
from limits import parse_many

from app.common.caller import current_user
from app.extensions import limiter


def share(spec: str, workers: int) -> str:
    """Each worker's share of a limit such as "20 per minute;100 per day"."""
    if workers <= 1:
        return spec
    return ";".join(str(type(item)(max(1, item.amount // workers), item.multiples, item.namespace))
                    for item in parse_many(spec))


def counting_alone() -> bool:
    """Whether this worker counts in its own memory because the limiter's Redis is away."""
    return limiter.limiter.storage is not limiter.storage


def shared(config_name: str) -> Callable[[], str]:
    """A flask-limiter limit provider: the configured limit, or this worker's share while it counts alone."""

    def provider() -> str:
        spec = current_app.config[config_name]
        return share(spec, current_app.config["RATELIMIT_WORKERS"]) if counting_alone() else spec

    return provider


def per_account(setting: str):
    """flask-limiter's limit read from the config `setting`, keyed by the caller's account: place it below
    `@require`, which knows the caller. Each route counts on its own; the limit holds while Redis is away."""
    return limiter.limit(shared(setting), key_func=lambda: f"account:{current_user.id}")


def _caller() -> str:
    """The signed-in account, or for a request that came by a signed URL (no account), its address."""
    try:
        return f"account:{current_user.id}"
    except (RuntimeError, AttributeError):
        from flask_limiter.util import get_remote_address

        return f"address:{get_remote_address()}"


def per_caller(setting: str):
    """Like per_account, for routes also reached by a signed URL without an account (images)."""
    return limiter.limit(shared(setting), key_func=_caller)
