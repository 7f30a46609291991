"""Rate limits counted per signed-in account rather than per address (one office NAT is many people)."""
from flask import current_app
from flask_jwt_extended import current_user

from app.extensions import limiter


def per_account(setting: str):
    """flask-limiter's limit read from the config `setting`, keyed by the caller's account: place it below
    `@require`, which knows the caller. Each route counts on its own."""
    return limiter.limit(lambda: current_app.config[setting], key_func=lambda: f"account:{current_user.id}")


def _caller() -> str:
    """The signed-in account, or for a request that came by a signed URL (no account), its address."""
    try:
        return f"account:{current_user.id}"
    except (RuntimeError, AttributeError):
        from flask_limiter.util import get_remote_address

        return f"address:{get_remote_address()}"


def per_caller(setting: str):
    """Like per_account, for routes also reached by a signed URL without an account (images)."""
    return limiter.limit(lambda: current_app.config[setting], key_func=_caller)
