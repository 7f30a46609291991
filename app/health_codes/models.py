"""Health-code tables: the person (who carries the colour), the code (one account's link to a person, personal data
encrypted), the declarations, and the colour-change audit."""
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
_ONE_SELF = text("relation = 'self' AND revoked_at IS NULL")  # one live "self" code per account, and per person
_LIVE = text("revoked_at IS NULL")
_NOT_GREEN = text("colour <> 'green'")


class Person(db.Model):
    """持码人: the person a document names, who carries the colour whichever account's code shows it.

    Keyed by `doc_hash`, the blind index of the normalised document (type + number). Holds the colour state (the
    rules' last verdict, see state.py); declarations and official decisions are rows of the person's codes. It
    outlives its codes while not green (PIPL Art. 13(4)), and is erased once green with no code for the retention
    period (`flask health-codes erase`); `unlinked_at` says since when it has had no live code."""

    __tablename__ = "health_persons"
    # Only the persons who are not green: colour counts read yellow and red past the green majority.
    __table_args__ = (Index("ix_health_persons_not_green", "colour", postgresql_where=_NOT_GREEN,
                            sqlite_where=_NOT_GREEN),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, default=random_id)
    doc_hash: Mapped[str] = mapped_column(String(32), unique=True)
    id_type: Mapped[str] = mapped_column(String(20))
    colour: Mapped[str] = mapped_column(String(6))
    colour_reason: Mapped[str] = mapped_column(String(32))
    colour_since: Mapped[datetime] = mapped_column(UTCDateTime)
    review_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # the refresh job's queue
    rules_version: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    unlinked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # the erasure job's queue


class HealthCode(db.Model):
    """穗康码: one account's link to a person, for the account holder (`self`) or a family member (`family`).

    Name, document number and phone are AES-GCM blobs (aad binds them to this row); the colour is the person's.
    A person has at most one live self code (constraint) and one live code per account; `slot` (0..9, unique per
    account) caps an account at ten live codes. `ref` is the random pseudonym that tokens carry. `verified_at` is
    when the identity provider matched the holder; a code from before verification has `verify_by`, after which
    it gets no new token until verified. A withdrawn code keeps only its tombstone (personal data and slot NULL,
    revoked_at set, still naming the person) until the person is erased."""

    __tablename__ = "health_codes"
    __table_args__ = (
        UniqueConstraint("owner_id", "slot"),
        CheckConstraint(f"slot >= 0 AND slot < {MAX_CODES_PER_ACCOUNT}", name="slot_range"),
        Index("uq_health_codes_one_self", "owner_id", unique=True, postgresql_where=_ONE_SELF, sqlite_where=_ONE_SELF),
        Index("uq_health_codes_person_self", "person_id", unique=True, postgresql_where=_ONE_SELF,
              sqlite_where=_ONE_SELF),
        Index("uq_health_codes_person_owner", "person_id", "owner_id", unique=True, postgresql_where=_LIVE,
              sqlite_where=_LIVE),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, default=random_id)
    owner_id: Mapped[int] = mapped_column(_ID, ForeignKey("users.id"))  # indexed by (owner_id, slot)
    slot: Mapped[int | None] = mapped_column(SmallInteger)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    person_id: Mapped[int | None] = mapped_column(_ID, ForeignKey("health_persons.id"), index=True)
    id_type: Mapped[str] = mapped_column(String(20))
    relation: Mapped[str] = mapped_column(String(10))
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_policy: Mapped[str] = mapped_column(String(20))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verify_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Loaded lazily (or by an explicit join on hot paths); never for update: the person row is locked by itself.
    person: Mapped[Person | None] = relationship()

    @property
    def colour(self) -> str | None:
        """The person's colour: every code of a person shows the same (None once the person is erased)."""
        return self.person.colour if self.person else None

    @property
    def colour_reason(self) -> str | None:
        return self.person.colour_reason if self.person else None

    @property
    def review_at(self) -> datetime | None:
        return self.person.review_at if self.person else None

    @property
    def rules_version(self) -> str | None:
        return self.person.rules_version if self.person else None


class Declaration(db.Model):
    """健康申报: one health declaration, made through one of a person's codes (sensitive: erased when the person
    is green with no code left, or with the person)."""

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
    __table_args__ = (Index("ix_health_code_colour_changes_code_at", "health_code_id", "changed_at"),
                      # colour counts walk the rows of a period by day
                      Index("ix_health_code_colour_changes_changed_at", "changed_at"))

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
