"""流调: who shared a venue with a case. Every query is audited; applying its result is one transaction."""
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from app.errors import ValidationFailed
from app.extensions import db
from app.health_codes import personal
from app.health_codes import service as hc_service
from app.health_codes.models import HealthCode
from app.venues.models import Scan, TracingQuery, Venue

MAX_RANGE = timedelta(days=28)
MAX_VISITS = 500


def _check_range(since: datetime, until: datetime, window: int) -> None:
    if until <= since:
        raise ValidationFailed("range_invalid", "结束时间应晚于开始时间", errors={"json": {"until": ["应晚于 since"]}})
    if until - since > MAX_RANGE:
        raise ValidationFailed("range_too_long", "追踪时间范围最长 28 天", errors={"json": {"until": ["范围过长"]}})
    if not 1 <= window <= 1440:
        raise ValidationFailed("window_invalid", "时间窗口应在 1 到 1440 分钟之间")


def visits_of(code_id: int, since: datetime, until: datetime) -> list:
    """The code's scans in the range as (venue_id, scanned_at, kind) rows, oldest first (at most MAX_VISITS)."""
    return db.session.execute(select(Scan.venue_id, Scan.scanned_at, Scan.kind).where(Scan.health_code_id == code_id, Scan.scanned_at >= since,
                                                 Scan.scanned_at <= until)
                              .order_by(Scan.scanned_at).limit(MAX_VISITS)).all()


def contacts_query(code_id: int, visits: list, window: timedelta):
    """Every other code seen at a visited venue within ±window of a visit: one query, one index range per visit."""
    ranges = [and_(Scan.venue_id == v.venue_id, Scan.scanned_at >= v.scanned_at - window,
                   Scan.scanned_at <= v.scanned_at + window) for v in visits]
    return (select(Scan.health_code_id, Scan.venue_id, Scan.scanned_at)
            .where(or_(*ranges), Scan.health_code_id != code_id).order_by(Scan.scanned_at))


def _contacts(code_id: int, visits: list, window: timedelta) -> list:
    # Plain rows, not ORM objects: a busy case has hundreds of contacts.
    if not visits:
        return []
    return db.session.execute(contacts_query(code_id, visits, window)).all()


def trace(*, official, health_code_id: int, since: datetime, until: datetime, window_minutes: int,
          purpose: str) -> dict:
    """The index person's visits and the codes seen near each visit (masked), audited."""
    _check_range(since, until, window_minutes)
    hc_service.get(code_id=health_code_id)  # raises NotFound for an unknown code
    window = timedelta(minutes=window_minutes)
    visits = visits_of(health_code_id, since, until)
    seen = _contacts(health_code_id, visits, window)
    venues = dict(db.session.execute(select(Venue.id, Venue.name).where(
        Venue.id.in_({v.venue_id for v in visits}))).all())
    codes = {c.id: c for c in db.session.execute(select(HealthCode).where(
        HealthCode.id.in_({s.health_code_id for s in seen}))).scalars()}
    visits_at: dict[int, list] = {}
    for v in visits:
        visits_at.setdefault(v.venue_id, []).append(v)
    contacts = []
    for s in seen:
        near = min(visits_at[s.venue_id], key=lambda v: abs((v.scanned_at - s.scanned_at).total_seconds()))
        gap = abs((near.scanned_at - s.scanned_at).total_seconds()) / 60
        code = codes.get(s.health_code_id)
        contacts.append({"health_code_id": str(s.health_code_id),
                         "holder": personal.masked_name(code) if code is not None else None,
                         "colour": code.colour if code is not None else None,
                         "venue": {"id": str(s.venue_id), "name": venues.get(s.venue_id)},
                         "visit_at": near.scanned_at, "seen_at": s.scanned_at,
                         "minutes_apart": round(gap, 1)})
    db.session.add(TracingQuery(official_id=official.id, purpose=purpose, health_code_id=health_code_id,
                                since=since, until=until, window_minutes=window_minutes, visits=len(visits),
                                contacts=len({c["health_code_id"] for c in contacts})))
    db.session.commit()
    return {"health_code_id": str(health_code_id), "window_minutes": window_minutes,
            "visits": [{"venue": {"id": str(v.venue_id), "name": venues.get(v.venue_id)}, "at": v.scanned_at,
                        "kind": v.kind} for v in visits],
            "contacts": contacts, "contact_count": len({c["health_code_id"] for c in contacts})}


def apply(*, official, health_code_ids: list[int], colour: str, reason: str) -> list[dict]:
    """Turn traced contacts yellow (or another colour) in one transaction, one audit row each."""
    changed = []
    for code_id in dict.fromkeys(health_code_ids):
        code = hc_service.official_set_colour(code_id=code_id, colour=colour, reason=reason,
                                              official_id=official.id, commit=False)
        changed.append({"health_code_id": str(code.id), "colour": code.colour})
    db.session.commit()
    return changed
