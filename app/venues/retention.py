"""Scan retention: purge what is older than SCAN_RETENTION_DAYS. On PostgreSQL the scans table is
range-partitioned by month: whole expired partitions are dropped (instant), the boundary month is trimmed."""
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import delete, text

from app.common.time import utcnow
from app.common.upsert import is_postgres
from app.extensions import db
from app.venues.models import LatestCheckin, OfflineScan, Scan


def _month_start(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(start: datetime) -> datetime:
    return (start + timedelta(days=32)).replace(day=1)


def partition_name(start: datetime) -> str:
    """scans_y2026m11 for the month starting at `start`."""
    return f"scans_y{start.year:04d}m{start.month:02d}"


def ensure_partitions(*, months_back: int = 1, months_ahead: int = 3) -> list[str]:
    """Create the monthly partitions around now that do not exist yet (PostgreSQL; no-op elsewhere)."""
    if not is_postgres():
        return []
    created = []
    start = _month_start(utcnow())
    for _ in range(months_back):
        start = _month_start(start - timedelta(days=1))
    for _ in range(months_back + months_ahead + 1):
        end = _next_month(start)
        name = partition_name(start)
        exists = db.session.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar()
        if exists is None:
            db.session.execute(text(f"CREATE TABLE {name} PARTITION OF scans FOR VALUES FROM "
                                    f"('{start.isoformat()}') TO ('{end.isoformat()}')"))
            created.append(name)
        start = end
    db.session.commit()
    return created


def _expired_partitions(cutoff: datetime) -> list[str]:
    rows = db.session.execute(text(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
        "WHERE p.relname = 'scans' AND c.relname LIKE 'scans_y%'")).all()
    expired = []
    for name, bound in rows:
        # bound: FOR VALUES FROM ('2026-10-01 00:00:00+00') TO ('2026-11-01 00:00:00+00')
        upper = bound.split("TO ('")[1].split("')")[0]
        if datetime.fromisoformat(upper.replace(" ", "T")) <= cutoff:
            expired.append(name)
    return expired


def purge(*, now: datetime | None = None) -> dict:
    """Delete scans, check-in markers and offline ids older than the retention period; returns counts."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["SCAN_RETENTION_DAYS"])
    dropped, deleted = [], 0
    if is_postgres():
        for name in _expired_partitions(cutoff):
            deleted += db.session.execute(text(f"SELECT count(*) FROM {name}")).scalar()
            db.session.execute(text(f"DROP TABLE {name}"))
            dropped.append(name)
    deleted += db.session.execute(delete(Scan).where(Scan.scanned_at < cutoff)).rowcount
    markers = db.session.execute(delete(LatestCheckin).where(LatestCheckin.checked_in_at < cutoff)).rowcount
    offline = db.session.execute(delete(OfflineScan).where(OfflineScan.scanned_at < cutoff)).rowcount
    db.session.commit()
    return {"cutoff": cutoff, "scans": deleted, "partitions_dropped": dropped, "checkin_markers": markers,
            "offline_ids": offline}
