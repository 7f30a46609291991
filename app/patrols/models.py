"""Patrols, sign-ups, attendance, certified hours, the points ledger with its per-period summaries, notifications.

Hours are kept as integer tenths (15 = 1.5 h) and points as integers: exact on every database, sums included."""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.common.ids import random_id
from app.common.time import utcnow
from app.common.types import UTCDateTime, code_string
from app.extensions import db

ID = BigInteger().with_variant(Integer, "sqlite")
VOLUNTEER = "volunteers.id"


@dataclass(frozen=True)
class LatLng:
    """A point (GCJ-02)."""

    lat: float
    lng: float


class Patrol(db.Model):
    """巡逻: a group's patrol in a community or grid, with seats, a meeting point and a geofence."""

    __tablename__ = "patrols"
    __table_args__ = (
        Index("ix_patrols_starts_at_id", "starts_at", "id"),
        Index("ix_patrols_group_starts_at", "group_id", "starts_at", "id"),
        Index("ix_patrols_area_starts_at", "area_code", "starts_at", "id"),
        Index("ix_patrols_status_ends_at", "status", "ends_at"),
        CheckConstraint("active_count >= 0 AND active_count <= capacity", name="seats"),
        CheckConstraint("status IN ('scheduled', 'cancelled', 'closed')", name="status"),
        CheckConstraint("ends_at > starts_at", name="times"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False, default=random_id)
    group_id: Mapped[int] = mapped_column(ID, ForeignKey("volunteer_groups.id"))
    area_code: Mapped[str] = mapped_column(code_string(14))
    title: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(String(1000), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    meeting_lat: Mapped[float] = mapped_column(Float)
    meeting_lng: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[int] = mapped_column(Integer, default=200)
    capacity: Mapped[int] = mapped_column(Integer)
    points_per_hour: Mapped[int] = mapped_column(Integer, default=10)
    active_count: Mapped[int] = mapped_column(Integer, default=0)
    waitlist_seq: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def meeting_point(self) -> LatLng:
        return LatLng(self.meeting_lat, self.meeting_lng)


class Signup(db.Model):
    """报名: a volunteer's place on a patrol: active (a seat), waitlisted (in line, by position) or cancelled.

    The patrol's times are copied here so that the overlap check is one index range on the volunteer."""

    __tablename__ = "patrol_signups"
    __table_args__ = (
        UniqueConstraint("patrol_id", "volunteer_id"),
        Index("ix_patrol_signups_queue", "patrol_id", "status", "position"),
        Index("ix_patrol_signups_volunteer_starts", "volunteer_id", "starts_at"),
        Index("ix_patrol_signups_patrol_user", "patrol_id", "user_id"),
        CheckConstraint("status IN ('active', 'waitlisted', 'cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False, default=random_id)
    patrol_id: Mapped[int] = mapped_column(ID, ForeignKey("patrols.id"))
    volunteer_id: Mapped[int] = mapped_column(ID, ForeignKey(VOLUNTEER))
    user_id: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10))
    position: Mapped[int | None] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attendance(db.Model):
    """签到记录: one volunteer at one patrol, from check-in to check-out; hours recorded at check-out."""

    __tablename__ = "patrol_attendances"
    __table_args__ = (UniqueConstraint("patrol_id", "volunteer_id"),
                      Index("ix_patrol_attendances_volunteer", "volunteer_id", "checked_in_at"),
                      CheckConstraint("review IN ('pending', 'done')", name="review"))

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False, default=random_id)
    patrol_id: Mapped[int] = mapped_column(ID, ForeignKey("patrols.id"))
    volunteer_id: Mapped[int] = mapped_column(ID, ForeignKey(VOLUNTEER))
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checkin_lat: Mapped[float] = mapped_column(Float)
    checkin_lng: Mapped[float] = mapped_column(Float)
    checkin_accuracy_m: Mapped[int] = mapped_column(Integer, default=0)
    checkin_distance_m: Mapped[int] = mapped_column(Integer)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checkout_lat: Mapped[float | None] = mapped_column(Float)
    checkout_lng: Mapped[float | None] = mapped_column(Float)
    checkout_distance_m: Mapped[int | None] = mapped_column(Integer)
    auto_checkout: Mapped[bool] = mapped_column(Boolean, default=False)
    hours_tenths: Mapped[int | None] = mapped_column(SmallInteger)
    certified_tenths: Mapped[int | None] = mapped_column(SmallInteger)
    certifications: Mapped[int] = mapped_column(SmallInteger, default=0)
    # "pending": checked out far outside the geofence, no hours until an organiser of the area certifies them
    # (with a reason: the review); then "done". NULL: nothing to review.
    review: Mapped[str | None] = mapped_column(String(8))


class HoursCertification(db.Model):
    """工时认证 (谁记录谁证明): who certified how many hours of an attendance and why. Never edited: a
    correction is the next entry (seq + 1), and the ledger reverses the points of the one before."""

    __tablename__ = "patrol_hours_certifications"
    __table_args__ = (UniqueConstraint("attendance_id", "seq"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False, default=random_id)
    attendance_id: Mapped[int] = mapped_column(ID, ForeignKey("patrol_attendances.id"))
    seq: Mapped[int] = mapped_column(SmallInteger)
    hours_tenths: Mapped[int] = mapped_column(SmallInteger)
    recorded_tenths: Mapped[int] = mapped_column(SmallInteger)
    reason: Mapped[str | None] = mapped_column(String(200))
    certified_by: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointsEntry(db.Model):
    """积分流水: one line of the append-only points ledger (certified hours, a reversal, a grant); lines for a
    patrol carry its group, whose board they count on."""

    __tablename__ = "points_entries"
    __table_args__ = (Index("ix_points_entries_volunteer_created", "volunteer_id", "created_at", "id"),
                      CheckConstraint("kind IN ('hours', 'reversal', 'grant')", name="kind"))

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False, default=random_id)
    volunteer_id: Mapped[int] = mapped_column(ID, ForeignKey(VOLUNTEER))
    kind: Mapped[str] = mapped_column(String(10))
    points: Mapped[int] = mapped_column(Integer)
    hours_tenths: Mapped[int] = mapped_column(Integer, default=0)
    patrol_id: Mapped[int | None] = mapped_column(ID, ForeignKey("patrols.id"))
    group_id: Mapped[int | None] = mapped_column(ID, ForeignKey("volunteer_groups.id"))
    certification_id: Mapped[int | None] = mapped_column(ID, ForeignKey("patrol_hours_certifications.id"))
    reverses_id: Mapped[int | None] = mapped_column(ID, ForeignKey("points_entries.id"), unique=True)
    reason: Mapped[str | None] = mapped_column(String(200))
    earned_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointsSummary(db.Model):
    """Points and hours of one volunteer in one period ("all", week "w202648", month "m202611"), moved in the
    same transaction as each ledger line. The volunteer's area codes are copied here, so each leaderboard is
    one index range already ordered by points, and a rank is a count over that range."""

    __tablename__ = "points_summaries"
    __table_args__ = tuple(Index(f"ix_points_summaries_{level}", "period", f"{level}_code", "points", "volunteer_id")
                           for level in ("district", "street", "community", "grid"))

    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ID, ForeignKey(VOLUNTEER), primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    hours_tenths: Mapped[int] = mapped_column(BigInteger, default=0)
    district_code: Mapped[str | None] = mapped_column(code_string(14))
    street_code: Mapped[str | None] = mapped_column(code_string(14))
    community_code: Mapped[str | None] = mapped_column(code_string(14))
    grid_code: Mapped[str | None] = mapped_column(code_string(14))


class GroupPointsSummary(db.Model):
    """Points and hours one volunteer earned on one group's patrols in one period: a group's board is one range of
    (period, group, points), like an area's. Moved with the ledger; a departed volunteer's rows are removed."""

    __tablename__ = "group_points_summaries"
    __table_args__ = (Index("ix_group_points_summaries_board", "period", "group_id", "points", "volunteer_id"),)

    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    group_id: Mapped[int] = mapped_column(ID, ForeignKey("volunteer_groups.id"), primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ID, ForeignKey(VOLUNTEER), primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    hours_tenths: Mapped[int] = mapped_column(BigInteger, default=0)


class Notification(db.Model):
    """通知: a message to one user (a patrol was cancelled, a waitlisted seat came free)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_created", "user_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False, default=random_id)
    user_id: Mapped[int] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    patrol_id: Mapped[int | None] = mapped_column(ID, ForeignKey("patrols.id"))
    title: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
