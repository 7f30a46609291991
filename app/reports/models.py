"""Departments, categories with their deadlines, reports, their transitions (never edited) and photos."""
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
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.common.ids import random_id
from app.common.time import utcnow
from app.common.types import UTCDateTime, code_string
from app.extensions import db

ID = BigInteger().with_variant(Integer, "sqlite")
STATES = ("submitted", "accepted", "rejected", "duplicate", "dispatched", "in_progress", "resolved", "reopened",
          "confirmed", "closed")
OPEN_STATES = ("submitted", "accepted", "dispatched", "in_progress", "reopened")
LEVELS = ("community", "street", "district")
SOURCES = ("app", "open311", "12345")
_OPEN = "state IN ('submitted', 'accepted', 'dispatched', 'in_progress', 'reopened')"
# What the figures read of an open case besides its filing time and grid: its deadlines and answers, and its groups.
LIVE_COLUMNS = ["department_id", "category_id", "due_at", "accept_due_at", "responded_at", "resolve_due_at",
                "resolved_at"]


class Department(db.Model):
    """职能部门: an organisation that handles reports of some categories inside its area."""

    __tablename__ = "report_departments"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    area_code: Mapped[str] = mapped_column(code_string(14))


class DepartmentStaff(db.Model):
    """A staff account of a department (holding the department_staff role over its area)."""

    __tablename__ = "report_department_staff"
    __table_args__ = (Index("ix_report_department_staff_user", "user_id"),)

    department_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("report_departments.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class Category(db.Model):
    """报事类别: a kind of problem, its handling department and deadlines (hours) per urgency."""

    __tablename__ = "report_categories"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    department_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("report_departments.id"))
    accept_hours: Mapped[int] = mapped_column(Integer)
    resolve_hours: Mapped[int] = mapped_column(Integer)
    urgent_accept_hours: Mapped[int] = mapped_column(Integer)
    urgent_resolve_hours: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Report(db.Model):
    """报事: one problem reported in a grid, and where its case stands (the current stage's due time included).

    The times of each first answer are kept on the row (responded, resolved, confirmed, closed); the transitions
    table holds the full story. The columns the figures read keep their old value at every change
    (active_history), which the tallies need to move a report from one count to another."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("reporter_id", "client_key", name="uq_reports_reporter_client_key"),
        Index("uq_reports_source_client_key", "client_key", unique=True, postgresql_where=text("reporter_id IS NULL"),
              sqlite_where=text("reporter_id IS NULL")),  # hotline orders have no reporter account
        Index("ix_reports_grid_submitted", "grid_code", "submitted_at"),
        Index("ix_reports_submitted", "submitted_at"),
        Index("ix_reports_open_due", "due_at", postgresql_where=text(_OPEN), sqlite_where=text(_OPEN)),
        Index("ix_reports_open_category", "category_id", "submitted_at", postgresql_where=text(_OPEN),
              sqlite_where=text(_OPEN)),
        Index("ix_reports_open_submitted", "submitted_at", "grid_code", postgresql_where=text(_OPEN),
              sqlite_where=text(_OPEN), postgresql_include=LIVE_COLUMNS),  # the figures' live part, index-only
        Index("ix_reports_department_state", "department_id", "state"),
        Index("ix_reports_merged_into", "merged_into_id"),
        CheckConstraint(f"state IN {STATES}", name="state"),
        CheckConstraint(f"level IN {LEVELS}", name="level"),
        CheckConstraint(f"source IN {SOURCES}", name="source"),
        CheckConstraint("urgency IN ('normal', 'urgent')", name="urgency"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False, default=random_id)
    client_key: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(8), default="app")
    reporter_id: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id", ondelete="SET NULL"))
    reporter_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    category_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("report_categories.id"), active_history=True)
    department_id: Mapped[int | None] = mapped_column(SmallInteger, ForeignKey("report_departments.id"),
                                                      active_history=True)
    urgency: Mapped[str] = mapped_column(String(6), default="normal")
    text: Mapped[str] = mapped_column(String(1000))
    grid_code: Mapped[str] = mapped_column(code_string(14), active_history=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(12), default="submitted", active_history=True)
    level: Mapped[str] = mapped_column(String(9), default="community")
    escalations: Mapped[int] = mapped_column(SmallInteger, default=0)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, active_history=True)
    hand_backs: Mapped[int] = mapped_column(SmallInteger, default=0)
    merged_into_id: Mapped[int | None] = mapped_column(ID, ForeignKey("reports.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, active_history=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accept_due_at: Mapped[datetime] = mapped_column(UTCDateTime, active_history=True)
    resolve_due_at: Mapped[datetime] = mapped_column(UTCDateTime, active_history=True)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, active_history=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, active_history=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    steps: Mapped[int] = mapped_column(Integer, default=0)  # transitions so far: the next one's seq
    points_awarded: Mapped[int] = mapped_column(SmallInteger, default=0)
    points_awarded_on: Mapped[date | None] = mapped_column(Date)


def _tally_key() -> list:
    """dim, area_code, grain, period: what a tally row counts, where, over which day or month."""
    return [mapped_column(String(1), primary_key=True), mapped_column(code_string(9), primary_key=True),
            mapped_column(String(1), primary_key=True), mapped_column(Date, primary_key=True)]


# Resolve times in minutes where each coarse bucket of the tallies starts (the last one has no end).
BUCKET_EDGES = (0, 15, 30, 45, 60, 90, 120, 150, 180, 240, 300, 360, 420, 480, 600, 720, 840, 960, 1080, 1200, 1440,
                1680, 1920, 2160, 2400, 2640, 2880, 3240, 3600, 3960, 4320, 4680, 5040, 5400, 5760, 6480, 7200, 7920,
                8640, 9360, 10080, 11520, 12960, 14400, 17280, 20160, 30240, 43200)
BUCKETS = tuple(f"resolved_in_{i:02d}" for i in range(len(BUCKET_EDGES)))
# Each coarse bucket splits into sixteen sub-buckets of equal width (the last bucket's width taken as 30 days; the
# times beyond fall in its last sub-bucket).
SUBS = tuple(f"sub_{i:02d}" for i in range(16))
LAST_WIDTH = 43200
# What a tally row's group_key names: a street (its code as a number), a department (0: none), a category, or
# nothing (0: the whole area).
DIMS = {"street": "s", "department": "d", "category": "c", "total": "t"}
DAY, MONTH = "d", "m"  # the grains: a Guangzhou day; a calendar month (period: its first day)


class Tally(db.Model):
    """The settled outcomes of the reports filed in one period (a day, or a month) inside one area (the city, a
    district or a street), per group of one dimension (dim: DIMS), kept in the transaction of every change to a
    report (app/reports/tallies.py). A report counts in every area that holds its grid, for each dimension and
    both grains, so that any area's figures over any window are a few hundred rows whatever its size.
    resolved_in_NN counts the resolved reports whose resolve time falls in coarse bucket NN (BUCKET_EDGES)."""

    __tablename__ = "report_tallies"

    dim, area_code, grain, period = _tally_key()
    group_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    filed: Mapped[int] = mapped_column(Integer, default=0)
    responded: Mapped[int] = mapped_column(Integer, default=0)
    responded_on_time: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)  # rejected and merged reports excluded
    resolved_on_time: Mapped[int] = mapped_column(Integer, default=0)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)  # confirmed, or closed when the window lapsed
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    for _name in BUCKETS:
        locals()[_name] = mapped_column(Integer, default=0, nullable=False)


class ResolveMinutes(db.Model):
    """How many of the reports filed on one Guangzhou day in one street, per department (0: none) and category,
    took so many whole minutes from filing to resolution, with the coarse bucket of that time: the median is found
    in the tallies' buckets, then read here in one bucket (its index is by bucket first and covers the
    columns read, so that the read is one index range)."""

    __tablename__ = "report_resolve_minutes"
    __table_args__ = (Index("ix_report_resolve_minutes_bucket_day", "bucket", "day", "street_code",
                            postgresql_include=["department_id", "category_id", "minutes", "n"]),
                      Index("ix_report_resolve_minutes_street_minutes", "street_code", "minutes",
                            postgresql_include=["day", "n"]),
                      Index("ix_report_resolve_minutes_department_minutes", "department_id", "minutes",
                            postgresql_include=["day", "street_code", "n"]),
                      Index("ix_report_resolve_minutes_category_minutes", "category_id", "minutes",
                            postgresql_include=["day", "street_code", "n"]))

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    street_code: Mapped[str] = mapped_column(code_string(9), primary_key=True)
    department_id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    category_id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    minutes: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bucket: Mapped[int] = mapped_column(SmallInteger)
    n: Mapped[int] = mapped_column(Integer, default=0)


class ResolveSubs(db.Model):
    """How many of the reports filed in one month took a resolve time in each sub-bucket (SUBS) of one coarse
    bucket: per street (dim "s", area_code the street, group_key 0), and per department ("d") and category ("c")
    in the city and in each district (area_code). Between the tallies' buckets and the minutes: a median over
    months reads one row a month and group here, then the minutes of one sub-bucket."""

    __tablename__ = "report_resolve_subs"

    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    dim: Mapped[str] = mapped_column(String(1), primary_key=True)
    area_code: Mapped[str] = mapped_column(code_string(9), primary_key=True)
    group_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    for _name in SUBS:
        locals()[_name] = mapped_column(Integer, default=0, nullable=False)


class Transition(db.Model):
    """One step of a report's case: who moved it from which state to which, when and why (never edited)."""

    __tablename__ = "report_transitions"
    __table_args__ = (UniqueConstraint("report_id", "seq"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False, default=random_id)
    report_id: Mapped[int] = mapped_column(ID, ForeignKey("reports.id"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(12))
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    level: Mapped[str] = mapped_column(String(9))
    actor_id: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(500))
    department_id: Mapped[int | None] = mapped_column(SmallInteger, ForeignKey("report_departments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Photo(db.Model):
    """A report photo, re-encoded without EXIF and stored once per content hash (SHA-256 of the stored bytes)."""

    __tablename__ = "report_photos"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False, default=random_id)
    sha256: Mapped[str] = mapped_column(code_string(64), unique=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportPhoto(db.Model):
    """A photo attached to a report, when it was reported ("report") or resolved ("resolution")."""

    __tablename__ = "report_photo_links"

    report_id: Mapped[int] = mapped_column(ID, ForeignKey("reports.id"), primary_key=True)
    photo_id: Mapped[int] = mapped_column(ID, ForeignKey("report_photos.id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(10), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger)
