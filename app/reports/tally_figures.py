"""The figures of a street or wider area from the tallies: the settled counts summed over the days of the window,
what the clock decides (a deadline passing) counted live over the open cases filed in it (a partial index keeps
them few), and the exact median from the resolve-minute histogram. A group's key is the street, department or
category of the tallies; the total adds the groups up (they split the area)."""
from datetime import date, datetime

from sqlalchemy import and_, case, func, literal, null, select, union_all

from app.areas import service as area_service
from app.extensions import db
from app.reports.models import OPEN_STATES, Report, ResolveMinutes, Tally
from app.reports.tallies import COUNTS

TOTAL = "total"  # the medians' key of the whole area


def _key(model, by: str):
    return {"street": model.street_code, "department": model.department_id, "category": model.category_id}[by]


def _where(model, area: str, first_day: date, last_day: date):
    return and_(model.day >= first_day, model.day <= last_day, area_service.in_subtree(model.street_code, area))


def settled(area: str, by: str, first_day: date, last_day: date) -> dict:
    """{key: {count name: sum}} over the tallies of the window's days inside the area."""
    key = _key(Tally, by)
    rows = db.session.execute(select(key.label("key"), *[func.sum(getattr(Tally, c)).label(c) for c in COUNTS])
                              .where(_where(Tally, area, first_day, last_day)).group_by(key)).mappings()
    return {row["key"]: {c: int(row[c] or 0) for c in COUNTS} for row in rows}


def _late(condition):
    return func.sum(case((condition, 1), else_=0))


def live(area: str, by: str, first: datetime, last: datetime, now: datetime) -> dict:
    """{key: {response_late, resolution_late, open_overdue}} over the open cases filed in [first, last): past
    their accept deadline unanswered, past their resolve deadline unresolved, past their stage's due time."""
    r = Report
    key = {"street": area_service.child_key(r.grid_code, "street"), "department": func.coalesce(r.department_id, 0),
           "category": r.category_id}[by].label("key")
    rows = db.session.execute(select(key, _late(and_(r.responded_at.is_(None), r.accept_due_at < now))
                                     .label("response_late"),
                                     _late(and_(r.resolved_at.is_(None), r.resolve_due_at < now))
                                     .label("resolution_late"),
                                     _late(r.due_at < now).label("open_overdue"))
                              .where(r.state.in_(OPEN_STATES), r.submitted_at >= first, r.submitted_at < last,
                                     area_service.in_subtree(r.grid_code, area))
                              .group_by(key)).mappings()
    return {row["key"]: {name: int(row[name] or 0) for name in ("response_late", "resolution_late", "open_overdue")}
            for row in rows}


def medians(area: str, by: str, first_day: date, last_day: date) -> dict:
    """{key, and TOTAL: median minutes to resolve}: per group (and for all), the histogram summed over the
    window, then only the one or two buckets holding the middle rank(s) are read back."""
    h = ResolveMinutes
    where = _where(h, area, first_day, last_day)
    key = _key(h, by)
    buckets = union_all(
        select(key.label("key"), literal(0).label("whole"), h.minutes, func.sum(h.n).label("n"))
        .where(where).group_by(key, h.minutes),
        select(null().label("key"), literal(1).label("whole"), h.minutes, func.sum(h.n).label("n"))
        .where(where).group_by(h.minutes)).subquery()
    part = (buckets.c.whole, buckets.c.key)
    ranked = select(buckets, func.sum(buckets.c.n).over(partition_by=part, order_by=buckets.c.minutes).label("upto"),
                    func.sum(buckets.c.n).over(partition_by=part).label("all")).subquery()
    rows = db.session.execute(select(ranked).where(ranked.c.n > 0, ranked.c.upto - ranked.c.n <= ranked.c.all / 2,
                                                   ranked.c.upto > (ranked.c.all - 1) / 2)
                              .order_by(ranked.c.whole, ranked.c.key, ranked.c.minutes)).mappings()
    middles: dict = {}
    for row in rows:
        middles.setdefault(TOTAL if row["whole"] else row["key"], []).append(row)
    return {k: _middle(found) for k, found in middles.items()}


def _middle(buckets: list) -> float:
    """The median of a histogram from the buckets that hold its middle rank(s), in minutes order."""
    total = int(buckets[0]["all"])

    def at(rank: int) -> int:
        return next(b["minutes"] for b in buckets if int(b["upto"]) - int(b["n"]) <= rank < int(b["upto"]))

    return (at((total - 1) // 2) + at(total // 2)) / 2


def figures(area: str, by: str, first: datetime, last: datetime, first_day: date, last_day: date,
            now: datetime) -> tuple[list, tuple]:
    """([(key, counts, median seconds)], (total counts, median seconds)) in the stats' count names."""
    counts, late = settled(area, by, first_day, last_day), live(area, by, first, last, now)
    middle = medians(area, by, first_day, last_day)
    groups = []
    for key, c in counts.items():
        if not c["filed"]:
            continue
        extra = late.get(key, {})
        groups.append((None if by == "department" and key == 0 else key, {
            "count": c["filed"], "responded_on_time": c["responded_on_time"],
            "response_due": c["responded"] + extra.get("response_late", 0),
            "resolved_on_time": c["resolved_on_time"],
            "resolution_due": c["resolved"] + extra.get("resolution_late", 0),
            "confirmed": c["confirmed"], "closed": c["closed"], "flagged": c["flagged"],
            "open_overdue": extra.get("open_overdue", 0)}, _seconds(middle.get(key))))
    total = {name: sum(g[1][name] for g in groups) for name in groups[0][1]} if groups else {}
    return groups, (total, _seconds(middle.get(TOTAL)))


def _seconds(minutes: float | None) -> float | None:
    return None if minutes is None else minutes * 60
