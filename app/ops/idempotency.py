"""Idempotency-Key: a POST retried with the key of an earlier one answers what that one answered, instead of
doing it again.

Put `@idempotent` right under `@require(...)` (it needs the caller; it must see the finished response):

    @blp.route("/reports", methods=["POST"])
    @require("organiser")
    @idempotent
    @blp.arguments(ReportCreate)
    @blp.response(201, ReportRead)
    def create_report(data): ...

Keys are scoped per account. The first request with a key claims it (a row committed before the view runs);
its answer (any status below 500, with its `Location`) is stored on the row. The same key with the same request
(method, path and body: JSON compared by value, a multipart upload by its bytes whatever boundary the client drew)
replays that answer with `Idempotent-Replayed: true`; with another request it is 422
`idempotency_conflict`; while the first is still running, 409 `idempotency_in_progress`. A view that raises
releases the key, so a retry runs again (nothing was done). Answers are kept IDEMPOTENCY_TTL_HOURS, then purged
(`flask ops purge`)."""
import hashlib
import json
from datetime import timedelta
from functools import wraps

from flask import Response, current_app, make_response, request
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from app.common.caller import current_user
from app.common.time import utcnow
from app.common.upsert import insert
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.ops import metrics
from app.ops.models import IdempotentRequest

HEADER = "Idempotency-Key"
STALE_CLAIM = timedelta(seconds=90)  # longer than gunicorn's timeout: a claim this old lost its request
_DOC = {"in": "header", "name": HEADER, "required": False, "schema": {"type": "string", "maxLength": 255},
        "description": "重试时携带同一个键：同键同内容返回首次结果，同键不同内容返回 422 idempotency_conflict"}


def idempotent(view):
    """Decorate a POST view (under `@require`) to honour the Idempotency-Key header."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        _check(key)
        account_id, fingerprint = int(current_user.id), _fingerprint()
        replay = _claim(account_id, key, fingerprint)
        if replay is not None:
            return replay
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            _release(account_id, key)
            raise
        if response.status_code >= 500:
            _release(account_id, key)
        else:
            _store(account_id, key, response)
        return response

    doc = getattr(wrapper, "_apidoc", {})
    doc.setdefault("manual_doc", {}).setdefault("parameters", []).append(_DOC)
    wrapper._apidoc = doc
    return wrapper


def _check(key: str) -> None:
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise ValidationFailed("idempotency_key_invalid", "Idempotency-Key 应为 1 到 255 个可见 ASCII 字符",
                               errors={"headers": {HEADER: ["无效的幂等键"]}})


def _fingerprint() -> str:
    """What makes two requests the same: method, path and body (JSON compared by value, key order aside; a
    multipart body with its boundary, which a client draws afresh for each attempt, set aside)."""
    body = request.get_json(silent=True)
    if body is not None:
        raw = json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
    else:
        raw = request.get_data()
        boundary = request.mimetype_params.get("boundary") if request.mimetype.startswith("multipart/") else None
        if boundary:
            raw = raw.replace(b"--" + boundary.encode("latin-1"), b"--")
    return hashlib.sha256(f"{request.method} {request.path}\n".encode() + raw).hexdigest()


def _claim(account_id: int, key: str, fingerprint: str) -> Response | None:
    """Claim the key for this request (None), or the stored answer to replay; raises on a conflict."""
    now = utcnow()
    expires = now + timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])
    values = {"fingerprint": fingerprint, "status": None, "body": None, "created_at": now, "expires_at": expires}
    mine = IdempotentRequest.account_id == account_id, IdempotentRequest.key == key
    claimed = db.session.execute(insert(IdempotentRequest).values(account_id=account_id, key=key, **values)
                                 .on_conflict_do_nothing(index_elements=["account_id", "key"])
                                 .returning(IdempotentRequest.key)).first() is not None  # rowcount: -1 on PostgreSQL
    if not claimed:  # seen before: take it over only if it expired or its request died before answering
        lapsed = or_(IdempotentRequest.expires_at <= now,
                     and_(IdempotentRequest.status.is_(None), IdempotentRequest.created_at <= now - STALE_CLAIM))
        claimed = db.session.execute(update(IdempotentRequest).where(*mine, lapsed).values(**values)).rowcount
    db.session.commit()
    if claimed:
        return None
    seen = db.session.execute(select(IdempotentRequest).where(*mine)).scalar_one()
    if seen.fingerprint != fingerprint:
        raise ValidationFailed("idempotency_conflict", "该幂等键已用于另一个请求")
    if seen.status is None:
        raise Conflict("idempotency_in_progress", "相同的请求正在处理，请稍后重试")
    metrics.IDEMPOTENT_REPLAYS.inc()
    headers = {"Idempotent-Replayed": "true"} | ({"Location": seen.location} if seen.location else {})
    return Response(seen.body, status=seen.status, mimetype="application/json", headers=headers)


def _store(account_id: int, key: str, response: Response) -> None:
    db.session.rollback()  # whatever the view left open; its own work is committed
    db.session.execute(update(IdempotentRequest)
                       .where(IdempotentRequest.account_id == account_id, IdempotentRequest.key == key)
                       .values(status=response.status_code, body=response.get_data(),
                               location=response.headers.get("Location")))
    db.session.commit()


def _release(account_id: int, key: str) -> None:
    try:
        db.session.rollback()
        db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.account_id == account_id,
                                                           IdempotentRequest.key == key,
                                                           IdempotentRequest.status.is_(None)))
        db.session.commit()
    except SQLAlchemyError:  # the database is away (the view's error says so): the claim lapses after STALE_CLAIM
        db.session.rollback()


def count_expired() -> int:
    """Stored answers past their time, waiting for `flask ops purge` (a growing count: the cron job is not running)."""
    return db.session.scalar(select(func.count()).select_from(IdempotentRequest)
                             .where(IdempotentRequest.expires_at < utcnow()))


def purge_expired() -> int:
    """Delete stored answers past their time (no commit)."""
    return db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.expires_at < utcnow())).rowcount
