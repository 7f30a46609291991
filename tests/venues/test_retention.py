"""Scan retention: `flask scans purge` deletes what is older than SCAN_RETENTION_DAYS, keeps the rest."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.venues import retention
from app.venues.models import LatestVisit, OfflineScan, Scan

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def scan(db, at, code=1, venue=1):
    db.session.add(Scan(scanned_at=at, venue_id=venue, health_code_id=code, kind="staff", colour="green",
                        passed=True))


def count(db, model):
    return db.session.execute(select(func.count()).select_from(model)).scalar()


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(retention, "utcnow", lambda: NOW)
    return NOW


def test_purge_deletes_only_expired(app, db, frozen, monkeypatch):
    monkeypatch.setitem(app.config, "SCAN_PURGE_BATCH", 2)  # the trim takes several batches
    for days in (1, 10, 27.9, 28.1, 40, 90):
        scan(db, NOW - timedelta(days=days))
    db.session.add(LatestVisit(person_id=1, venue_id=1, scan_id=1, visited_at=NOW - timedelta(days=30)))
    db.session.add(OfflineScan(client_scan_id="a" * 36, payload_hash="x", venue_id=1, scan_id=None,
                               scanned_at=NOW - timedelta(days=29), result="accepted"))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["scans", "purge"])
    assert result.exit_code == 0, result.output
    assert "purged 3 scans" in result.output
    left = sorted(db.session.execute(select(Scan.scanned_at)).scalars())
    assert [round((NOW - t).total_seconds() / 86400, 1) for t in left] == [27.9, 10.0, 1.0]
    assert count(db, LatestVisit) == 0 and count(db, OfflineScan) == 0
    again = app.test_cli_runner().invoke(args=["scans", "purge"])
    assert again.exit_code == 0 and "purged 0 scans" in again.output and "0 rows moved" in again.output


def test_retention_days_configurable(app, db, frozen, monkeypatch):
    scan(db, NOW - timedelta(days=8))
    scan(db, NOW - timedelta(days=6))
    db.session.commit()
    monkeypatch.setitem(app.config, "SCAN_RETENTION_DAYS", 7)
    assert retention.purge()["scans"] == 1
    assert count(db, Scan) == 1


def test_partitions_command_on_sqlite_says_so(app, db):
    if db.engine.dialect.name == "postgresql":
        pytest.skip("SQLite only: PostgreSQL prints the horizon (tests/venues/test_partitions.py)")
    result = app.test_cli_runner().invoke(args=["scans", "partitions"])
    assert result.exit_code == 0 and "not partitioned" in result.output


def test_erasing_a_person_deletes_only_its_visit_markers(app, db, frozen):
    """create_app connects venues to health_codes' person_erasing signal: the erasing transaction takes the
    person's markers with it, and no one else's."""
    from app.health_codes import signals

    for person in (1, 2):
        db.session.add(LatestVisit(person_id=person, venue_id=1, scan_id=person, visited_at=NOW))
    db.session.commit()
    signals.person_erasing.send(None, person_id=1)
    db.session.rollback()  # receivers do not commit: the erasure's transaction decides
    assert count(db, LatestVisit) == 2
    signals.person_erasing.send(None, person_id=1)
    db.session.commit()
    assert db.session.execute(select(LatestVisit.person_id)).scalars().all() == [2]
