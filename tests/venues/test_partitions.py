"""Scan partitions on PostgreSQL: a missed month heals at the next purge, maintenance never freezes the API,
and scans of a month with no partition are kept."""
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import text

from app.common.time import utcnow
from app.venues import partitions, retention
from tests.venues.test_retention import scan
from tests.venues.test_scans import _apply, _item, _past_token, _token, holder, place  # noqa: F401 — fixtures

pytestmark = pytest.mark.postgres


def months_after(start, n):
    """The start of the month n months after the month starting at `start` (n may be negative)."""
    month = partitions.month_start(start)
    for _ in range(abs(n)):
        month = partitions.next_month(month) if n > 0 else partitions.month_start(month - timedelta(days=1))
    return month


def without_partitions(db, first, count):
    """Make sure the `count` months from `first` have no partition (earlier tests of the session may have made
    them): their rows then land in the default partition."""
    for i in range(count):
        name = partitions.partition_name(months_after(first, i))
        if name in partitions.attached():
            db.session.execute(text(f"ALTER TABLE scans DETACH PARTITION {name}"))
            db.session.execute(text(f"DROP TABLE {name}"))
    db.session.commit()


def where(db):
    """{scan id: the table that holds it}."""
    rows = db.session.execute(text("SELECT id, tableoid::regclass::text FROM scans")).all()
    db.session.commit()
    return dict(rows)


def test_purge_moves_every_month_out_of_the_default_partition(app, db, monkeypatch):
    month = months_after(utcnow(), 30)
    without_partitions(db, months_after(month, -3), 8)
    now = month + timedelta(days=14, hours=12)
    monkeypatch.setattr(retention, "utcnow", lambda: now)
    moments = {"old": now - timedelta(days=60), "expired": now - timedelta(days=30),
               "kept": now - timedelta(days=25), "today": now - timedelta(hours=1), "next": now + timedelta(days=20)}
    for i, at in enumerate(moments.values(), start=1):
        scan(db, at, code=i)
    db.session.commit()
    before = where(db)
    assert set(before.values()) == {partitions.DEFAULT}
    assert len({partitions.month_start(at) for at in moments.values()}) == 4  # four months in the default

    result = app.test_cli_runner().invoke(args=["scans", "purge"])
    assert result.exit_code == 0, result.output
    assert "purged 2 scans" in result.output and "4 rows moved" in result.output, result.output
    after = db.session.execute(text("SELECT health_code_id, tableoid::regclass::text FROM scans")).all()
    assert dict(after) == {code: partitions.partition_name(partitions.month_start(moments[key]))
                           for code, key in ((3, "kept"), (4, "today"), (5, "next"))}
    assert db.session.execute(text(f"SELECT count(*) FROM {partitions.DEFAULT}")).scalar() == 0
    assert retention.horizon(now=now) == partitions.Horizon(current_month=True, months_ahead=3, default_rows=0)

    again = app.test_cli_runner().invoke(args=["scans", "purge"])
    assert again.exit_code == 0, again.output
    assert "purged 0 scans" in again.output and "0 partitions created, 0 rows moved" in again.output


def test_partitions_command_prints_the_horizon(app, db, monkeypatch):
    month = months_after(utcnow(), 40)
    without_partitions(db, months_after(month, -1), 5)
    monkeypatch.setattr(retention, "utcnow", lambda: month + timedelta(days=3))
    scan(db, month + timedelta(days=2))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["scans", "partitions", "--months-ahead", "2"])
    assert result.exit_code == 0, result.output
    names = ", ".join(partitions.partition_name(months_after(month, i)) for i in range(-1, 3))
    assert f"4 partitions created: {names}" in result.output  # the month before, this one, two ahead
    assert "current month present, 2 months ahead, 0 rows in the default partition" in result.output
    assert set(where(db).values()) == {partitions.partition_name(month)}


def test_health_reports_rows_in_the_default_partition(client, db):
    without_partitions(db, months_after(utcnow(), 50), 1)
    scan(db, months_after(utcnow(), 50) + timedelta(days=1))
    db.session.commit()
    body = client.get("/api/v1/health").get_json()
    assert body["status"] == "ok" and body["scan_partitions"]["default_rows"] == 1


def test_check_ins_answer_while_purge_waits_behind_a_long_read(app, client, db, place, holder, monkeypatch):
    monkeypatch.setitem(app.config, "SCAN_PARTITION_LOCK_TIMEOUT_MS", 100)
    monkeypatch.setitem(app.config, "SCAN_PARTITION_RETRY_PAUSE_MAX", 0.2)
    retention.ensure_partitions()
    expired = months_after(utcnow(), -3)
    if partitions.partition_name(expired) not in partitions.attached():
        partitions.with_lock_retries(partitions._create_month, expired)
    scan(db, expired + timedelta(days=3))
    far = months_after(utcnow(), 60)
    without_partitions(db, far, 1)
    scan(db, far + timedelta(days=1))  # in the default partition: the purge must attach its month
    db.session.commit()

    reader = db.engine.connect()
    reader.begin()
    reader.execute(text("SELECT count(*) FROM scans")).scalar()  # holds its lock on every partition, as pg_dump
    outcome = {}

    def run_purge():
        with app.app_context():
            try:
                outcome["result"] = retention.purge()
            finally:
                db.session.remove()

    purger = threading.Thread(target=run_purge)
    purger.start()
    body = {"venue_code": place["code"], "health_code_id": holder["code"]["id"]}
    slowest, answered, ends = 0.0, 0, time.monotonic() + 3
    try:
        while time.monotonic() < ends:
            started = time.monotonic()
            r = client.post("/api/v1/checkins", json=body, headers=holder["headers"])
            slowest = max(slowest, time.monotonic() - started)
            assert r.status_code in (200, 201), r.get_json()
            answered += 1
        assert purger.is_alive(), "the purge should still be waiting for the reader"
    finally:
        reader.rollback()
        reader.close()
    purger.join(timeout=60)
    assert not purger.is_alive()
    assert answered >= 5 and slowest < 2.0  # each check-in waited at most about one lock_timeout
    result = outcome["result"]
    assert partitions.partition_name(expired) in result["partitions_dropped"]
    assert partitions.partition_name(far) in result["partitions_created"] and result["rows_moved"] == 1
    assert db.session.execute(text(f"SELECT count(*) FROM {partitions.DEFAULT}")).scalar() == 0


def test_scans_of_a_month_without_partition_are_kept(app, client, db, clock, login, place, holder):
    month = months_after(clock.now, 26)
    without_partitions(db, months_after(month, -1), 3)
    clock.advance(seconds=(month + timedelta(days=10) - clock.now).total_seconds())
    scanned = {}
    r = client.post("/api/v1/checkins", json={"venue_code": place["code"], "health_code_id": holder["code"]["id"]},
                    headers=holder["headers"])
    assert r.status_code == 201, r.get_json()
    scanned["checkin"] = r.get_json()
    second, third = _holder(client, login, "李四海"), _holder(client, login, "王五林")
    r = client.post("/api/v1/health-codes/verify", headers=place["inspector"],
                    json={"token": _token(client, second)["token"], "venue_id": place["venue"]["id"]})
    assert r.status_code == 200, r.get_json()
    at = clock.now - timedelta(hours=3)
    r = client.post("/api/v1/scans/batch", headers=place["inspector"],
                    json={"venue_id": place["venue"]["id"], "items": [_item(_past_token(db, third, at), at)]})
    assert r.status_code == 200 and r.get_json()["accepted"] == 1, r.get_json()
    before = where(db)
    assert len(before) == 3 and set(before.values()) == {partitions.DEFAULT}

    result = app.test_cli_runner().invoke(args=["scans", "purge"])
    assert result.exit_code == 0, result.output
    after = where(db)
    assert set(after) == set(before) and set(after.values()) == {partitions.partition_name(month)}
    assert db.session.execute(text(f"SELECT count(*) FROM {partitions.DEFAULT}")).scalar() == 0
    history = client.get(f"/api/v1/health-codes/{holder['code']['id']}/visits", headers=holder["headers"])
    assert history.status_code == 200 and len(history.get_json()["items"]) == 1


def _holder(client, login, name):
    """Another resident with a code, as the `holder` fixture's dict."""
    user, headers = login("resident")
    return {"user": user, "headers": headers, "code": _apply(client, headers, name=name)}
