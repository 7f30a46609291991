"""Venue statistics: counts, never people — scans per hour and per colour for one day."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from app.common.sql import epoch
from app.common.time import SHANGHAI
from app.extensions import db
from app.venues.models import COLOURS, Scan


def day_query(*, venue_id: int, day: date):
    """(hour, colour, count) of a venue's scans on a local day: one index range scan on (venue, time)."""
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI)
    hour = ((epoch(Scan.scanned_at) - int(start.timestamp())) / 3600).label("hour")
    return (select(hour, Scan.colour, func.count())
            .where(Scan.venue_id == venue_id, Scan.scanned_at >= start, Scan.scanned_at < start + timedelta(days=1))
            .group_by(hour, Scan.colour))


@dataclass
class ColourCount:
    """Scans per colour."""

    green: int = 0
    yellow: int = 0
    red: int = 0

    @property
    def total(self) -> int:
        return self.green + self.yellow + self.red

    def add(self, colour: str, n: int) -> None:
        setattr(self, colour, getattr(self, colour) + n)


@dataclass
class HourCount(ColourCount):
    """Scans per colour in one hour of the day (0-23)."""

    hour: int = 0


@dataclass(frozen=True)
class DayStats:
    """A venue's scans on one local day: per hour (24 rows) and per colour."""

    venue_id: int
    date: date
    by_hour: list[HourCount]

    @property
    def by_colour(self) -> ColourCount:
        return ColourCount(**{c: sum(getattr(h, c) for h in self.by_hour) for c in COLOURS})

    @property
    def total(self) -> int:
        return sum(h.total for h in self.by_hour)


def day_stats(*, venue_id: int, day: date) -> DayStats:
    """Scans of a venue on a local (Asia/Shanghai) day, per hour and per colour."""
    rows = db.session.execute(day_query(venue_id=venue_id, day=day)).all()
    hours = [HourCount(hour=h) for h in range(24)]
    for h, colour, n in rows:
        hours[int(h)].add(colour, n)
    return DayStats(venue_id=venue_id, date=day, by_hour=hours)
