"""Subscribe-message grants and the outbox."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.common.ids import random_id
from app.common.time import utcnow
from app.common.types import UTCDateTime
from app.extensions import db

ID = BigInteger().with_variant(Integer, "sqlite")
RESULTS = ("accept", "reject", "ban", "filter")  # wx.requestSubscribeMessage's answer per template
STATUSES = ("pending", "sent", "refused", "skipped", "failed")


class SubscribeGrant(db.Model):
    """One user's answer for one template: each `accept` allows one message (一次性订阅), counted in `remaining`."""

    __tablename__ = "subscribe_grants"

    user_id: Mapped[int] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    template_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    last_result: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # WeChat last answered 43101


class OutboxMessage(db.Model):
    """A subscribe message to send, written in the transaction of the event it tells of; `flask outbox deliver`
    sends it (pending → sent | refused (43101) | skipped (no grant left) | failed (after retries))."""

    __tablename__ = "message_outbox"
    __table_args__ = (Index("ix_message_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False, default=random_id)
    user_id: Mapped[int] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    template_id: Mapped[str] = mapped_column(String(64))
    page: Mapped[str] = mapped_column(String(128))
    data: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_errcode: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
