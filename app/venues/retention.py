"""Scan retention: purge what is older than SCAN_RETENTION_DAYS.

On PostgreSQL the partitions are maintained first (a month missed heals here), whole expired partitions are
detached and dropped, and the boundary month is trimmed in small batches, each its own transaction, so that no
lock outlives a batch. Elsewhere the trim alone does the work."""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, tuple_

from app.common.time import utcnow
from app.common.upsert import is_postgres
from app.extensions import db
from app.venues import partitions
from app.venues.models import LatestVisit, OfflineScan, Scan


def ensure_partitions(*, months_back: int = 1, months_ahead: int | None = None,
                      now: datetime | None = None) -> list[str]:
    """Create the missing monthly partitions around now (PostgreSQL; no-op elsewhere); returns their names."""
    if not is_postgres():
        return []
    return partitions.maintain(now=now or utcnow(), months_back=months_back, months_ahead=months_ahead)["created"]


def _trim(table, column, keys, cutoff: datetime) -> int:
    """Delete the rows of `table` older than `cutoff` in batches, committing after each; returns the count."""
    batch, total = current_app.config["SCAN_PURGE_BATCH"], 0
    while True:
        doomed = select(*keys).where(column < cutoff).limit(batch)
        deleted = db.session.execute(delete(table).where(column < cutoff, tuple_(*keys).in_(doomed))).rowcount
        db.session.commit()
        total += deleted
        if deleted < batch:
            return total


def purge(*, now: datetime | None = None) -> dict:
    """Delete scans, check-in markers and offline ids older than the retention period; returns what it did."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["SCAN_RETENTION_DAYS"])
    maintained, dropped, deleted = {"created": [], "moved": 0}, [], 0
    if is_postgres():
        maintained = partitions.maintain(now=now, cutoff=cutoff)
        dropped, deleted = partitions.drop_expired(cutoff)
    scans, markers, offline = Scan.__table__, LatestVisit.__table__, OfflineScan.__table__
    deleted += _trim(scans, scans.c.scanned_at, (scans.c.scanned_at, scans.c.id), cutoff)
    return {"cutoff": cutoff, "scans": deleted, "partitions_dropped": dropped,
            "partitions_created": maintained["created"], "rows_moved": maintained["moved"],
            "checkin_markers": _trim(markers, markers.c.visited_at,
                                     (markers.c.person_id, markers.c.venue_id), cutoff),
            "offline_ids": _trim(offline, offline.c.scanned_at, (offline.c.client_scan_id,), cutoff)}


def horizon(*, now: datetime | None = None) -> partitions.Horizon | None:
    """The partitions' horizon (PostgreSQL), or None where scans are not partitioned."""
    return partitions.horizon(now=now or utcnow()) if is_postgres() else None


def forget_person(_sender, *, person_id: int) -> None:
    """Delete the visit markers of a person being erased (`health_codes.signals.person_erasing`); no commit."""
    db.session.execute(delete(LatestVisit).where(LatestVisit.person_id == person_id))
