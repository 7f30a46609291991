"""积分: the append-only ledger (hours, reversals, grants), the per-period summaries moved with it, grants by
organisers, and a volunteer's service record. A balance is the sum of the ledger, kept in the "all" summary."""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from app.common import time as clock
from app.common.pagination import time_page
from app.common.upsert import insert
from app.common.views import View
from app.errors import Forbidden
from app.extensions import db
from app.patrols.models import Attendance, GroupPointsSummary, Patrol, PointsEntry, PointsSummary
from app.volunteers import service as volunteer_service

STAFF = ("organiser", "admin")
LEVELS = {"district": 6, "street": 9, "community": 12, "grid": 14}


def points_for(points_per_hour: int, tenths: int) -> int:
    """Points for certified hours: points_per_hour × hours, rounded half up (to whole points)."""
    return (points_per_hour * tenths + 5) // 10 if tenths >= 0 else -points_for(points_per_hour, -tenths)


def period_keys(day: date) -> tuple[str, str, str]:
    """The summary periods a day counts in: all time, its ISO week, its month."""
    year, week, _ = day.isocalendar()
    return "all", f"w{year}{week:02d}", f"m{day.year}{day.month:02d}"


def today() -> date:
    """Today in Guangzhou."""
    return clock.to_shanghai(clock.utcnow()).date()


def append(entries: list[PointsEntry]) -> None:
    """Add ledger lines and move the summaries of every period they count in, in the caller's transaction:
    the volunteer's own (with their current area codes, so a volunteer who moved is ranked where they live now)
    and, for lines of a patrol, the volunteer's in the patrol's group (not for a volunteer who has left)."""
    if not entries:
        return
    db.session.add_all(entries)
    grids = {vid: volunteer_service.grid_of(vid) for vid in {e.volunteer_id for e in entries}}
    own: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    in_group: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for entry in entries:
        for period in period_keys(entry.earned_on):
            _add(own[(period, entry.volunteer_id)], entry)
            if entry.group_id is not None and grids[entry.volunteer_id] is not None:
                _add(in_group[(period, entry.group_id, entry.volunteer_id)], entry)
    _upsert(PointsSummary, [dict(period=period, volunteer_id=vid, points=p, hours_tenths=h, **area_codes(grids[vid]))
                            for (period, vid), (p, h) in sorted(own.items())], refresh=[f"{lv}_code" for lv in LEVELS])
    _upsert(GroupPointsSummary, [dict(period=period, group_id=gid, volunteer_id=vid, points=p, hours_tenths=h)
                                 for (period, gid, vid), (p, h) in sorted(in_group.items())])


def _add(total: list[int], entry: PointsEntry) -> None:
    total[0] += entry.points
    total[1] += entry.hours_tenths


def _upsert(model, rows: list[dict], refresh: tuple | list = ()) -> None:
    """Add rows' points and hours onto existing summary rows (in the given key order: no deadlocks)."""
    if not rows:
        return
    table = model.__table__
    stmt = insert(table).values(rows)
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key.columns],
        set_={"points": table.c.points + stmt.excluded.points,
              "hours_tenths": table.c.hours_tenths + stmt.excluded.hours_tenths,
              **{column: stmt.excluded[column] for column in refresh}}))


def area_codes(grid_code: str | None) -> dict[str, str | None]:
    """The district, street, community and grid codes of a grid (all None for nobody's grid)."""
    return {f"{level}_code": grid_code[:n] if grid_code else None for level, n in LEVELS.items()}


def grant(*, actor, volunteer_id: int, points: int, reason: str) -> PointsEntry:
    """An organiser or admin over where the volunteer lives adds (or takes away) points, with a reason."""
    v = volunteer_service.get_volunteer(volunteer_id)
    if not actor.acts_on(v.grid_code, *STAFF):
        raise Forbidden("area_forbidden", "该志愿者不在您的管辖范围内")
    entry = PointsEntry(volunteer_id=v.id, kind="grant", points=points, hours_tenths=0, reason=reason,
                        earned_on=today(), created_by=actor.id, created_at=clock.utcnow())
    append([entry])
    db.session.commit()
    return entry


def entry_view(entry: PointsEntry, patrol_title: str | None = None) -> View:
    """A ledger line with the title of its patrol."""
    return View(entry, patrol_title=patrol_title)


@dataclass(frozen=True)
class ServiceRecord:
    """A volunteer's totals (hours as tenths) and a page of their ledger (`entries`: items and
    next_cursor)."""

    volunteer_id: int
    total_points: int
    total_tenths: int
    pending_tenths: int
    patrols_attended: int
    entries: dict


def service_record(*, user, cursor: str | None, limit: int) -> ServiceRecord:
    """The caller's certified hours and points (totals), hours awaiting certification, and the ledger, newest first."""
    v = volunteer_service.my_volunteer(user)
    total = db.session.get(PointsSummary, ("all", v.id))
    pending, attended = db.session.execute(select(
        func.coalesce(func.sum(Attendance.hours_tenths).filter(Attendance.certifications == 0), 0),
        func.count()).where(Attendance.volunteer_id == v.id)).one()
    query = select(PointsEntry, Patrol.title).outerjoin(Patrol, Patrol.id == PointsEntry.patrol_id) \
        .where(PointsEntry.volunteer_id == v.id)
    entries = time_page(query, PointsEntry.created_at, PointsEntry.id, cursor=cursor, limit=limit, newest_first=True)
    entries["items"] = [entry_view(e, title) for e, title in entries["items"]]
    return ServiceRecord(v.id, total.points if total else 0, total.hours_tenths if total else 0,
                         pending, attended, entries)


def credit(*, volunteer_id: int, points: int, reason: str, earned_on: date, at: datetime) -> None:
    """Add one granted line to a volunteer's ledger (another domain's reward); no commit."""
    append([PointsEntry(volunteer_id=volunteer_id, kind="grant", points=points, hours_tenths=0,
                        reason=reason, earned_on=earned_on, created_at=at)])
