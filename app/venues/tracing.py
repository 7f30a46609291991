"""流调: who shared a venue with a case. Every query is audited; applying its result is one transaction.

Tracing acts on persons: the case is the person of the given code, its visits are the scans of all that person's
codes, and a contact is another person seen nearby (through any of their codes). One statement reads everything a
trace shows: the case's code (it must exist), the visits, the venues' names and approval and, per visit, the
scans of other persons at the venue within ±window (through the (venue, time) index), with their person's colour
and the encrypted name on the code scanned. Visits at venues not yet approved are marked `unverified`. Names are
decrypted once per contact code, and the audit row is one INSERT."""
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Integer, and_, bindparam, insert, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.common.converters import MAX_ID
from app.errors import ValidationFailed
from app.extensions import db
from app.health_codes import joins as hc_joins
from app.health_codes import service as hc_service
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


class _near(FunctionElement):
    """`seen` within ±`minutes` of `at` (timestamps): an index range on PostgreSQL; on SQLite, whose timestamps are
    text, a comparison at millisecond precision that never drops a match (trace() keeps the exact ones)."""

    type = Boolean()
    inherit_cache = True


@compiles(_near, "postgresql")
def _near_pg(element, compiler, **kw):
    seen, at, minutes = (compiler.process(c, **kw) for c in element.clauses)
    return f"({seen} BETWEEN {at} - make_interval(mins => {minutes}) AND {at} + make_interval(mins => {minutes}))"


@compiles(_near, "sqlite")
def _near_sqlite(element, compiler, **kw):
    seen, at, minutes = (compiler.process(c, **kw) for c in element.clauses)
    ms = "'%Y-%m-%d %H:%M:%f'"
    return (f"(strftime({ms}, {seen}) BETWEEN strftime({ms}, {at}, -{minutes} || ' minutes') "
            f"AND strftime({ms}, {at}, {minutes} || ' minutes'))")


def _statement():
    scans, venues = Scan.__table__, Venue.__table__  # Core: rows, no ORM loading
    of_case = hc_joins.codes_of_holder(bindparam("code"))
    visits = (select(scans.c.id, scans.c.venue_id, scans.c.scanned_at, scans.c.kind)
              .where(scans.c.health_code_id.in_(of_case), scans.c.scanned_at >= bindparam("since"),
                     scans.c.scanned_at <= bindparam("until"))
              .order_by(scans.c.scanned_at).limit(MAX_VISITS).subquery("visits"))
    seen = scans.alias("seen")
    # The constant bounds let the planner drop the partitions no window reaches.
    nearby = and_(seen.c.venue_id == visits.c.venue_id, seen.c.scanned_at >= bindparam("lo"),
                  seen.c.scanned_at <= bindparam("hi"), seen.c.health_code_id.not_in(of_case),
                  _near(seen.c.scanned_at, visits.c.scanned_at, bindparam("minutes", type_=Integer)))
    stmt = hc_joins.from_code(select(visits.c.id, visits.c.venue_id, visits.c.scanned_at, visits.c.kind,
                                     venues.c.name, venues.c.approved_at, seen.c.id, seen.c.scanned_at,
                                     seen.c.health_code_id), bindparam("code"))
    stmt = stmt.outerjoin(visits, true()).outerjoin(venues, venues.c.id == visits.c.venue_id).outerjoin(seen, nearby)
    return hc_joins.with_holder(stmt, seen.c.health_code_id).order_by(seen.c.scanned_at)


TRACE = _statement()
_AUDIT = insert(TracingQuery.__table__)  # Core, built once: the ORM's bulk path costs more than the INSERT itself


def trace_params(code_id: int, since: datetime, until: datetime, window_minutes: int) -> dict:
    """TRACE's parameters for one query."""
    window = timedelta(minutes=window_minutes)
    return {"code": code_id, "since": since, "until": until, "minutes": window_minutes, "lo": since - window,
            "hi": until + window}


def _read(rows: list, window: timedelta) -> tuple[list, list]:
    """(visits oldest first, sightings in time order) from TRACE's rows, each sighting with its nearest visit (the
    earliest of equally near ones). Plain tuples: a busy case has hundreds of rows."""
    visits, nearest = {}, {}
    for visit_id, venue_id, visit_at, kind, venue_name, approved, seen_id, seen_at, code, person, colour, name_enc \
            in rows:
        if visit_id is None:  # the code exists but has no visits
            continue
        venue = (venue_id, venue_name, approved is not None)
        visits.setdefault((visit_at, visit_id), (venue, visit_at, kind))
        if seen_id is None or (gap := abs(seen_at - visit_at)) > window:
            continue
        best = nearest.get(key := (seen_at, seen_id))
        if best is None or (gap, visit_at) < best[:2]:
            nearest[key] = (gap, visit_at, venue, seen_at, code, person, colour, name_enc)
    return [visits[k] for k in sorted(visits)], list(nearest.values())


def _contacts(sightings: list) -> list[dict]:
    # One decryption per contact code (None when the code is unknown) and one venue dict per venue.
    names = hc_service.masked_names({code: blob for *_, code, person, colour, blob in sightings
                                     if colour is not None}.items())
    codes, venues, contacts = {}, {}, []
    for gap, visit_at, venue, seen_at, code, person, colour, _ in sightings:
        if code not in codes:
            codes[code] = (str(code), str(person) if person else None)
        if venue not in venues:
            venues[venue] = {"id": str(venue[0]), "name": venue[1]}
        contacts.append({"health_code_id": codes[code][0], "person_id": codes[code][1], "holder": names.get(code),
                         "colour": colour, "venue": venues[venue], "visit_at": visit_at, "seen_at": seen_at,
                         "minutes_apart": round(gap.total_seconds() / 60, 1), "unverified": not venue[2]})
    return contacts


def trace(*, official, health_code_id: int, since: datetime, until: datetime, window_minutes: int,
          purpose: str) -> dict:
    """The index person's visits and the codes seen near each visit (masked), audited."""
    _check_range(since, until, window_minutes)
    rows = (db.session.execute(TRACE, trace_params(health_code_id, since, until, window_minutes)).all()
            if 0 < health_code_id <= MAX_ID else [])
    if not rows:
        hc_service.get(code_id=health_code_id)  # no such code: raises NotFound
    visits, sightings = _read(rows, timedelta(minutes=window_minutes))
    contacts = _contacts(sightings)
    contact_count = len({c["person_id"] or c["health_code_id"] for c in contacts})
    db.session.execute(_AUDIT, {"official_id": official.id, "purpose": purpose, "health_code_id": health_code_id,
                                "since": since, "until": until, "window_minutes": window_minutes,
                                "visits": len(visits), "contacts": contact_count})
    db.session.commit()
    return {"health_code_id": str(health_code_id), "window_minutes": window_minutes,
            "visits": [{"venue": {"id": str(venue[0]), "name": venue[1]}, "at": at, "kind": kind,
                        "unverified": not venue[2]} for venue, at, kind in visits],
            "contacts": contacts, "contact_count": contact_count}


def apply(*, official, health_code_ids: list[int], colour: str, reason: str) -> list[dict]:
    """Turn traced contacts' persons yellow (or another colour) in one transaction, one audit row per person (a
    person named by several of its codes is decided once)."""
    changed, done = [], set()
    for code_id in dict.fromkeys(health_code_ids):
        person_id = hc_service.get(code_id=code_id).person_id
        if person_id in done:
            continue
        person = hc_service.official_set_colour(code_id=code_id, colour=colour, reason=reason,
                                                official_id=official.id, commit=False)
        done.add(person.id)
        changed.append({"health_code_id": str(code_id), "colour": person.colour})
    db.session.commit()
    return changed
