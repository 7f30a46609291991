"""Demo patrols for `make run`: this evening's and tomorrow evening's patrol of the demo volunteer's community,
scheduled by organiser_wushan, the demo resident (a volunteer there) signed up to the first. Idempotent (by title
and start)."""
from datetime import datetime, time, timedelta

from sqlalchemy import select

from app.common import time as clock
from app.extensions import db
from app.patrols import service, signups
from app.patrols.models import Patrol
from app.volunteers import locality
from app.volunteers.demo import DEMO_VOLUNTEER

MEETING = {"lat": 23.1376, "lng": 113.3520}  # 五山地铁站 B 口 (GCJ-02)


def _evening(days: int) -> datetime:
    day = clock.to_shanghai(clock.utcnow()).date() + timedelta(days=days)
    return datetime.combine(day, time(19, 0), tzinfo=clock.SHANGHAI)


def seed_small() -> list[str]:
    """Two evening patrols and one sign-up; returns lines to print."""
    from app.auth import service as auth_service
    from app.demo import DEMO_RESIDENT_PHONE

    organiser = auth_service.find_by_username("organiser_wushan")
    person = auth_service.find_by_phone(DEMO_RESIDENT_PHONE)
    grid = DEMO_VOLUNTEER[1]
    group = locality.auto_group_of(grid)
    if organiser is None or person is None or group is None:
        return ["demo patrols: skipped (demo organiser, volunteer or community group missing)"]
    made = []
    for days in (0, 1):
        starts = _evening(days)
        if starts + timedelta(hours=2) <= clock.utcnow():
            continue
        title = f"{group.name[:-3]}晚间巡逻"
        found = db.session.execute(select(Patrol).where(Patrol.group_id == group.id, Patrol.title == title,
                                                        Patrol.starts_at == starts)).scalar_one_or_none()
        made.append(found or service.create(actor=organiser, data={
            "group_id": group.id, "area": grid[:12], "title": title, "starts_at": starts,
            "ends_at": starts + timedelta(hours=2), "meeting_point": MEETING, "radius_m": 300, "capacity": 8,
            "points_per_hour": 10, "description": "沿五山路、华南理工大学北门一带巡查，提醒居民做好防护。"}))
    if made:
        signups.sign_up(user=person, patrol_id=made[0].id)
    return [f"demo patrols: {len(made)} (the demo resident {DEMO_RESIDENT_PHONE} is signed up to the first)"]
