"""积分: the append-only ledger (hours, reversals, grants), the per-period summaries moved with it, grants by
organisers, and a volunteer's service record. A balance is the sum of the ledger, kept in the "all" summary."""
from collections import defaultdict
from datetime import date

from sqlalchemy import func, select

from app.common import time as clock
from app.common.pagination import time_page
from app.common.upsert import insert
from app.errors import Forbidden
from app.extensions import db
from app.patrols import people
from app.patrols.models import Attendance, Patrol, PointsEntry, PointsSummary
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
    """Add ledger lines and move the summaries of every period they count in, in the caller's transaction.

    Summary rows are upserted in key order (no deadlock between writers); each carries the volunteer's current
    area codes, so a volunteer who moved is ranked where they live now."""
    if not entries:
        return
    db.session.add_all(entries)
    totals: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for entry in entries:
        for period in period_keys(entry.earned_on):
            total = totals[(period, entry.volunteer_id)]
            total[0] += entry.points
            total[1] += entry.hours_tenths
    grids = {vid: people.grid_of(vid) for vid in {e.volunteer_id for e in entries}}
    rows = [dict(period=period, volunteer_id=vid, points=p, hours_tenths=h, **area_codes(grids[vid]))
            for (period, vid), (p, h) in sorted(totals.items())]
    stmt = insert(PointsSummary.__table__).values(rows)
    table = PointsSummary.__table__.c
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=["period", "volunteer_id"],
        set_={"points": table.points + stmt.excluded.points,
              "hours_tenths": table.hours_tenths + stmt.excluded.hours_tenths,
              **{f"{level}_code": stmt.excluded[f"{level}_code"] for level in LEVELS}}))


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


def entry_view(entry: PointsEntry, patrol_title: str | None = None) -> dict:
    """A ledger line as the API shows it."""
    return {"id": str(entry.id), "kind": entry.kind, "points": entry.points, "hours": entry.hours_tenths / 10,
            "patrol_id": str(entry.patrol_id) if entry.patrol_id else None, "patrol_title": patrol_title,
            "reason": entry.reason, "reverses_id": str(entry.reverses_id) if entry.reverses_id else None,
            "earned_on": entry.earned_on, "created_at": entry.created_at}


def service_record(*, user, cursor: str | None, limit: int) -> dict:
    """The caller's certified hours and points (totals), hours awaiting certification, and the ledger, newest first."""
    v = volunteer_service.my_volunteer(user)
    total = db.session.get(PointsSummary, ("all", v.id))
    pending, attended = db.session.execute(select(
        func.coalesce(func.sum(Attendance.hours_tenths).filter(Attendance.certifications == 0), 0),
        func.count()).where(Attendance.volunteer_id == v.id)).one()
    query = select(PointsEntry, Patrol.title).outerjoin(Patrol, Patrol.id == PointsEntry.patrol_id) \
        .where(PointsEntry.volunteer_id == v.id)
    entries = time_page(query, PointsEntry.created_at, PointsEntry.id, cursor=cursor, limit=limit, newest_first=True)
    return {"volunteer_id": str(v.id), "total_points": total.points if total else 0,
            "total_hours": (total.hours_tenths if total else 0) / 10, "pending_hours": pending / 10,
            "patrols_attended": attended,
            "entries": {"items": [entry_view(e, title) for e, title in entries["items"]],
                        "next_cursor": entries["next_cursor"]}}
