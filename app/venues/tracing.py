"""流调: who shared a venue with a case. Every query is audited; applying its result is one transaction.

One statement reads everything a trace shows: the case's code (it must exist), its visits, the venues' names and,
per visit, the other codes scanned at the venue within ±window (through the (venue, time) index), with their
colour and encrypted name. Names are decrypted once per contact code, and the audit row is one INSERT."""
from collections import namedtuple
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, insert, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from app.common.converters import MAX_ID
from app.common.time import utcnow
from app.errors import ValidationFailed
from app.extensions import db
from app.health_codes import personal
from app.health_codes import service as hc_service
from app.health_codes.models import HealthCode
from app.venues.models import Scan, TracingQuery, Venue

MAX_RANGE = timedelta(days=28)
MAX_VISITS = 500
_Holder = namedtuple("_Holder", "id name_enc")  # what personal.masked_name reads


def _check_range(since: datetime, until: datetime, window: int) -> None:
    if until <= since:
        raise ValidationFailed("range_invalid", "结束时间应晚于开始时间", errors={"json": {"until": ["应晚于 since"]}})
    if until - since > MAX_RANGE:
        raise ValidationFailed("range_too_long", "追踪时间范围最长 28 天", errors={"json": {"until": ["范围过长"]}})
    if not 1 <= window <= 1440:
        raise ValidationFailed("window_invalid", "时间窗口应在 1 到 1440 分钟之间")


class _near(FunctionElement):
    """`seen` within ±`minutes` of `at` (timestamps): an index range on PostgreSQL; on SQLite, whose timestamps are
    text, a comparison at millisecond precision that never drops a match (trace() keeps the exact ones)."""

    inherit_cache = True


@compiles(_near, "postgresql")
def _near_pg(element, compiler, **kw):
    seen, at, minutes = (compiler.process(c, **kw) for c in element.clauses)
    return (f"{seen} BETWEEN {at} - make_interval(mins => {minutes}) "
            f"AND {at} + make_interval(mins => {minutes})")


@compiles(_near, "sqlite")
def _near_sqlite(element, compiler, **kw):
    seen, at, minutes = (compiler.process(c, **kw) for c in element.clauses)
    ms = "'%Y-%m-%d %H:%M:%f'"
    return (f"strftime({ms}, {seen}) BETWEEN strftime({ms}, {at}, -{minutes} || ' minutes') "
            f"AND strftime({ms}, {at}, {minutes} || ' minutes')")


def _statement():
    visits = (select(Scan.id, Scan.venue_id, Scan.scanned_at, Scan.kind)
              .where(Scan.health_code_id == bindparam("code"), Scan.scanned_at >= bindparam("since"),
                     Scan.scanned_at <= bindparam("until"))
              .order_by(Scan.scanned_at).limit(MAX_VISITS).subquery("visits"))
    seen, holder = aliased(Scan, name="seen"), aliased(HealthCode, name="holder")
    # The constant bounds let the planner drop the partitions no window reaches.
    nearby = and_(seen.venue_id == visits.c.venue_id, seen.scanned_at >= bindparam("lo"),
                  seen.scanned_at <= bindparam("hi"), _near(seen.scanned_at, visits.c.scanned_at, bindparam("minutes")),
                  seen.health_code_id != bindparam("code"))
    return (select(visits.c.id.label("visit_id"), visits.c.venue_id, visits.c.scanned_at.label("visit_at"),
                   visits.c.kind, Venue.name.label("venue_name"), seen.id.label("seen_id"),
                   seen.scanned_at.label("seen_at"), seen.health_code_id, holder.colour, holder.name_enc)
            .select_from(HealthCode).outerjoin(visits, true()).outerjoin(Venue, Venue.id == visits.c.venue_id)
            .outerjoin(seen, nearby).outerjoin(holder, holder.id == seen.health_code_id)
            .where(HealthCode.id == bindparam("code")).order_by(seen.scanned_at))


TRACE = _statement()


def trace_params(code_id: int, since: datetime, until: datetime, window_minutes: int) -> dict:
    """TRACE's parameters for one query."""
    window = timedelta(minutes=window_minutes)
    return {"code": code_id, "since": since, "until": until, "minutes": window_minutes, "lo": since - window,
            "hi": until + window}


def _read(rows: list, window: timedelta) -> tuple[list, dict]:
    """(visit rows oldest first, {sighting: (row, gap)} in sighting order) from TRACE's rows; each sighting
    keeps its nearest visit (the earliest of equally near ones)."""
    visits, nearest = {}, {}
    for r in rows:
        if r.visit_id is None:  # the code exists but has no visits
            continue
        visits.setdefault((r.visit_at, r.visit_id), r)
        if r.seen_id is None:
            continue
        gap = abs(r.seen_at - r.visit_at)
        best = nearest.get(key := (r.seen_at, r.seen_id))
        if gap <= window and (best is None or (gap, r.visit_at) < (best[1], best[0].visit_at)):
            nearest[key] = (r, gap)
    return [visits[k] for k in sorted(visits)], nearest


def _contacts(nearest: dict) -> list[dict]:
    names = {}  # one decryption per contact code, however often it was seen
    contacts = []
    for r, gap in nearest.values():
        code = r.health_code_id
        if code not in names:
            names[code] = personal.masked_name(_Holder(code, r.name_enc)) if r.colour is not None else None
        contacts.append({"health_code_id": str(code), "holder": names[code], "colour": r.colour,
                         "venue": {"id": str(r.venue_id), "name": r.venue_name}, "visit_at": r.visit_at,
                         "seen_at": r.seen_at, "minutes_apart": round(gap.total_seconds() / 60, 1)})
    return contacts


def trace(*, official, health_code_id: int, since: datetime, until: datetime, window_minutes: int,
          purpose: str) -> dict:
    """The index person's visits and the codes seen near each visit (masked), audited."""
    _check_range(since, until, window_minutes)
    rows = (db.session.execute(TRACE, trace_params(health_code_id, since, until, window_minutes)).all()
            if 0 < health_code_id <= MAX_ID else [])
    if not rows:
        hc_service.get(code_id=health_code_id)  # no such code: raises NotFound
    visits, nearest = _read(rows, timedelta(minutes=window_minutes))
    contacts = _contacts(nearest)
    contact_count = len({c["health_code_id"] for c in contacts})
    db.session.execute(insert(TracingQuery).values(
        official_id=official.id, purpose=purpose, health_code_id=health_code_id, since=since, until=until,
        window_minutes=window_minutes, visits=len(visits), contacts=contact_count, created_at=utcnow()))
    db.session.commit()
    return {"health_code_id": str(health_code_id), "window_minutes": window_minutes,
            "visits": [{"venue": {"id": str(v.venue_id), "name": v.venue_name}, "at": v.visit_at, "kind": v.kind}
                       for v in visits],
            "contacts": contacts, "contact_count": contact_count}


def apply(*, official, health_code_ids: list[int], colour: str, reason: str) -> list[dict]:
    """Turn traced contacts yellow (or another colour) in one transaction, one audit row each."""
    changed = []
    for code_id in dict.fromkeys(health_code_ids):
        code = hc_service.official_set_colour(code_id=code_id, colour=colour, reason=reason,
                                              official_id=official.id, commit=False)
        changed.append({"health_code_id": str(code.id), "colour": code.colour})
    db.session.commit()
    return changed
