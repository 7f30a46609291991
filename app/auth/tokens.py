"""JWT issue, refresh rotation with reuse detection, and revocation (database, cached in Redis)."""
import logging
import uuid
from datetime import timedelta

from flask import current_app, g
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.auth.models import RefreshToken, RevokedToken, User
from app.common.cache import on_reconnect, redis_client
from app.common.time import utcnow
from app.errors import Unauthorized
from app.extensions import db, jwt

log = logging.getLogger("jiefang.auth")
_WARM_KEY = "revoked:warm"
# A revocation made while Redis was away is only in the database, and Redis may come back with its old data
# (a network cut, not a restart) still marked warm: make it re-warm from the database first.
on_reconnect(lambda client: client.delete(_WARM_KEY))


def issue_pair(user: User, family: str | None = None) -> dict:
    """A new access + refresh token pair; the refresh token is recorded so it can be used once.

    A pair from a sign-in (no family yet) is fresh; one from a refresh is not."""
    fresh = family is None
    family = family or str(uuid.uuid4())
    claims = {"fam": family}
    access = create_access_token(identity=str(user.id), additional_claims=claims, fresh=fresh)
    refresh = create_refresh_token(identity=str(user.id), additional_claims=claims)
    payload = decode_token(refresh)
    db.session.add(RefreshToken(jti=payload["jti"], family=family, user_id=user.id,
                                expires_at=utcnow() + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]))
    return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
            "expires_in": int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())}


def rotate(jwt_payload: dict, user: User) -> dict:
    """Use a refresh token once: a second use revokes the whole family (someone copied it)."""
    now = utcnow()
    claimed = db.session.execute(
        update(RefreshToken).where(RefreshToken.jti == jwt_payload["jti"], RefreshToken.used_at.is_(None),
                                   RefreshToken.revoked_at.is_(None)).values(used_at=now)).rowcount
    if claimed != 1:
        revoke_family(jwt_payload.get("fam", ""))
        db.session.commit()
        log.warning("refresh token reuse: family revoked user=%s", user.id)
        raise Unauthorized("token_reused", "登录凭证已失效，请重新登录")
    pair = issue_pair(user, family=jwt_payload.get("fam"))
    db.session.commit()
    return pair


def revoke_family(family: str) -> None:
    """Revoke every refresh token of a family."""
    db.session.execute(update(RefreshToken).where(RefreshToken.family == family,
                                                  RefreshToken.revoked_at.is_(None)).values(revoked_at=utcnow()))


def revoke_access(jwt_payload: dict) -> None:
    """Revoke an access token: the database row is the truth, Redis a cache of it."""
    expires = utcnow() + timedelta(seconds=max(0, jwt_payload["exp"] - int(utcnow().timestamp())))
    if db.session.get(RevokedToken, jwt_payload["jti"]) is None:
        db.session.add(RevokedToken(jti=jwt_payload["jti"], expires_at=expires))
    client = redis_client()
    if client is not None:
        try:
            client.set(f"revoked:{jwt_payload['jti']}", b"1", ex=max(1, jwt_payload["exp"] - int(utcnow().timestamp()) + 60))
        except Exception:  # noqa: BLE001 — Redis is a cache; the database row is already written
            log.warning("redis unavailable while caching a revocation")


def _revoked_in_db(jti: str) -> bool:
    return db.session.execute(select(RevokedToken.jti).where(RevokedToken.jti == jti)).first() is not None


def _warm_redis(client) -> None:
    """Copy live revocations into Redis after it lost them (restart, flush)."""
    now = utcnow()
    rows = db.session.execute(select(RevokedToken.jti, RevokedToken.expires_at)
                              .where(RevokedToken.expires_at > now)).all()
    pipe = client.pipeline()
    for jti, expires_at in rows:
        pipe.set(f"revoked:{jti}", b"1", ex=max(1, int((expires_at - now).total_seconds()) + 60))
    pipe.set(_WARM_KEY, b"1")
    pipe.execute()


def is_access_revoked(jti: str) -> bool:
    """Whether an access token was revoked: Redis when it answers and is warm, else the database."""
    client = redis_client()
    if client is None:
        return _revoked_in_db(jti)
    try:
        hit, warm = client.mget(f"revoked:{jti}", _WARM_KEY)
        if hit:
            return True
        if warm:
            return False
        _warm_redis(client)
    except Exception:  # noqa: BLE001 — Redis down: the database answers
        log.warning("redis unavailable; revocation checked in the database")
    return _revoked_in_db(jti)


def purge_expired() -> int:
    """Delete token rows that have expired anyway."""
    now = utcnow()
    n = db.session.query(RevokedToken).filter(RevokedToken.expires_at < now).delete()
    n += db.session.query(RefreshToken).filter(RefreshToken.expires_at < now).delete()
    db.session.commit()
    return n


@jwt.token_in_blocklist_loader
def _blocklisted(_header, payload) -> bool:
    if payload.get("type") == "refresh":
        return False  # refresh tokens are checked (and reuse detected) by rotate()
    return is_access_revoked(payload["jti"])


@jwt.user_lookup_loader
def _load_user(_header, payload):
    try:
        user_id = int(payload["sub"])
    except (TypeError, ValueError):
        return None
    user = db.session.execute(select(User).options(joinedload(User.grants))
                              .where(User.id == user_id)).unique().scalar_one_or_none()
    if user is None or not user.is_active:
        return None
    g.user_id = user.id
    return user
