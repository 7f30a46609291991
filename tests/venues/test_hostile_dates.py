"""Dates outside the years the service handles answer 422, never an overflow (500)."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.venues.models import OfflineScan, Scan
from tests.venues.test_scans import _past_token, holder, place  # noqa: F401 — fixtures


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"])
def test_stats_of_a_day_out_of_range_is_422(client, place, day):
    r = client.get(f"/api/v1/venues/{place['venue']['id']}/stats?date={day}", headers=place["owner"][1])
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert "date" in r.get_json()["errors"]["query"]


def test_stats_of_an_ordinary_day_still_answers(client, place):
    r = client.get(f"/api/v1/venues/{place['venue']['id']}/stats?date=2026-11-28", headers=place["owner"][1])
    assert r.status_code == 200 and r.get_json()["total"] == 0


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00-12:00",
                                  "9999-12-31T23:59:59-12:00"])
def test_offline_scan_in_an_impossible_year_is_422(client, db, place, holder, when):
    token = _past_token(db, holder, datetime.now(timezone.utc) - timedelta(hours=1))
    batch = {"venue_id": place["venue"]["id"],
             "items": [{"client_scan_id": str(uuid.uuid4()), "token": token, "scanned_at": when}]}
    r = client.post("/api/v1/scans/batch", json=batch, headers=place["inspector"])
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert db.session.execute(select(func.count()).select_from(Scan)).scalar() == 0
    assert db.session.execute(select(func.count()).select_from(OfflineScan)).scalar() == 0
