"""Per-account lockout of staff sign-in, on top of the per-IP rate limit: after SIGN_IN_LOCK_AFTER failures in a
row a username is locked, for a time that doubles with each further failure (SIGN_IN_LOCK_SECONDS, up to
SIGN_IN_LOCK_MAX_SECONDS). Usernames are counted whether an account has them or not, under a keyed hash, so a
lockout tells nothing about which usernames exist."""
import hashlib
import hmac
import math
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, delete, update

from app.auth.models import SignInFailure
from app.common.time import utcnow
from app.common.upsert import insert
from app.errors import TooManyRequests
from app.extensions import db

FORGET_AFTER = timedelta(days=1)  # failures older than this no longer count


def _key(username: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"sign-in:" + username.strip().lower().encode(), hashlib.sha256).hexdigest()


def ensure_unlocked(username: str) -> None:
    """Raise TooManyRequests(sign_in_locked) while the username is locked."""
    row = db.session.get(SignInFailure, _key(username))
    now = utcnow()
    if row is not None and row.locked_until is not None and row.locked_until > now:
        wait = max(1, math.ceil((row.locked_until - now).total_seconds()))
        raise TooManyRequests("sign_in_locked", f"登录失败次数过多，请 {wait} 秒后再试",
                              extra={"retry_after": wait}, headers={"Retry-After": str(wait)})


def record_failure(username: str) -> None:
    """Count a failed sign-in (one atomic upsert, committed at once: the request then fails) and lock the username
    when there are too many."""
    cfg, now = current_app.config, utcnow()
    table = SignInFailure.__table__
    fresh = table.c.last_failed_at >= now - FORGET_AFTER
    stmt = insert(table).values(username_hash=_key(username), failures=1, last_failed_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=["username_hash"], set_={
        "failures": case((fresh, table.c.failures + 1), else_=1), "last_failed_at": now,
        "locked_until": case((fresh, table.c.locked_until), else_=None)})
    failures = db.session.execute(stmt.returning(table.c.failures)).scalar_one()
    beyond = failures - cfg["SIGN_IN_LOCK_AFTER"]
    if beyond >= 0:
        seconds = min(cfg["SIGN_IN_LOCK_SECONDS"] * 2 ** min(beyond, 20), cfg["SIGN_IN_LOCK_MAX_SECONDS"])
        db.session.execute(update(SignInFailure).where(SignInFailure.username_hash == _key(username))
                           .values(locked_until=now + timedelta(seconds=seconds)))
    db.session.commit()


def clear(username: str) -> None:
    """Forget a username's failures (a successful sign-in, a password reset); no commit."""
    db.session.execute(delete(SignInFailure).where(SignInFailure.username_hash == _key(username)))
