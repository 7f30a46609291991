"""Scan retention: `flask scans purge` deletes what is older than SCAN_RETENTION_DAYS, keeps the rest."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from app.venues import retention
from app.venues.models import LatestCheckin, OfflineScan, Scan

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def _scan(db, at, code=1, venue=1):
    db.session.add(Scan(scanned_at=at, venue_id=venue, health_code_id=code, kind="staff", colour="green",
                        passed=True))


def _count(db, model):
    return db.session.execute(select(func.count()).select_from(model)).scalar()


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(retention, "utcnow", lambda: NOW)
    return NOW


def test_purge_deletes_only_expired(app, db, frozen):
    for days in (1, 10, 27.9, 28.1, 40, 90):
        _scan(db, NOW - timedelta(days=days))
    db.session.add(LatestCheckin(health_code_id=1, venue_id=1, scan_id=1, checked_in_at=NOW - timedelta(days=30)))
    db.session.add(OfflineScan(client_scan_id="a" * 36, payload_hash="x", venue_id=1, scan_id=None,
                               scanned_at=NOW - timedelta(days=29), result="accepted"))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["scans", "purge"])
    assert result.exit_code == 0, result.output
    assert "purged 3 scans" in result.output
    left = sorted(db.session.execute(select(Scan.scanned_at)).scalars())
    assert [round((NOW - t).total_seconds() / 86400, 1) for t in left] == [27.9, 10.0, 1.0]
    assert _count(db, LatestCheckin) == 0 and _count(db, OfflineScan) == 0


def test_retention_days_configurable(app, db, frozen):
    _scan(db, NOW - timedelta(days=8))
    _scan(db, NOW - timedelta(days=6))
    db.session.commit()
    app.config["SCAN_RETENTION_DAYS"] = 7
    try:
        assert retention.purge()["scans"] == 1
    finally:
        app.config["SCAN_RETENTION_DAYS"] = 28
    assert _count(db, Scan) == 1


@pytest.mark.postgres
def test_purge_drops_whole_expired_partitions(app, db, monkeypatch):
    real_now = datetime.now(timezone.utc)
    monkeypatch.setattr(retention, "utcnow", lambda: real_now)
    retention.ensure_partitions(months_back=3, months_ahead=1)
    old_month = (real_now.replace(day=1) - timedelta(days=70)).replace(day=15)
    _scan(db, old_month)
    _scan(db, real_now - timedelta(hours=1))
    db.session.commit()
    name = retention.partition_name(old_month.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
    assert db.session.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is not None
    result = retention.purge()
    assert name in result["partitions_dropped"] and result["scans"] == 1
    assert db.session.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is None
    assert _count(db, Scan) == 1
    # upkeep is idempotent and recreates nothing that exists
    assert retention.ensure_partitions(months_back=0, months_ahead=1) == []
