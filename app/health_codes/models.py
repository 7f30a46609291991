"""Health-code tables: the code (personal data encrypted), its declarations, and the colour-change audit."""
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.ids import random_id
from app.common.time import utcnow
from app.common.types import UTCDateTime
from app.extensions import db

COLOURS = ("green", "yellow", "red")
ID_TYPES = ("cn_resident_id", "hk_macao_permit", "taiwan_permit", "passport")
RELATIONS = ("self", "family")
MAX_CODES_PER_ACCOUNT = 10
_ID = BigInteger().with_variant(Integer, "sqlite")
_ONE_SELF = text("relation = 'self' AND revoked_at IS NULL")  # one live "self" code per account


class HealthCode(db.Model):
    """穗康码: one person's code, held by an account (for the account holder or a family member).

    Name, document number and phone are AES-GCM blobs (aad binds them to this row); `doc_hash` (keyed hash
    of type + number) makes a document unique; `slot` (0..9, unique per account) caps an account at ten live
    codes by constraint. `ref` is the random pseudonym that tokens carry. The colour columns hold the last
    result of the rules (see rules.py), refreshed on every change and when `review_at` passes.
    A withdrawn code keeps only its tombstone: personal data, doc_hash and slot are NULL, revoked_at set."""

    __tablename__ = "health_codes"
    __table_args__ = (
        UniqueConstraint("owner_id", "slot"),
        CheckConstraint(f"slot >= 0 AND slot < {MAX_CODES_PER_ACCOUNT}", name="slot_range"),
        Index("uq_health_codes_one_self", "owner_id", unique=True, postgresql_where=_ONE_SELF, sqlite_where=_ONE_SELF),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, default=random_id)
    owner_id: Mapped[int] = mapped_column(_ID, ForeignKey("users.id"))  # indexed by (owner_id, slot)
    slot: Mapped[int | None] = mapped_column(SmallInteger)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    id_type: Mapped[str] = mapped_column(String(20))
    relation: Mapped[str] = mapped_column(String(10))
    doc_hash: Mapped[str | None] = mapped_column(String(32), unique=True)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_policy: Mapped[str] = mapped_column(String(20))
    colour: Mapped[str] = mapped_column(String(6))
    colour_reason: Mapped[str] = mapped_column(String(32))
    colour_since: Mapped[datetime] = mapped_column(UTCDateTime)
    review_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # the refresh job's queue
    rules_version: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Declaration(db.Model):
    """健康申报: one health declaration for a code (sensitive: erased with the code's personal data)."""

    __tablename__ = "health_declarations"
    __table_args__ = (Index("ix_health_declarations_code_at", "health_code_id", "declared_at"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, default=random_id)
    health_code_id: Mapped[int] = mapped_column(_ID, ForeignKey("health_codes.id", ondelete="CASCADE"))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    temperature_c: Mapped[float] = mapped_column(Numeric(3, 1, asdecimal=False))
    symptoms: Mapped[list] = mapped_column(JSON, default=list)
    risk_area_visit_14d: Mapped[bool]
    case_contact_14d: Mapped[bool]

    # Declared so the unit of work inserts the code before rows that reference it; never loaded.
    health_code: Mapped[HealthCode] = relationship(lazy="raise")


class ColourChange(db.Model):
    """赋码记录: an append-only audit row for every colour decision (a database trigger refuses UPDATE).

    source "official": a health official's decision (input to the rules, even when the colour stays the
    same); source "rules": the rules moved the code (a declaration, a timed change, the first assignment)."""

    __tablename__ = "health_code_colour_changes"
    __table_args__ = (Index("ix_health_code_colour_changes_code_at", "health_code_id", "changed_at"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, default=random_id)
    health_code_id: Mapped[int] = mapped_column(_ID, ForeignKey("health_codes.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(_ID, ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(10))
    from_colour: Mapped[str | None] = mapped_column(String(6))
    to_colour: Mapped[str] = mapped_column(String(6))
    reason_code: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(200))

    health_code: Mapped[HealthCode] = relationship(lazy="raise")  # insert order only, as above
