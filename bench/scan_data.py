"""Synthetic scans for the data sections, as COPY text: ~20,000 venues over the city's communities (a few hot
ones), millions of code ids each scanning a few times on the days it goes out, one person with exactly 20 visits
(the tracing case). Pure and deterministic for a seed, so a re-run writes the same rows."""
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

VENUE_BASE = 7_300_000_000_000_000_000  # synthetic ids, far from random_id's draws colliding in practice
CODE_BASE = 7_100_000_000_000_000_000
PERSON = CODE_BASE  # the tracing case: exactly PERSON_VISITS scans, never otherwise drawn
PERSON_VISITS = 20
COLUMNS = ("scanned_at", "id", "venue_id", "health_code_id", "kind", "colour", "passed", "staff_user_id", "offline")
# Local day 06:00-23:00 Asia/Shanghai is 22:00 (the day before) to 15:00 UTC.
DAY_OPENS, DAY_SECONDS = -2 * 3600, 17 * 3600
SCANS_PER_OUTING = (1, 2, 2, 3, 3, 3, 4, 5)


@dataclass(frozen=True)
class Shape:
    """How the synthetic city looks: venues (the first `hot` take `hot_share` of the scans) and code ids."""

    venues: int = 20_000
    hot: int = 200
    hot_share: float = 0.4
    codes: int = 3_000_000

    def venue_id(self, n: int) -> int:
        return VENUE_BASE + n

    def hot_venue_ids(self) -> list[int]:
        return [self.venue_id(n) for n in range(self.hot)]


def _stamp_table(start: datetime, days: int) -> list[str]:
    """'YYYY-mm-dd HH:MM:' for every minute from start, so a row's time is one lookup and two digits."""
    return [f"{start + timedelta(minutes=m):%Y-%m-%d %H:%M:}" for m in range(days * 1440 + 1440)]


def _line(stamp: str, sec: int, rid: int, venue: int, code: int, staff: bool, colour: int) -> str:
    kind, staff_id = ("staff", "1") if staff else ("checkin", "\\N")
    col = "green" if colour > 2 else ("yellow", "red", "yellow")[colour]
    return f"{stamp}{sec:02d}+00\t{rid}\t{venue}\t{code}\t{kind}\t{col}\t{'t' if colour > 2 else 'f'}\t{staff_id}\tf\n"


def _person(rng: random.Random, stamps: list[str], shape: Shape, days: int) -> list[tuple]:
    """PERSON's visits as (minute stamp, second, id, venue): the first draws of the seed, a quarter at hot venues."""
    visits = []
    for visit in range(PERSON_VISITS):
        venue = shape.venue_id(visit * 7 % shape.hot if visit % 4 == 0
                               else shape.hot + rng.randrange(shape.venues - shape.hot))
        second = 86_400 + visit * days * 86_400 // PERSON_VISITS + DAY_OPENS + 3600 * (3 + visit % 12)
        visits.append((stamps[second // 60], second % 60, rng.getrandbits(62) + 1, venue))
    return visits


def person_keys(*, start: datetime, days: int, seed: int, shape: Shape = Shape()) -> list[tuple[str, int]]:
    """(scanned_at text, id): the primary keys of PERSON's visits in chunks(..., person=True) for the same seed."""
    rows = _person(random.Random(seed), _stamp_table(start - timedelta(days=1), days), shape, days)
    return [(f"{stamp}{second:02d}+00", rid) for stamp, second, rid, _ in rows]


def chunks(*, rows: int, start: datetime, days: int, seed: int, shape: Shape = Shape(), person: bool = False,
           size: int = 50_000):
    """Exactly `rows` COPY lines (chunks of `size` lines joined) of scans between start (UTC midnight) and
    start + days; with `person`, 20 of them are PERSON's visits, a quarter of them at hot venues."""
    rng = random.Random(seed)
    stamps = _stamp_table(start - timedelta(days=1), days)  # the first local morning starts the UTC day before
    hot, hot_share, n_venues, n_codes = shape.hot, shape.hot_share, shape.venues, shape.codes
    draw, bits = rng.random, rng.getrandbits
    lines, left = [], rows
    if person:
        lines = [_line(stamp, second, rid, venue, PERSON, False, 9)
                 for stamp, second, rid, venue in _person(rng, stamps, shape, days)]
        left -= PERSON_VISITS
    while left > 0:
        code = CODE_BASE + 1 + int(draw() * (n_codes - 1))
        day_start = 86_400 * (1 + int(draw() * days)) + DAY_OPENS
        for _ in range(min(left, SCANS_PER_OUTING[bits(3)])):
            n = int(draw() * hot) if draw() < hot_share else int(draw() * n_venues)
            second = day_start + int(draw() * DAY_SECONDS)
            lines.append(_line(stamps[second // 60], second % 60, bits(62) + 1, VENUE_BASE + n, code,
                               draw() < 0.3, int(draw() * 200)))
            left -= 1
        if len(lines) >= size:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)
