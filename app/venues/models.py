"""Venues (场所) and the people who staff them."""
from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.common.ids import random_id
from app.common.time import utcnow
from app.common.types import UTCDateTime, code_string
from app.extensions import db

CATEGORIES = ("商场", "餐饮", "医疗机构", "学校", "交通站点", "社区出入口", "写字楼", "其他")
STAFF_ROLES = ("admin", "inspector")


class Venue(db.Model):
    """场所: a place with a printed 场所码; the code version invalidates old posters when bumped.

    Approved (`approved_at`) when registered with a valid 统一社会信用代码 (`uscc`), or by an organiser of its area;
    until then its check-ins work but tracing marks its visits unverified."""

    __tablename__ = "venues"
    __table_args__ = (Index("ix_venues_area_code_id", "area_code", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=random_id, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(200))
    area_code: Mapped[str] = mapped_column(code_string(14))
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    code_version: Mapped[int] = mapped_column(Integer, default=1)
    uscc: Mapped[str | None] = mapped_column(String(18))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class VenueStaff(db.Model):
    """A user bound to a venue: its admin (the creator) or an inspector (检测员) who scans residents."""

    __tablename__ = "venue_staff"
    __table_args__ = (UniqueConstraint("venue_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


COLOURS = ("green", "yellow", "red")
SCAN_KINDS = ("staff", "checkin")


class Scan(db.Model):
    """扫码记录: one sighting of a health code at a venue — a staff scan or a resident check-in.

    The largest table. No foreign keys (each would cost an index probe on the hottest write); the primary
    key leads with the time so that on PostgreSQL the table is range-partitioned by month and purged by
    dropping whole partitions (see retention.py). Read paths: by venue and time (stats, tracing contacts),
    by code and time (tracing visits, a resident's own history)."""

    __tablename__ = "scans"
    __table_args__ = (Index("ix_scans_venue_time", "venue_id", "scanned_at"),
                      Index("ix_scans_code_time", "health_code_id", "scanned_at"),
                      {"postgresql_partition_by": "RANGE (scanned_at)"})

    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=random_id, autoincrement=False)
    venue_id: Mapped[int] = mapped_column(BigInteger)
    health_code_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(8))
    colour: Mapped[str] = mapped_column(String(6))
    passed: Mapped[bool] = mapped_column()
    staff_user_id: Mapped[int | None] = mapped_column(BigInteger)
    offline: Mapped[bool] = mapped_column(default=False)


class LatestVisit(db.Model):
    """The last visit of a person at a venue, however it was scanned (check-in, staff scan, offline batch): makes
    "one visit per person and venue within the dedupe window" one atomic upsert on this key."""

    __tablename__ = "latest_visits"

    person_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    venue_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    scan_id: Mapped[int] = mapped_column(BigInteger)
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class OfflineScan(db.Model):
    """An offline scan's client-made id: replaying a batch creates nothing new (idempotency key)."""

    __tablename__ = "offline_scans"

    client_scan_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    payload_hash: Mapped[str] = mapped_column(String(64))
    venue_id: Mapped[int] = mapped_column(BigInteger)
    scan_id: Mapped[int | None] = mapped_column(BigInteger)
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    result: Mapped[str] = mapped_column(String(40))


class TracingQuery(db.Model):
    """流调 audit: every tracing query an official runs — who, why, what, how many results."""

    __tablename__ = "tracing_queries"

    id: Mapped[int] = mapped_column(primary_key=True)
    official_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    health_code_id: Mapped[int] = mapped_column(BigInteger, index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    window_minutes: Mapped[int] = mapped_column(Integer)
    visits: Mapped[int] = mapped_column(Integer)
    contacts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
