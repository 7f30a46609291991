"""The figures of a street or wider area from the tallies: the settled counts summed over the area's tally rows of
the window's months and days (reads(): a cut month may read as the month less the days outside), what the clock
decides (a deadline passing) counted live over the open cases filed in it (a partial index keeps them few), and the
exact median. The tallies' coarse buckets say which bucket holds the middle rank(s) and at what rank inside it; the
sub-bucket counts of that bucket say which sixteenth holds it, and only that sixteenth's minutes are read, group by
group. Sub-buckets are kept per street, and per department and category in the city and each district; a street's
departments and categories read the bucket's minutes (a few hundred). A group's key is the street, department or
category; the total adds the groups up (they split the area)."""
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, String, and_, bindparam, case, func, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY

from app.areas import service as area_service
from app.common.upsert import is_postgres
from app.extensions import db
from app.reports.models import (
    BUCKETS,
    DAY,
    DIMS,
    MONTH,
    OPEN_STATES,
    SUBS,
    Report,
    ResolveMinutes,
    ResolveSubs,
    Tally,
)
from app.reports.tallies import COUNTS, SUB_LEVELS, sub_of_row, sub_range

TOTAL = "total"  # the medians' key of the whole area
NO_END = 2 ** 31 - 1  # the end of the last sub-bucket, which has none
REBUILD = "the histogram and the tallies disagree: run flask reports rebuild-tallies"


def _run(statement) -> list:
    """The rows of a statement, executed on the session's connection and fetched at once: plain rows, none of the
    ORM's result processing (these are thousands of rows)."""
    return db.session.connection().execute(statement).all()


def _month_end(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def reads(first_day: date, last_day: date) -> list[tuple[int, str, date, date]]:
    """(sign, grain, first period, last period): signed sums of these cover [first_day, last_day] with the fewest
    rows. A whole month reads by month; the days of a cut month read by day, or, when that is more rows, as the
    month less the days outside the window. Adjacent periods of one sign and grain make one range."""
    pieces = []
    day = first_day
    while day <= last_day:
        month, end = day.replace(day=1), _month_end(day)
        lo, hi = day, min(end, last_day)
        inside, outside = (hi - lo).days + 1, (lo - month).days + (end - hi).days
        if 1 + outside < inside or not outside:
            pieces += [(1, MONTH, month, month), (-1, DAY, month, lo - timedelta(days=1)),
                       (-1, DAY, hi + timedelta(days=1), end)]
        else:
            pieces.append((1, DAY, lo, hi))
        day = end + timedelta(days=1)
    found: list = []
    for sign, grain, lo, hi in sorted((p for p in pieces if p[2] <= p[3]), key=lambda p: (-p[0], p[1], p[2])):
        if found and found[-1][:2] == (sign, grain) and lo == timedelta(days=1) + (
                found[-1][3] if grain == DAY else _month_end(found[-1][3])):
            found[-1] = (sign, grain, found[-1][2], hi)
        else:
            found.append((sign, grain, lo, hi))
    return found


def _signed(reads_: list, condition) -> tuple:
    """(rows of any of the reads, +1 or -1 by the read a row falls in) for condition(grain, lo, hi)."""
    minus = [condition(grain, lo, hi) for sign, grain, lo, hi in reads_ if sign < 0]
    return or_(*[condition(grain, lo, hi) for _, grain, lo, hi in reads_]), case((or_(*minus), -1), else_=1) \
        if minus else case((true(), 1))  # an expression, never a bare constant (GROUP BY 1 names a column)


def _street(key: int) -> str:
    return str(key).zfill(9)


def settled(area: str, by: str, first_day: date, last_day: date) -> dict:
    """{key: {count name: sum}} over the area's tally rows of one dimension in the window."""
    t, found = Tally, {}
    rows, sign = _signed(reads(first_day, last_day), lambda grain, lo, hi: and_(t.grain == grain, t.period >= lo,
                                                                                t.period <= hi))
    for key, times, *counts in _run(select(t.group_key, sign, *[func.sum(getattr(t, c)) for c in COUNTS])
                                    .where(t.dim == DIMS[by], t.area_code == area, rows).group_by(t.group_key, sign)):
        key = _street(key) if by == "street" else key
        counts = [times * int(n or 0) for n in counts]
        found[key] = [a + b for a, b in zip(found[key], counts)] if key in found else counts
    return {key: dict(zip(COUNTS, counts)) for key, counts in found.items()}


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
    rows = _run(select(key, _late(and_(r.responded_at.is_(None), r.accept_due_at < now)).label("response_late"),
                       _late(and_(r.resolved_at.is_(None), r.resolve_due_at < now)).label("resolution_late"),
                       _late(r.due_at < now).label("open_overdue"))
                .where(r.state.in_(OPEN_STATES), r.submitted_at >= first, r.submitted_at < last,
                       area_service.in_subtree(r.grid_code, area))
                .group_by(key))
    return {key: dict(zip(("response_late", "resolution_late", "open_overdue"), (int(n or 0) for n in late)))
            for key, *late in rows}


def _locate(counts: list[int], rank: int) -> tuple[int, int]:
    """(index, rank inside it) of the entry of a histogram's counts that holds a rank."""
    before = 0
    for index, n in enumerate(counts):
        if rank < before + n:
            return index, rank - before
        before += n
    raise LookupError(REBUILD)


def _ranks(coarse: list[int]) -> list[tuple[int, int]]:
    """(bucket, rank inside it) of the middle rank, or of the two middle ranks, of a non-empty coarse histogram."""
    total = sum(coarse)
    return [_locate(coarse, rank) for rank in sorted({(total - 1) // 2, total // 2})]


def _at(minutes: list, rank: int) -> int:
    """The resolve time at a rank of a bucket's [(minutes, n)] in minutes order."""
    return minutes[_locate([n for _, n in minutes], rank)[0]][0]


def _sub_counts(area: str, by: str, first_day: date, last_day: date, buckets: set[int]) -> dict:
    """{(bucket, key): counts per sub-bucket} over the window, in the given coarse buckets, per street of the area
    (by street) or per department or category inside it: months from report_resolve_subs, days from the minutes
    (reads())."""
    s, h = ResolveSubs, ResolveMinutes
    found: dict = defaultdict(lambda: [0] * len(SUBS))
    window = reads(first_day, last_day)
    months = [(lo, hi) for _, grain, lo, hi in window if grain == MONTH]
    days = [r for r in window if r[1] == DAY]
    statements = []
    if months:  # whole months count in full: never less some days
        key, area_rows = (s.area_code, area_service.in_subtree(s.area_code, area)) if by == "street" else \
            (s.group_key, s.area_code == area)
        statements.append(select(s.bucket, key, *[func.sum(getattr(s, c)) for c in SUBS]).where(
            s.bucket.in_(buckets), s.dim == DIMS[by], area_rows,
            or_(*[and_(s.month >= lo, s.month <= hi) for lo, hi in months])).group_by(s.bucket, key))
    if days:  # the same counts from the minutes: summed per sub-bucket (signed), then a column per sub-bucket
        rows, sign = _signed(days, lambda _, lo, hi: and_(h.day >= lo, h.day <= hi))
        key = _key(h, by).label("key")
        sub = sub_of_row(h.bucket, h.minutes, buckets)
        per = select(h.bucket, key, sub.label("sub"), func.sum(h.n * sign).label("n")).where(
            h.bucket.in_(buckets), area_service.in_subtree(h.street_code, area), rows) \
            .group_by(h.bucket, key, sub).subquery()
        statements.append(select(per.c.bucket, per.c.key,
                                 *[func.sum(case((per.c.sub == i, per.c.n), else_=0)) for i in range(len(SUBS))])
                          .group_by(per.c.bucket, per.c.key))
    for statement in statements:
        for bucket, key, *counts in _run(statement):
            found[(bucket, key)] = [a + int(b) for a, b in zip(found[(bucket, key)], counts)]
    return found


def _minutes_in(area: str, by: str, first_day: date, last_day: date, ranges: set[tuple]) -> dict:
    """{(key, first): [(minutes, n)]} of the reports filed in the window inside the area, of each group's [first,
    end) minutes range ((key, first, end) in ranges): an index range of the group's minutes (a street's, a
    department's or a category's)."""
    h, found = ResolveMinutes, defaultdict(list)
    column = _key(h, by)
    window = and_(h.day >= first_day, h.day <= last_day)
    if by != "street":  # a street is inside the area by choice; a department's reports are everywhere
        window = and_(window, area_service.in_subtree(h.street_code, area))
    if is_postgres():
        ranges = sorted(ranges, key=lambda r: (r[0], r[1]))
        p = _unnested("ranges", key=([r[0] for r in ranges], ARRAY(String) if by == "street" else ARRAY(Integer)),
                      first=([r[1] for r in ranges], ARRAY(Integer)),
                      end=([NO_END if r[2] is None else r[2] for r in ranges], ARRAY(Integer)))
        rows = _run(select(p.c.key, p.c.first, h.minutes, func.sum(h.n))
                    .join_from(p, h, and_(column == p.c.key, h.minutes >= p.c.first, h.minutes < p.c.end))
                    .where(window).group_by(p.c.key, p.c.first, h.minutes))
        for key, first, minutes, n in rows:
            found[(key, first)].append((minutes, int(n)))
        return found
    by_key = defaultdict(list)
    for key, first, end in ranges:
        by_key[key].append((first, NO_END if end is None else end))
    rows = _run(select(column, h.minutes, func.sum(h.n)).where(window, or_(*[
        and_(column == key, h.minutes >= first, h.minutes < end) for key, first, end in ranges]))
        .group_by(column, h.minutes))
    for key, minutes, n in rows:
        for first, end in by_key[key]:
            if first <= minutes < end:
                found[(key, first)].append((minutes, int(n)))
    return found


def _picked_by_subs(area: str, by: str, first_day: date, last_day: date, wanted: dict) -> dict:
    """{(key, bucket, rank): minutes} for wanted {key: [(bucket, rank)]}, a key being a group of the area (a street,
    department or category) or TOTAL (all of them): the sub-bucket counts say which sub-bucket holds the rank,
    then its minutes are read."""
    subs = _sub_counts(area, by, first_day, last_day, {b for ranks in wanted.values() for b, _ in ranks})
    located = {}
    for key, ranks in wanted.items():
        for bucket, rank in ranks:
            groups = [k for b, k in subs if b == bucket] if key == TOTAL else [key]
            counts = [sum(column) for column in zip(*(subs.get((bucket, k), [0] * len(SUBS)) for k in groups))]
            sub, inside = _locate(counts, rank)
            first, end = sub_range(bucket, sub)
            located[(key, bucket, rank)] = ([k for k in groups if subs[(bucket, k)][sub]], first, end, inside)
    minutes = _minutes_in(area, by, first_day, last_day, {(k, first, end) for groups, first, end, _ in located.values()
                                                          for k in groups})
    found = {}
    for wanted_key, (groups, first, _, inside) in located.items():
        merged: Counter = Counter()
        for k in groups:
            for value, n in minutes.get((k, first), []):
                merged[value] += n
        found[wanted_key] = _at(sorted(merged.items()), inside)
    return found


def _picked_here(where, key, wanted: list[tuple]) -> dict:
    """{(bucket, key, rank): minutes}: the wanted buckets' histograms read back and walked here."""
    h = ResolveMinutes
    pairs = {(bucket, k) for bucket, k, _ in wanted}
    found: dict = {}
    for k, bucket, minutes, n in _run(
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
    rows = _run(select(w.c.bucket, w.c.key, w.c.rank, ranked.c.minutes).join_from(w, ranked, and_(
        ranked.c.key == w.c.key, ranked.c.bucket == w.c.bucket, ranked.c.upto - ranked.c.n <= w.c.rank,
        w.c.rank < ranked.c.upto)))
    return {(b, k, r): minutes for b, k, r, minutes in rows}


def medians(area: str, by: str, first_day: date, last_day: date, coarse: dict) -> dict:
    """{key, and TOTAL: median minutes to resolve} from the groups' coarse buckets ({key: counts per bucket})."""
    wanted = {k: _ranks(counts) for k, counts in coarse.items() if any(counts)}
    if not wanted:
        return {}
    wanted[TOTAL] = _ranks([sum(column) for column in zip(*coarse.values())])
    if by == "street" or len(area) in SUB_LEVELS:  # sub-buckets kept for these (report_resolve_subs)
        found = _picked_by_subs(area, by, first_day, last_day, wanted)
    else:  # a street's departments or categories: a few hundred minutes a bucket
        found = _picked_by_subs(area, "street", first_day, last_day, {TOTAL: wanted[TOTAL]})
        pick, h = _picked_in_database if is_postgres() else _picked_here, ResolveMinutes
        picked = pick(_where(h, area, first_day, last_day), _key(h, by),
                      [(b, k, r) for k, ranks in wanted.items() if k != TOTAL for b, r in ranks])
        found.update({(k, b, r): minutes for (b, k, r), minutes in picked.items()})
    return {k: sum(found[(k, b, r)] for b, r in ranks) / len(ranks) for k, ranks in wanted.items()}


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
