"""Shared helpers of the patrol tests: the frozen time, real areas, codes, points near the meeting place."""
from datetime import datetime, timezone

from sqlalchemy import select

from app.common import time as clock_module
from app.extensions import db
from app.patrols import codes
from app.patrols.models import Patrol

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 in Guangzhou
GRID = "44010600100101"
OTHER_GRID = "44010600100102"  # same community
COMMUNITY, STREET, DISTRICT = GRID[:12], GRID[:9], GRID[:6]
FAR_GRID = "44011100200101"  # 白云区
MEETING = {"lat": 23.1291, "lng": 113.3437}


def iso(when: datetime) -> str:
    return when.isoformat()


def patrol_row(patrol_id) -> Patrol:
    """The patrol as the database holds it now."""
    db.session.expire_all()
    return db.session.execute(select(Patrol).where(Patrol.id == int(patrol_id))).scalar_one()


def token(patrol_id, at: datetime | None = None) -> str:
    """The check-in code shown at `at` (default: the frozen now)."""
    return codes.sign(int(patrol_id), codes.window_of(at or clock_module.utcnow()))


def near(metres: float = 0.0) -> dict:
    """A point `metres` north of the meeting point (1 degree of latitude ≈ 111,195 m)."""
    return {"lat": MEETING["lat"] + metres / 111_195.0, "lng": MEETING["lng"]}
