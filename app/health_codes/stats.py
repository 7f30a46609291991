"""Colour counts over time: how many holders (persons) were green, yellow and red at each day's end.

Nothing here scans the persons table. At city scale almost every person is green, so:

- yellow and red now are counted exactly through the partial index `ix_health_persons_not_green`,
  which holds only the persons who are not green (a small set);
- all persons now are a full count taken at most every PERSONS_TTL seconds (kept in the JSON
  cache), plus the first assignments recorded since (each new person gets one audit row, from
  NULL); green is that total less yellow and red;
- each earlier day is walked back from now with the net colour moves of the append-only audit
  rows (`health_code_colour_changes`, one row per decision on a person), read by the index on
  `changed_at` for the period only: a row from A to B moved one person out of A and into B, a
  first assignment into B.

What the audit cannot show: a person erased since (green and unlinked for the retention period,
its rows deleted with it) is missing from earlier days' green; a timed change (yellow turning
green) counts from the day the refresh job writes it; and an official decision counts as the
colour it names, also where the rules then kept another."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select

from app.common import cache
from app.common import time as clock
from app.common.sql import epoch
from app.common.time import SHANGHAI, as_utc, to_shanghai
from app.errors import ValidationFailed
from app.extensions import db
from app.health_codes.models import COLOURS, ColourChange, Person

MAX_DAYS = 92  # one chart: a quarter at most
PERSONS_TTL = 600
PERSONS_KEY = "hc:persons-count"
DAY = 86400


@dataclass(frozen=True)
class DayCounts:
    """Persons per colour at the end of one local day (today: as of now)."""

    date: date
    green: int
    yellow: int
    red: int


@dataclass(frozen=True)
class ColourCounts:
    """The days from `first` to `last`, counted as of `as_of`."""

    first: date
    last: date
    as_of: datetime
    days: list[DayCounts]


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def _persons_now(now: datetime) -> int:
    """All persons: the cached full count, plus the first assignments recorded after it."""
    counted = cache.cached(
        PERSONS_KEY, lambda: {"at": now.isoformat(), "n": _count_persons()}, ttl=PERSONS_TTL
    )
    since = datetime.fromisoformat(counted["at"])
    created = db.session.execute(
        select(func.count()).where(
            ColourChange.changed_at > since,
            ColourChange.changed_at <= now,
            ColourChange.from_colour.is_(None),
        )
    ).scalar()
    return counted["n"] + created


def _count_persons() -> int:
    return db.session.execute(select(func.count()).select_from(Person)).scalar()


def current(now: datetime) -> dict[str, int]:
    """{colour: persons} now: yellow and red through the partial index, green the rest."""
    rows = db.session.execute(
        select(Person.colour, func.count()).where(Person.colour != "green").group_by(Person.colour)
    ).all()
    counts = {"green": 0, "yellow": 0, "red": 0, **dict(rows)}
    counts["green"] = max(0, _persons_now(now) - counts["yellow"] - counts["red"])
    return counts


def daily_moves(start: datetime, now: datetime) -> list[tuple[int, str | None, str, int]]:
    """(day index from start, from colour, to colour, rows) of the audit rows in [start, now)
    that moved a person."""
    day = ((epoch(ColourChange.changed_at) - int(start.timestamp())) / DAY).label("day")
    stmt = (
        select(day, ColourChange.from_colour, ColourChange.to_colour, func.count())
        .where(
            ColourChange.changed_at >= start,
            ColourChange.changed_at < now,
            or_(
                ColourChange.from_colour.is_(None),
                ColourChange.from_colour != ColourChange.to_colour,
            ),
        )
        .group_by(day, ColourChange.from_colour, ColourChange.to_colour)
    )
    return [(int(d), f, t, n) for d, f, t, n in db.session.execute(stmt).all()]


def check_period(first: date, last: date, today: date) -> None:
    """Refuse a period that is reversed, reaches past today, or is longer than MAX_DAYS."""
    if first > last:
        raise ValidationFailed(
            "period_invalid",
            "起始日期不能晚于截止日期",
            errors={"query": {"from": ["晚于截止日期"]}},
        )
    if last > today:
        raise ValidationFailed(
            "period_invalid", "截止日期不能晚于今天", errors={"query": {"to": ["晚于今天"]}}
        )
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(
            "period_too_long",
            f"一次最多查询 {MAX_DAYS} 天",
            errors={"query": {"from": [f"最多 {MAX_DAYS} 天"]}},
        )


def colour_counts(*, first: date, last: date, now: datetime | None = None) -> ColourCounts:
    """Persons per colour at the end of each local (Asia/Shanghai) day from first to last
    (today: as of now)."""
    now = as_utc(now or clock.utcnow())
    check_period(first, last, to_shanghai(now).date())
    start = _start_of(first)
    span = (
        to_shanghai(now).date() - first
    ).days + 1  # days from first to today, all walked back over
    net = [{c: 0 for c in COLOURS} for _ in range(span)]
    for day, before, after, rows in daily_moves(start, now):
        if 0 <= day < span:
            net[day][after] += rows
            if before is not None:
                net[day][before] -= rows
    counts, days = current(now), []
    for index in range(span - 1, -1, -1):
        if index <= (last - first).days:
            days.append(DayCounts(first + timedelta(days=index), **counts))
        counts = {c: counts[c] - net[index][c] for c in COLOURS}
    return ColourCounts(first, last, now, days[::-1])
