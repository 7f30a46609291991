"""Monthly partitions of `scans` on PostgreSQL: made ahead, healed from the default partition, detached before
they are dropped.

`scans` is range-partitioned by `scanned_at` in UTC months, with a default partition as a safety net: a row of a
month that has no partition yet (maintenance missed, an old dump restored, a scanner uploading a late batch) lands
there instead of failing. Creating that month's partition later moves its rows out of the default partition in
the same transaction, so the default never blocks maintenance and is empty after it.

No step may freeze the API. Every statement that needs a strong lock (ATTACH needs ACCESS EXCLUSIVE on the
default partition, DETACH on `scans` itself) runs in a short transaction with a small `lock_timeout`: behind a
long read (a backup's `pg_dump`) it gives up before the requests queued behind it notice, waits, and tries again.
A new partition is made as a plain table and attached, never with CREATE TABLE … PARTITION OF (which locks
`scans` whole); `DETACH … CONCURRENTLY` does not apply, since PostgreSQL refuses it while a default partition
exists."""
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.common.time import utcnow
from app.errors import ServiceUnavailable
from app.extensions import db

log = logging.getLogger("jiefang.partitions")

DEFAULT = "scans_default"
# SQLSTATEs that mean "try the maintenance step again later": lock_not_available, deadlock_detected
_RETRYABLE = {"55P03", "40P01"}


def month_start(moment: datetime) -> datetime:
    """The first instant (UTC) of the month `moment` falls in."""
    return moment.astimezone(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(start: datetime) -> datetime:
    """The first instant of the month after the one starting at `start`."""
    return (start + timedelta(days=32)).replace(day=1)


def partition_name(start: datetime) -> str:
    """scans_y2026m11 for the month starting at `start`."""
    return f"scans_y{start.year:04d}m{start.month:02d}"


def _month_of(name: str) -> datetime:
    return datetime(int(name[7:11]), int(name[12:14]), 1, tzinfo=timezone.utc)


def attached() -> dict[str, datetime]:
    """The monthly partitions attached to `scans`, by name, with the start of their month."""
    rows = db.session.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'scans' AND c.relname LIKE 'scans\\_y%'"))
    return {name: _month_of(name) for (name,) in rows}


def detached() -> list[str]:
    """Monthly tables left detached by an interrupted drop (they hold only expired rows)."""
    rows = db.session.execute(text(
        "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' AND c.relname LIKE 'scans\\_y%' "
        "AND c.relnamespace = 'public'::regnamespace AND NOT c.relispartition"))
    return [name for (name,) in rows]


def with_lock_retries(step, *args):
    """Run step(*args) in its own transaction with a short lock_timeout; on a lock wait, back off and retry."""
    config = current_app.config
    attempts, pause = config["SCAN_PARTITION_LOCK_ATTEMPTS"], 0.05
    for attempt in range(1, attempts + 1):
        db.session.commit()  # never hold the caller's locks while waiting for ours
        try:
            db.session.execute(text(f"SET LOCAL lock_timeout = {int(config['SCAN_PARTITION_LOCK_TIMEOUT_MS'])}"))
            result = step(*args)
            db.session.commit()
            return result
        except OperationalError as exc:
            db.session.rollback()
            if getattr(exc.orig, "sqlstate", None) not in _RETRYABLE:
                raise
            log.info("partition maintenance: %s waits for a lock (attempt %d of %d)", step.__name__, attempt,
                     attempts)
            time.sleep(pause)
            pause = min(pause * 2, config["SCAN_PARTITION_RETRY_PAUSE_MAX"])
    raise ServiceUnavailable("partition_maintenance_busy", "分区维护暂时无法获得锁，请稍后重试")


def _create_month(start: datetime) -> int:
    """Make the month's partition, moving its rows out of the default partition; returns the rows moved."""
    name, end = partition_name(start), next_month(start)
    bounds = {"a": start, "b": end}
    db.session.execute(text(f"CREATE TABLE {name} (LIKE scans INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    # the CHECK proves the bound, so ATTACH does not scan the new table; it is dropped once attached
    db.session.execute(text(f"ALTER TABLE {name} ADD CONSTRAINT {name}_bound "
                            f"CHECK (scanned_at >= '{start.isoformat()}' AND scanned_at < '{end.isoformat()}')"))
    db.session.execute(text(f"LOCK TABLE {DEFAULT} IN ACCESS EXCLUSIVE MODE"))  # ATTACH takes it anyway
    moved = db.session.execute(text(
        f"WITH moved AS (DELETE FROM {DEFAULT} WHERE scanned_at >= :a AND scanned_at < :b RETURNING *) "
        f"INSERT INTO {name} SELECT * FROM moved"), bounds).rowcount
    db.session.execute(text(f"ALTER TABLE scans ATTACH PARTITION {name} "
                            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"))
    db.session.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bound"))
    return moved


def _months_in_default(cutoff: datetime) -> list[datetime]:
    rows = db.session.execute(text(
        f"SELECT DISTINCT date_trunc('month', scanned_at AT TIME ZONE 'UTC') FROM {DEFAULT} "
        "WHERE scanned_at >= :cutoff"), {"cutoff": month_start(cutoff)})
    return sorted(month.replace(tzinfo=timezone.utc) for (month,) in rows)


def maintain(*, now: datetime | None = None, months_back: int = 1, months_ahead: int | None = None,
             cutoff: datetime | None = None) -> dict:
    """Create the months around `now` that are missing and every unexpired month found in the default partition.

    Returns {"created": [names], "moved": rows moved out of the default partition}. Rows of months already
    expired (before `cutoff`) stay in the default partition for the purge's trim to delete."""
    now = now or utcnow()
    ahead = current_app.config["SCAN_PARTITION_MONTHS_AHEAD"] if months_ahead is None else months_ahead
    wanted, start = set(), month_start(now)
    for _ in range(months_back):
        start = month_start(start - timedelta(days=1))
    for _ in range(months_back + ahead + 1):
        wanted.add(start)
        start = next_month(start)
    wanted.update(_months_in_default(cutoff or now - timedelta(days=current_app.config["SCAN_RETENTION_DAYS"])))
    have = set(attached().values())
    created, moved = [], 0
    for month in sorted(wanted - have):
        moved += with_lock_retries(_create_month, month)
        created.append(partition_name(month))
    return {"created": created, "moved": moved}


def _detach(name: str) -> None:
    db.session.execute(text(f"ALTER TABLE scans DETACH PARTITION {name}"))


def drop_expired(cutoff: datetime) -> tuple[list[str], int]:
    """Detach, count and drop every monthly partition that ends at or before `cutoff`; returns (names, rows)."""
    names = [name for name, start in attached().items() if next_month(start) <= cutoff]
    for name in names:
        with_lock_retries(_detach, name)
    names += [name for name in detached() if name not in names and next_month(_month_of(name)) <= cutoff]
    rows = 0
    for name in sorted(names):
        # detached: counting and dropping it locks nothing the API uses
        rows += db.session.execute(text(f"SELECT count(*) FROM {name}")).scalar()
        db.session.execute(text(f"DROP TABLE {name}"))
        db.session.commit()
    return sorted(names), rows


@dataclass(frozen=True)
class Horizon:
    """Whether this month's partition exists, how many months after it have theirs, and the rows in the default
    partition (counted up to a limit): healthy is at least one month ahead and no default rows."""

    current_month: bool
    months_ahead: int
    default_rows: int


def horizon(*, now: datetime | None = None, count_limit: int = 100_000) -> Horizon:
    """How far ahead partitions exist and how many rows sit in the default partition (counted up to a limit)."""
    months = set(attached().values())
    current = month_start(now or utcnow())
    ahead, month = 0, next_month(current)
    while month in months:
        ahead, month = ahead + 1, next_month(month)
    default_rows = db.session.execute(text(
        f"SELECT count(*) FROM (SELECT 1 FROM {DEFAULT} LIMIT :n) AS d"), {"n": count_limit}).scalar()
    return Horizon(current_month=current in months, months_ahead=ahead, default_rows=default_rows)
