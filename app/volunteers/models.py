"""Volunteers, their taxonomies, groups (街坊群) and the counters that make city-wide stats cheap.

Interests and service roles are bit masks on the volunteer row: one row per volunteer keeps a 1.31 M import fast,
and search by interest is a keyset scan with a filter (each page costs the same). Interest ids are bits 1..63."""
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.common.ids import random_id
from app.common.time import utcnow
from app.common.types import UTCDateTime, byte_string, code_string
from app.extensions import db

ID = BigInteger().with_variant(Integer, "sqlite")
MAX_INTERESTS = 63  # interest ids are bits of a BIGINT mask


class _Taxonomy:
    """Columns shared by the two taxonomies: a stable code, a Chinese name, seeded (builtin) or admin-made."""

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Trade(_Taxonomy, db.Model):
    """行业 (业缘): a volunteer's line of work."""

    __tablename__ = "trades"


class Interest(_Taxonomy, db.Model):
    """兴趣 (趣缘): what a volunteer likes to do; id n is bit n-1 of Volunteer.interest_mask."""

    __tablename__ = "interests"
    __table_args__ = (CheckConstraint(f"id BETWEEN 1 AND {MAX_INTERESTS}", name="id_range"),)


class Volunteer(db.Model):
    """广州街坊 volunteer. Leaving erases the person (user, name, place, tags) but keeps the row and its id,
    so that service history (patrols) stays, anonymised."""

    __tablename__ = "volunteers"
    # Every look-up is inside an area (a grid-code range), so the grid code leads each index; a bulk import then
    # adds to each in grid order (see bulk.make_batch) instead of at random places.
    __table_args__ = (Index("ix_volunteers_grid_id", "grid_code", "id"),
                      Index("ix_volunteers_trade_grid_id", "trade_id", "grid_code", "id"),
                      Index("ix_volunteers_grid_name", "grid_code", "name_index"))

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False, default=random_id)
    user_id: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    real_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    name_index: Mapped[str | None] = mapped_column(byte_string(32))
    grid_code: Mapped[str | None] = mapped_column(code_string(14))
    trade_id: Mapped[int | None] = mapped_column(SmallInteger, ForeignKey("trades.id"))
    interest_mask: Mapped[int] = mapped_column(BigInteger, default=0)
    service_roles: Mapped[int] = mapped_column(SmallInteger, default=0)
    source: Mapped[str] = mapped_column(String(8), default="self")
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    moved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        return self.left_at is None


class VolunteerCount(db.Model):
    """Exact counts of active volunteers, kept in step in the same transaction as every change.

    dim "total" is kept for every area level (city … grid); "trade", "interest" and "service_role" for the city,
    districts and streets (communities and grids are small enough to count directly)."""

    __tablename__ = "volunteer_counts"

    dim: Mapped[str] = mapped_column(String(12), primary_key=True)
    area_code: Mapped[str] = mapped_column(code_string(14), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class Group(db.Model):
    """街坊群: a group by locality, trade or interest. Automatic groups (one per community, auto_area set) hold
    every volunteer living there without a membership row; only their leaders have rows."""

    __tablename__ = "volunteer_groups"
    __table_args__ = (
        Index("ix_volunteer_groups_area_id", "area_code", "id"),
        CheckConstraint("kind IN ('locality', 'trade', 'interest')", name="kind"),
        CheckConstraint("join_policy IN ('open', 'approval')", name="join_policy"),
        CheckConstraint("(kind = 'trade') = (trade_id IS NOT NULL)", name="trade_kind"),
        CheckConstraint("(kind = 'interest') = (interest_id IS NOT NULL)", name="interest_kind"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False, default=random_id)
    name: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    area_code: Mapped[str] = mapped_column(code_string(14))
    trade_id: Mapped[int | None] = mapped_column(SmallInteger, ForeignKey("trades.id"), index=True)
    interest_id: Mapped[int | None] = mapped_column(SmallInteger, ForeignKey("interests.id"), index=True)
    join_policy: Mapped[str] = mapped_column(String(10), default="open")
    description: Mapped[str] = mapped_column(String(500), default="")
    auto_area: Mapped[str | None] = mapped_column(code_string(14), unique=True)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def auto(self) -> bool:
        return self.auto_area is not None


class GroupMember(db.Model):
    """A volunteer's membership of a group: pending (awaiting approval) or active; member or leader."""

    __tablename__ = "volunteer_group_members"
    __table_args__ = (Index("ix_volunteer_group_members_status", "group_id", "status", "volunteer_id"),
                      CheckConstraint("status IN ('pending', 'active')", name="status"),
                      CheckConstraint("role IN ('member', 'leader')", name="role"))

    group_id: Mapped[int] = mapped_column(ID, ForeignKey("volunteer_groups.id", ondelete="CASCADE"),
                                          primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ID, ForeignKey("volunteers.id", ondelete="CASCADE"),
                                              primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(10))
    role: Mapped[str] = mapped_column(String(10), default="member")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ImportJob(db.Model):
    """An uploaded volunteer file waiting for, or read by, the import worker; its progress and rejected rows.

    The file itself is kept in the row until the job ends (then dropped), so that any process can run it."""

    __tablename__ = "volunteer_import_jobs"
    __table_args__ = (CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state"),
                      Index("ix_volunteer_import_jobs_state", "state", "created_at"))

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False, default=random_id)
    created_by: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    rejected_rows: Mapped[str | None] = mapped_column(Text)  # JSON [[line, [reason, …]], …]
    error: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
