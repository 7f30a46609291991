"""The figures of a street or wider area from the tallies: the settled counts summed over the area's tally rows of
the window's whole months and its other days, what the clock decides (a deadline passing) counted live over the
open cases filed in it (a partial index keeps them few), and the exact median: the tallies' coarse buckets say which
bucket holds the middle rank(s) and at what rank inside it, then only that bucket's minutes are read from the
histogram. A group's key is the street, department or category; the total adds the groups up (they split the
area)."""
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, String, and_, bindparam, case, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY

from app.areas import service as area_service
from app.common.upsert import is_postgres
from app.extensions import db
from app.reports.models import BUCKETS, DAY, DIMS, MONTH, OPEN_STATES, Report, ResolveMinutes, Tally
from app.reports.tallies import COUNTS

TOTAL = "total"  # the medians' key of the whole area


def spans(first_day: date, last_day: date) -> list[tuple[str, date, date]]:
    """(grain, first period, last period) covering [first_day, last_day]: whole months by month, the rest by day."""
    after = last_day + timedelta(days=1)
    months_from = first_day if first_day.day == 1 else (first_day.replace(day=1) + timedelta(days=32)).replace(day=1)
    months_to = after if after.day == 1 else last_day.replace(day=1)  # the day after the last whole month
    if months_from >= months_to:
        return [(DAY, first_day, last_day)]
    found = [(DAY, first_day, months_from - timedelta(days=1)), (MONTH, months_from, months_to - timedelta(days=1)),
             (DAY, months_to, last_day)]
    return [(grain, lo, hi) for grain, lo, hi in found if lo <= hi]


def _street(key: int) -> str:
    return str(key).zfill(9)


def settled(area: str, by: str, first_day: date, last_day: date) -> dict:
    """{key: {count name: sum}} over the area's tally rows of one dimension in the window."""
    t = Tally
    periods = or_(*[and_(t.grain == grain, t.period >= lo, t.period <= hi)
                    for grain, lo, hi in spans(first_day, last_day)])
    rows = db.session.execute(select(t.group_key.label("key"), *[func.sum(getattr(t, c)).label(c) for c in COUNTS])
                              .where(t.dim == DIMS[by], t.area_code == area, periods).group_by(t.group_key))
    return {_street(row.key) if by == "street" else row.key: {c: int(getattr(row, c) or 0) for c in COUNTS}
            for row in rows}


def _where(model, area: str, first_day: date, last_day: date):
    return and_(model.day >= first_day, model.day <= last_day, area_service.in_subtree(model.street_code, area))


def _key(model, by: str):
    return {"street": model.street_code, "department": model.department_id, "category": model.category_id}[by]


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


def _ranks(coarse: list[int]) -> list[tuple[int, int]]:
    """(bucket, rank inside it) of the middle rank, or of the two middle ranks, of a coarse histogram."""
    total, found = sum(coarse), []
    for rank in sorted({(total - 1) // 2, total // 2}):
        before = 0
        for bucket, n in enumerate(coarse):
            if rank < before + n:
                found.append((bucket, rank - before))
                break
            before += n
    return found


def _at(minutes: list, rank: int) -> int:
    """The resolve time at a rank of a bucket's [(minutes, n)] in minutes order."""
    before = 0
    for value, n in minutes:
        before += n
        if rank < before:
            return value
    raise LookupError("the histogram and the tallies disagree: run flask reports rebuild-tallies")


def _picked_here(where, key, wanted: list[tuple]) -> dict:
    """{(bucket, key, rank): minutes}: the wanted buckets' histograms read back and walked here."""
    h = ResolveMinutes
    pairs = {(bucket, k) for bucket, k, _ in wanted}
    found: dict = {}
    for k, bucket, minutes, n in db.session.execute(
            select(key, h.bucket, h.minutes, func.sum(h.n)).where(where, h.bucket.in_({b for b, _ in pairs}))
            .group_by(key, h.bucket, h.minutes).order_by(key, h.bucket, h.minutes)):
        if (bucket, k) in pairs:
            found.setdefault((bucket, k), []).append((minutes, int(n)))
    return {(b, k, r): _at(found.get((b, k), []), r) for b, k, r in wanted}


def _unnested(name: str, **columns: tuple[list, ARRAY]):
    """A FROM item `name` of parallel arrays (column name → (values, array type)), bound as parameters."""
    return func.unnest(*[bindparam(f"{name}_{column}", values, kind) for column, (values, kind) in columns.items()]) \
        .table_valued(*columns).render_derived(name=name)


def _picked_in_database(where, key, wanted: list[tuple]) -> dict:
    """PostgreSQL: the same, walked in the database: only the wanted groups' rows of their own buckets are summed
    and ranked (a hash join on the wanted pairs), and only the rows at the wanted ranks come back."""
    h = ResolveMinutes
    key_type = ARRAY(String) if isinstance(wanted[0][1], str) else ARRAY(Integer)
    pairs = sorted({(b, k) for b, k, _ in wanted})
    p = _unnested("pairs", bucket=([b for b, _ in pairs], ARRAY(Integer)), key=([k for _, k in pairs], key_type))
    sums = select(key.label("key"), h.bucket, h.minutes, func.sum(h.n).label("n")) \
        .join_from(h, p, and_(p.c.bucket == h.bucket, p.c.key == key)) \
        .where(where, h.bucket.in_({b for b, _ in pairs})).group_by(key, h.bucket, h.minutes).subquery()
    ranked = select(sums, func.sum(sums.c.n).over(partition_by=(sums.c.key, sums.c.bucket), order_by=sums.c.minutes)
                    .label("upto")).subquery()
    w = _unnested("wanted", bucket=([b for b, _, _ in wanted], ARRAY(Integer)),
                  key=([k for _, k, _ in wanted], key_type), rank=([r for _, _, r in wanted], ARRAY(Integer)))
    rows = db.session.execute(select(w.c.bucket, w.c.key, w.c.rank, ranked.c.minutes).join_from(w, ranked, and_(
        ranked.c.key == w.c.key, ranked.c.bucket == w.c.bucket, ranked.c.upto - ranked.c.n <= w.c.rank,
        w.c.rank < ranked.c.upto)))
    return {(b, k, r): minutes for b, k, r, minutes in rows}


def medians(area: str, by: str, first_day: date, last_day: date, coarse: dict) -> dict:
    """{key, and TOTAL: median minutes to resolve} from the groups' coarse buckets ({key: counts per bucket})."""
    h = ResolveMinutes
    where = _where(h, area, first_day, last_day)
    wanted = {k: _ranks(counts) for k, counts in coarse.items() if any(counts)}
    if not wanted:
        return {}
    wanted[TOTAL] = _ranks([sum(column) for column in zip(*coarse.values())])
    pick = _picked_in_database if is_postgres() else _picked_here
    groups = pick(where, _key(h, by), [(b, k, r) for k, ranks in wanted.items() if k != TOTAL for b, r in ranks])
    whole = pick(where, literal(0), [(b, 0, r) for b, r in wanted[TOTAL]])
    values = {k: [groups[(b, k, r)] for b, r in ranks] for k, ranks in wanted.items() if k != TOTAL}
    values[TOTAL] = [whole[(b, 0, r)] for b, r in wanted[TOTAL]]
    return {k: sum(found) / len(found) for k, found in values.items()}


def figures(area: str, by: str, first: datetime, last: datetime, first_day: date, last_day: date,
            now: datetime) -> tuple[list, tuple]:
    """([(key, counts, median seconds)], (total counts, median seconds)) in the stats' count names."""
    counts, late = settled(area, by, first_day, last_day), live(area, by, first, last, now)
    middle = medians(area, by, first_day, last_day, {k: [c[b] for b in BUCKETS] for k, c in counts.items()})
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
