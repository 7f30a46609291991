"""JWT issue, refresh rotation with reuse detection, and revocation (database, cached in Redis)."""
import json
import logging
import uuid
from datetime import datetime, timedelta, timezone

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from redis.exceptions import RedisError
from sqlalchemy import delete, select, update

from app.auth.models import RefreshToken, RevokedToken, User
from app.common import cache
from app.common.cache import redis_client, redis_failed
from app.common.crypto import cipher
from app.common.time import utcnow
from app.common.upsert import insert
from app.errors import Unauthorized
from app.extensions import db
from app.ops import sync

log = logging.getLogger("jiefang.auth")


def issue_pair(user: User, family: str | None = None, *, second_factor: bool = False) -> dict:
    """A new access + refresh token pair; the refresh token is recorded so it can be used once.

    A pair from a sign-in (no family yet) is fresh; one from a refresh is not. `second_factor` (claim `mfa`) says
    the sign-in passed a TOTP check; a refresh carries it on, and tokens without it never act in the roles that
    need one (`_load_user`), whenever those roles were granted."""
    fresh = family is None
    family = family or str(uuid.uuid4())
    claims = {"fam": family, "mfa": True} if second_factor else {"fam": family}
    access = create_access_token(identity=str(user.id), additional_claims=claims, fresh=fresh)
    refresh = create_refresh_token(identity=str(user.id), additional_claims=claims)
    payload = decode_token(refresh)
    db.session.add(RefreshToken(jti=payload["jti"], family=family, user_id=user.id,
                                expires_at=utcnow() + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]))
    return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
            "expires_in": int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())}


def _rejected(error: str) -> Unauthorized:
    messages = {"token_invalid": "登录凭证无效，请重新登录", "token_revoked": "登录凭证已失效，请重新登录",
                "token_reused": "登录凭证已被使用，为保护账号安全请重新登录"}
    return Unauthorized(error, messages[error])


def rotate(jwt_payload: dict, user: User) -> dict:
    """Use a refresh token once: a second use revokes the whole family (someone copied it), except within
    REFRESH_GRACE_SECONDS of the first, when it answers the same new pair (a mini-program's parallel requests)."""
    jti = jwt_payload["jti"]
    claimed = db.session.execute(
        update(RefreshToken).where(RefreshToken.jti == jti, RefreshToken.used_at.is_(None),
                                   RefreshToken.revoked_at.is_(None)).values(used_at=utcnow())).rowcount
    if claimed != 1:
        state = db.session.execute(select(RefreshToken.revoked_at, RefreshToken.used_at, RefreshToken.successor_enc)
                                   .where(RefreshToken.jti == jti)).first()
        db.session.rollback()
        if state is None:
            raise _rejected("token_invalid")
        if state.revoked_at is not None:
            raise _rejected("token_revoked")
        if _within_grace(state.used_at) and state.successor_enc:
            return json.loads(cipher().decrypt(state.successor_enc, _successor_aad(jti)))
        commit_revocations(revoke_family(jwt_payload.get("fam")))
        log.warning("refresh token reuse: family revoked user=%s", user.id)
        raise _rejected("token_reused")
    pair = issue_pair(user, family=jwt_payload.get("fam"), second_factor=bool(jwt_payload.get("mfa")))
    db.session.execute(update(RefreshToken).where(RefreshToken.jti == jti).values(
        successor_enc=cipher().encrypt(json.dumps(pair), _successor_aad(jti))))
    db.session.commit()
    return pair


def _successor_aad(jti: str) -> bytes:
    return b"refresh_successor:" + jti.encode()


def _within_grace(used_at: datetime | None) -> bool:
    grace = current_app.config["REFRESH_GRACE_SECONDS"]
    return used_at is not None and utcnow() - used_at <= timedelta(seconds=grace)


def logout(jwt_payload: dict) -> None:
    """Revoke this access token and every token of its sign-in (the refresh tokens and their access tokens)."""
    entries = [_revoke(jwt_payload["jti"], _expiry(jwt_payload["exp"]))]
    commit_revocations(entries + revoke_family(jwt_payload.get("fam")))


def _expiry(exp: int) -> datetime:
    return datetime.fromtimestamp(exp, timezone.utc) + timedelta(seconds=current_app.config["JWT_DECODE_LEEWAY"])


def _revoke(key: str, expires_at: datetime) -> tuple[str, datetime]:
    """Record a revoked access token (jti) or sign-in (family id); idempotent under concurrency. No commit."""
    db.session.execute(insert(RevokedToken).values(jti=key, expires_at=expires_at)
                       .on_conflict_do_nothing(index_elements=["jti"]))
    return key, expires_at


def revoke_family(family: str | None) -> list[tuple[str, datetime]]:
    """Revoke every refresh token of a sign-in and, for their remaining life, its access tokens. No commit."""
    if not family:
        return []
    now = utcnow()
    db.session.execute(update(RefreshToken).where(RefreshToken.family == family,
                                                  RefreshToken.revoked_at.is_(None)).values(revoked_at=now))
    # An access token of this family was issued at the latest now, so it dies by now + its lifetime.
    lifetime = (current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
                + timedelta(seconds=current_app.config["JWT_DECODE_LEEWAY"]))
    return [_revoke(family, now + lifetime)]


def commit_revocations(entries: list[tuple[str, datetime]]) -> None:
    """Commit revocations to the database (the truth), then cache them in Redis; when Redis cannot take them,
    record that it is behind, so that no process trusts it before it has them (`app.ops.sync`)."""
    db.session.commit()
    if not entries or current_app.extensions.get("redis") is None:
        return
    client = redis_client()
    if client is not None:
        try:
            pipe = client.pipeline(transaction=False)
            _cache(pipe, entries)
            pipe.execute()
            return
        except RedisError:
            redis_failed("caching a revocation")
    sync.mark_behind("caching a revocation")


def _cache(pipe, entries) -> None:
    """Queue revocations on a Redis pipeline, each kept a minute longer than the tokens it revokes."""
    now = utcnow()
    for key, expires_at in entries:
        pipe.set(f"revoked:{key}", b"1", ex=max(1, int((expires_at - now).total_seconds()) + 60))


def _revoked_in_db(keys: list[str]) -> bool:
    return db.session.execute(select(RevokedToken.jti).where(RevokedToken.jti.in_(keys)).limit(1)).first() is not None


def _warm_redis(client) -> None:
    """Copy live revocations into Redis when it is caught up (restart, flush, missed writes)."""
    rows = db.session.execute(select(RevokedToken.jti, RevokedToken.expires_at)
                              .where(RevokedToken.expires_at > utcnow())).all()
    pipe = client.pipeline(transaction=False)
    _cache(pipe, rows)
    pipe.execute()


sync.on_catch_up(_warm_redis)


def is_access_revoked(jti: str, family: str | None = None) -> bool:
    """Whether an access token (or its sign-in) was revoked: Redis when it answers and is caught up with the
    database (`app.ops.sync`), else the database.

    The keys queued with `cache.want` (the caller's principal, the view's `cache.prefetch` keys) are read in the
    same round trip and handed to `cache.fetched`; they are not used when Redis is away or behind."""
    keys = [jti, family] if family else [jti]
    client = redis_client()
    if client is None:
        return _revoked_in_db(keys)
    try:
        extra = cache.queued()
        values = client.mget([f"revoked:{key}" for key in keys] + [sync.SYNC_KEY] + extra)
        fetched = values[len(keys) + 1:]
        *hits, generation = values[:len(keys) + 1]
        if any(hits):
            return True
        if sync.trusted(generation):
            if extra:
                cache.keep_fetched(extra, fetched)
            return False
        if sync.caught_up(client, generation) and extra:  # just caught up: every cache entry is gone
            cache.keep_fetched(extra, [None] * len(extra))
    except RedisError:
        redis_failed("checking a revocation")
    return _revoked_in_db(keys)


def purge_expired() -> dict[str, int]:
    """Delete token rows that have expired anyway (no commit)."""
    now = utcnow()
    return {"revoked_tokens": db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now)).rowcount,
            "refresh_tokens": db.session.execute(delete(RefreshToken).where(RefreshToken.expires_at < now)).rowcount}
