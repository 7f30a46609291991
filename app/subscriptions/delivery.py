"""`flask outbox deliver`: send due outbox messages through message/subscribe/send, with retries and backoff.

Per message: no WeChat identity or no grant left → skipped; sent → the grant counts down; 43101 (the user refuses,
or WeChat counts no grant) → refused, recorded on the message and the grant, nothing used up; an errcode that will
not change (bad openid, template, page, data) → failed; anything else (WeChat busy, rate limit, network) → tried
again after RETRY_BASE_SECONDS × 2^(attempts-1), at most MAX_ATTEMPTS times."""
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from app.auth import service as auth_service
from app.common import time as clock
from app.common import wechat_api
from app.common.upsert import is_postgres
from app.errors import AppError
from app.extensions import db
from app.subscriptions import service
from app.subscriptions.models import OutboxMessage

log = logging.getLogger("jiefang.outbox")
REFUSED = 43101
PERMANENT = {40003, 40037, 41030, 47003, 43107}
MAX_ATTEMPTS = 6
RETRY_BASE_SECONDS = 30
RETRY_CAP_SECONDS = 3600


def _send(openid: str, message: OutboxMessage) -> None:
    """Hand one message to WeChat (or, with the fake backend, to the log); WeChatError/AppError on failure."""
    body = {"touser": openid, "template_id": message.template_id, "page": message.page, "data": message.data,
            "miniprogram_state": current_app.config["WECHAT_MINIPROGRAM_STATE"], "lang": "zh_CN"}
    if not wechat_api.configured():
        current_app.extensions.setdefault("fake_subscribe_sent", []).append(body)
        log.info("fake subscribe message kind=%s", message.kind)
        return
    wechat_api.call("/cgi-bin/message/subscribe/send", body)


def _retry(message: OutboxMessage, errcode: int | None, now) -> str:
    message.attempts += 1
    message.last_errcode = errcode
    if message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
        return "failed"
    delay = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** (message.attempts - 1))
    message.next_attempt_at = now + timedelta(seconds=delay)
    return "retried"


def _deliver_one(message: OutboxMessage, now) -> str:
    openid = auth_service.openid_of(message.user_id)
    if openid is None or not service.has_grant(message.user_id, message.template_id):
        message.status = "skipped"
        return "skipped"
    try:
        _send(openid, message)
    except wechat_api.WeChatError as exc:
        if exc.errcode == REFUSED:
            message.status, message.last_errcode, message.attempts = "refused", REFUSED, message.attempts + 1
            service.note_refused(message.user_id, message.template_id, now)
            return "refused"
        if exc.errcode in PERMANENT:
            message.status, message.last_errcode, message.attempts = "failed", exc.errcode, message.attempts + 1
            return "failed"
        return _retry(message, exc.errcode, now)
    except AppError:
        return _retry(message, None, now)
    service.use_grant(message.user_id, message.template_id)
    message.status, message.sent_at, message.attempts = "sent", now, message.attempts + 1
    return "sent"


def deliver(*, limit: int = 100) -> dict[str, int]:
    """Send up to `limit` due messages, each in its own transaction; counts by outcome."""
    counts = {"sent": 0, "refused": 0, "skipped": 0, "failed": 0, "retried": 0}
    query = select(OutboxMessage).where(OutboxMessage.status == "pending",
                                        OutboxMessage.next_attempt_at <= clock.utcnow()) \
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(1)
    if is_postgres():
        query = query.with_for_update(skip_locked=True)  # several workers share the queue
    for _ in range(limit):
        message = db.session.execute(query).scalar_one_or_none()
        if message is None:
            break
        outcome = _deliver_one(message, clock.utcnow())
        db.session.commit()
        counts[outcome] += 1
    return counts


def backlog() -> dict:
    """The outbox's backlog, for a metric: pending messages, how many are due, the oldest one's age, failures."""
    now = clock.utcnow()
    pending = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    oldest = db.session.execute(select(func.min(OutboxMessage.created_at))
                                .where(OutboxMessage.status == "pending")).scalar()
    return {"pending": db.session.execute(pending).scalar(),
            "due": db.session.execute(pending.where(OutboxMessage.next_attempt_at <= now)).scalar(),
            "oldest_pending_seconds": int((now - oldest).total_seconds()) if oldest else 0,
            "failed": db.session.execute(select(func.count()).select_from(OutboxMessage)
                                         .where(OutboxMessage.status == "failed")).scalar()}
