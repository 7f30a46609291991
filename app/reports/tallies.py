"""The tallies behind the figures. Each report counts, by the Guangzhou day it was filed and by that day's month,
in the city, its district and its street, once per dimension (its street, its department, its category, and the
whole area): the counts of its settled outcomes and a coarse bucket of its resolve time (report_tallies). Its
resolve time in whole minutes counts once, by day, street, department and category (report_resolve_minutes), and
its sub-bucket by month and coarse bucket, in its street and, per department and per category, in the city and
its district (report_resolve_subs). So an area's figures over a window, grouped any way, read one area's rows
for the window's months and days, whatever the area's size.
Every flush that adds, changes or deletes a report takes its old contribution off and puts its new one on, as
atomic upserts (`n = n + delta`, keys in one order) in the flush's own transaction, so the tallies are exact
whichever path wrote the report and whatever runs beside it. What depends on the clock (a deadline passing) is
never tallied: tally_figures.py counts it live over the open cases. `flask reports rebuild-tallies` recomputes
everything from the reports (after a bulk load that bypassed the ORM, or to check them)."""
from bisect import bisect_right
from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import case, delete, event, inspect, select, text
from sqlalchemy.orm import Session

from app.common import time as clock
from app.common.upsert import insert
from app.reports.models import (
    BUCKET_EDGES,
    BUCKETS,
    DAY,
    DIMS,
    LAST_WIDTH,
    MONTH,
    SUBS,
    Report,
    ResolveMinutes,
    ResolveSubs,
    Tally,
)

OUTCOMES = ("filed", "responded", "responded_on_time", "resolved", "resolved_on_time", "confirmed", "closed",
            "flagged")
COUNTS = (*OUTCOMES, *BUCKETS)
KEY = ("dim", "area_code", "grain", "period", "group_key")
MINUTES_KEY = ("day", "street_code", "department_id", "category_id", "minutes")
SUBS_KEY = ("bucket", "dim", "area_code", "group_key", "month")
SUB_LEVELS = (4, 6)  # the city, a district: where sub-buckets are also kept per department and per category
LEVELS = (4, 6, 9)  # the city, a district, a street: their code lengths
CLOSED_OUT = ("rejected", "duplicate")  # answered but never resolved: outside 解决率
COLUMNS = ("submitted_at", "grid_code", "department_id", "category_id", "state", "flagged", "responded_at",
           "accept_due_at", "resolved_at", "resolve_due_at")


def minutes_between(start: datetime, end: datetime) -> int:
    """Whole minutes from start to end (rounded down): the histogram's resolution."""
    delta = clock.as_utc(end) - clock.as_utc(start)
    return (delta.days * 86400 + delta.seconds) // 60


def bucket_of(minutes: int) -> int:
    """The coarse bucket (index into BUCKET_EDGES) a resolve time falls in."""
    return max(0, bisect_right(BUCKET_EDGES, minutes) - 1)


def bucket_width(bucket: int) -> int:
    return (BUCKET_EDGES[bucket + 1] if bucket + 1 < len(BUCKET_EDGES) else BUCKET_EDGES[bucket] + LAST_WIDTH) \
        - BUCKET_EDGES[bucket]


def sub_of(bucket: int, minutes: int) -> int:
    """The sub-bucket (0 … 15) of a resolve time inside its coarse bucket."""
    return min(len(SUBS) - 1, (minutes - BUCKET_EDGES[bucket]) * len(SUBS) // bucket_width(bucket))


def sub_of_row(bucket, minutes, buckets: set[int]):
    """sub_of as a SQL expression over a bucket and a minutes column, for rows in the given buckets."""
    starts = case({b: BUCKET_EDGES[b] for b in buckets}, value=bucket)
    widths = case({b: bucket_width(b) for b in buckets}, value=bucket)
    raw = (minutes - starts) * len(SUBS) // widths
    return case((raw > len(SUBS) - 1, len(SUBS) - 1), else_=raw)


def sub_range(bucket: int, sub: int) -> tuple[int, int | None]:
    """[first, end) minutes of a sub-bucket (end None: no end), the times sub_of puts in it."""
    start, width, parts = BUCKET_EDGES[bucket], bucket_width(bucket), len(SUBS)
    end = None if sub == parts - 1 and bucket == len(BUCKET_EDGES) - 1 else start - (-(sub + 1) * width // parts)
    return start - (-sub * width // parts), end


def day_filed(submitted_at: datetime) -> date:
    """The Guangzhou date a report was filed on: the tallies' day."""
    return clock.to_shanghai(submitted_at).date()


def outcome(v: dict) -> tuple[tuple, tuple[int, ...], int | None]:
    """((day, street, department or 0, category), counts in COUNTS order, minutes to resolve or None) of one
    report's column values."""
    responded = v["responded_at"] is not None
    resolved = v["resolved_at"] is not None and v["state"] not in CLOSED_OUT
    counts = (True, responded, responded and clock.as_utc(v["responded_at"]) <= clock.as_utc(v["accept_due_at"]),
              resolved, resolved and clock.as_utc(v["resolved_at"]) <= clock.as_utc(v["resolve_due_at"]),
              v["state"] == "confirmed", v["state"] in ("confirmed", "closed"), bool(v["flagged"]))
    key = (day_filed(v["submitted_at"]), v["grid_code"][:9], v["department_id"] or 0, v["category_id"])
    minutes = None if v["resolved_at"] is None else minutes_between(v["submitted_at"], v["resolved_at"])
    buckets = [0] * len(BUCKETS)
    if minutes is not None:
        buckets[bucket_of(minutes)] = 1
    return key, (*(int(c) for c in counts), *buckets), minutes


def keys(day: date, street: str, department: int, category: int) -> list[tuple]:
    """The tally keys (KEY order) a report filed on day in street counts under."""
    groups = ((DIMS["street"], int(street)), (DIMS["department"], department), (DIMS["category"], category),
              (DIMS["total"], 0))
    return [(dim, street[:length], grain, period, group)
            for grain, period in ((DAY, day), (MONTH, day.replace(day=1)))
            for length in LEVELS for dim, group in groups]


def sub_keys(bucket: int, month: date, street: str, department: int, category: int) -> list[tuple]:
    """The sub-bucket keys (SUBS_KEY order) a resolved report counts under."""
    return [(bucket, DIMS["street"], street, 0, month)] + [
        (bucket, DIMS[dim], street[:length], group, month)
        for length in SUB_LEVELS for dim, group in (("department", department), ("category", category))]


class Changes:
    """Tally and histogram deltas, summed by key."""

    def __init__(self):
        self.tallies = defaultdict(lambda: [0] * len(COUNTS))
        self.minutes = defaultdict(int)
        self.subs = defaultdict(lambda: [0] * len(SUBS))

    def add(self, values: dict, sign: int) -> None:
        base, counts, minutes = outcome(values)
        for key in keys(*base):
            row = self.tallies[key]
            for i, count in enumerate(counts):
                row[i] += sign * count
        if minutes is not None:
            self.minutes[(*base, minutes)] += sign
            bucket, month = bucket_of(minutes), base[0].replace(day=1)
            for key in sub_keys(bucket, month, *base[1:]):
                self.subs[key][sub_of(bucket, minutes)] += sign

    def apply(self, connection) -> None:
        """Upsert the non-zero deltas, in key order (two flushes never wait on each other's rows crosswise)."""
        tallies = [dict(zip(KEY, key), **dict(zip(COUNTS, row)))
                   for key, row in sorted(self.tallies.items()) if any(row)]
        minutes = [dict(zip(MINUTES_KEY, key), bucket=bucket_of(key[-1]), n=n)
                   for key, n in sorted(self.minutes.items()) if n]
        subs = [dict(zip(SUBS_KEY, key), **dict(zip(SUBS, row))) for key, row in sorted(self.subs.items()) if any(row)]
        for table, rows, counts in ((Tally.__table__, tallies, COUNTS),
                                    (ResolveMinutes.__table__, minutes, ("n",)), (ResolveSubs.__table__, subs, SUBS)):
            if rows:
                stmt = insert(table)
                connection.execute(stmt.on_conflict_do_update(
                    index_elements=[c.name for c in table.primary_key],
                    set_={c: table.c[c] + stmt.excluded[c] for c in counts}), rows)


def _values(report: Report, *, before: bool) -> dict:
    """The report's columns as they were at the last flush (before) or as they are now."""
    attrs = inspect(report).attrs
    values = {}
    for name in COLUMNS:
        history = attrs[name].history
        values[name] = history.deleted[0] if before and history.deleted else getattr(report, name)
    return values


def _after_flush(session: Session, _context) -> None:
    changes = Changes()
    for report in session.new:
        if isinstance(report, Report):
            changes.add(_values(report, before=False), +1)
    for report in session.dirty:
        if isinstance(report, Report) and session.is_modified(report):
            changes.add(_values(report, before=True), -1)
            changes.add(_values(report, before=False), +1)
    for report in session.deleted:
        if isinstance(report, Report):
            changes.add(_values(report, before=True), -1)
    if changes.tallies:
        changes.apply(session.connection())


def install() -> None:
    """Keep the tallies in every session's flushes (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


def recount(connection) -> Changes:
    """The tallies as the reports make them now, counted here (the reference the kept tallies must equal)."""
    changes = Changes()
    table = Report.__table__
    for row in connection.execute(select(*[table.c[name] for name in COLUMNS])).mappings():
        changes.add(row, +1)
    return changes


# PostgreSQL: the same rules as outcome() and keys(), as grouped passes: the reports counted once per day, street,
# department and category, then those rows summed into every tally key.
_MINUTES = "floor(extract(epoch FROM resolved_at - submitted_at) / 60)::int"
_BUCKET = f"greatest(width_bucket({_MINUTES}, ARRAY{list(BUCKET_EDGES)}) - 1, 0)"
_BASE_KEY = {"day": "(submitted_at AT TIME ZONE 'Asia/Shanghai')::date", "street": "substr(grid_code, 1, 9)",
             "department": "coalesce(department_id, 0)", "category": "category_id"}
_BASE = f"""
CREATE TEMPORARY TABLE report_tally_base ON COMMIT DROP AS
SELECT {', '.join(f"{sql} AS {name}" for name, sql in _BASE_KEY.items())},
       count(*) AS filed, count(responded_at) AS responded,
       count(*) FILTER (WHERE responded_at <= accept_due_at) AS responded_on_time,
       count(*) FILTER (WHERE resolved_at IS NOT NULL AND state NOT IN ('rejected', 'duplicate')) AS resolved,
       count(*) FILTER (WHERE resolved_at <= resolve_due_at AND state NOT IN ('rejected', 'duplicate'))
           AS resolved_on_time,
       count(*) FILTER (WHERE state = 'confirmed') AS confirmed,
       count(*) FILTER (WHERE state IN ('confirmed', 'closed')) AS closed, count(*) FILTER (WHERE flagged) AS flagged,
       {', '.join(f"count(*) FILTER (WHERE resolved_at IS NOT NULL AND {_BUCKET} = {i}) AS {name}"
                  for i, name in enumerate(BUCKETS))}
FROM reports GROUP BY 1, 2, 3, 4
"""
_FILL_TALLIES = f"""
INSERT INTO report_tallies ({', '.join(KEY + COUNTS)})
SELECT d.dim, substr(b.street, 1, l.length), g.grain,
       CASE g.grain WHEN '{DAY}' THEN b.day ELSE date_trunc('month', b.day)::date END,
       CASE d.dim WHEN '{DIMS["street"]}' THEN b.street::int WHEN '{DIMS["department"]}' THEN b.department
                  WHEN '{DIMS["category"]}' THEN b.category ELSE 0 END,
       {', '.join(f"sum(b.{c})" for c in COUNTS)}
FROM report_tally_base b
     CROSS JOIN (VALUES ('{DAY}'), ('{MONTH}')) AS g (grain)
     CROSS JOIN (VALUES {', '.join(f"({n})" for n in LEVELS)}) AS l (length)
     CROSS JOIN (VALUES {', '.join(f"('{d}')" for d in DIMS.values())}) AS d (dim)
GROUP BY 1, 2, 3, 4, 5
"""
_FILL_MINUTES = f"""
INSERT INTO report_resolve_minutes ({', '.join(MINUTES_KEY)}, bucket, n)
SELECT {', '.join(_BASE_KEY.values())}, {_MINUTES}, {_BUCKET}, count(*)
FROM reports WHERE resolved_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6
"""
_STARTS = f"ARRAY{list(BUCKET_EDGES)}"
_WIDTHS = f"ARRAY{[bucket_width(b) for b in range(len(BUCKET_EDGES))]}"
_SUB = f"least({len(SUBS) - 1}, (minutes - ({_STARTS})[bucket + 1]) * {len(SUBS)} / ({_WIDTHS})[bucket + 1])"
_FILL_SUBS = f"""
INSERT INTO report_resolve_subs ({', '.join(SUBS_KEY + SUBS)})
SELECT bucket, d.dim, substr(street_code, 1, d.length),
       CASE d.dim WHEN '{DIMS["street"]}' THEN 0 WHEN '{DIMS["department"]}' THEN department_id ELSE category_id END,
       date_trunc('month', day)::date,
       {', '.join(f"coalesce(sum(n) FILTER (WHERE {_SUB} = {i}), 0)" for i in range(len(SUBS)))}
FROM report_resolve_minutes
     CROSS JOIN (VALUES ('{DIMS["street"]}', 9), {', '.join(f"('{DIMS[dim]}', {n})" for n in SUB_LEVELS
                                                             for dim in ("department", "category"))}) AS d (dim, length)
GROUP BY 1, 2, 3, 4, 5
"""


def fill(connection) -> None:
    """Replace the tallies with a full recount of the reports (inside the caller's transaction)."""
    for model in (ResolveSubs, ResolveMinutes, Tally):
        connection.execute(delete(model.__table__))
    if connection.dialect.name == "postgresql":
        connection.execute(text("DROP TABLE IF EXISTS report_tally_base"))
        connection.execute(text(_BASE))
        connection.execute(text(_FILL_TALLIES))
        connection.execute(text(_FILL_MINUTES))
        connection.execute(text(_FILL_SUBS))
    else:
        recount(connection).apply(connection)
