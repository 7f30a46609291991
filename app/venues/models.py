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
    """场所: a place with a printed 场所码; the code version invalidates old posters when bumped."""

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
