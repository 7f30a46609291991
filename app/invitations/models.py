"""Invitations: someone asks an account to take a place; nothing changes for the invitee until they accept."""
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.common.ids import random_id
from app.common.time import utcnow
from app.common.types import UTCDateTime, code_string
from app.extensions import db

ID = BigInteger().with_variant(Integer, "sqlite")
KINDS = ("group", "venue_staff")
STATUSES = ("pending", "accepted", "declined")


class Invitation(db.Model):
    """邀请: a place (kind + target id) offered to one account; one row per place and invitee, re-used when
    the invitation is sent again after a decline."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("kind", "target_id", "invitee_id"),
                      Index("ix_invitations_invitee_status_created", "invitee_id", "status", "created_at", "id"),
                      CheckConstraint("kind IN ('group', 'venue_staff')", name="kind"),
                      CheckConstraint("status IN ('pending', 'accepted', 'declined')", name="status"))

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False, default=random_id)
    kind: Mapped[str] = mapped_column(String(12))
    target_id: Mapped[int] = mapped_column(BigInteger)
    target_name: Mapped[str] = mapped_column(String(100))
    area_code: Mapped[str] = mapped_column(code_string(14))
    invitee_id: Mapped[int] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"))
    invited_by: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
