"""Venue statistics: counts, never people — scans per hour and per colour for one day."""
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from app.common.sql import epoch
from app.common.time import SHANGHAI
from app.extensions import db
from app.venues.models import COLOURS, Scan


def day_stats(*, venue_id: int, day: date) -> dict:
    """Scans of a venue on a local (Asia/Shanghai) day, per hour and per colour: one index range scan."""
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI)
    hour = ((epoch(Scan.scanned_at) - int(start.timestamp())) / 3600).label("hour")
    rows = db.session.execute(
        select(hour, Scan.colour, func.count()).where(
            Scan.venue_id == venue_id, Scan.scanned_at >= start, Scan.scanned_at < start + timedelta(days=1))
        .group_by(hour, Scan.colour)).all()
    hours = [{"hour": h, **{c: 0 for c in COLOURS}, "total": 0} for h in range(24)]
    for h, colour, n in rows:
        hours[int(h)][colour] += n
        hours[int(h)]["total"] += n
    totals = {c: sum(row[c] for row in hours) for c in COLOURS}
    return {"venue_id": str(venue_id), "date": day, "total": sum(totals.values()), "by_colour": totals,
            "by_hour": hours}
