"""Patrol times outside the years the service handles answer 422, never an overflow (500)."""
import pytest
from sqlalchemy import func, select

from app.patrols.models import Patrol
from tests.patrols.helpers import COMMUNITY, MEETING


@pytest.mark.parametrize("starts, ends", [("9999-12-31T20:00:00+08:00", "9999-12-31T23:00:00+08:00"),
                                          ("9999-12-31T22:00:00-12:00", "9999-12-31T23:00:00-12:00"),
                                          ("0001-01-01T00:00:00+14:00", "0001-01-01T02:00:00+14:00")])
def test_a_patrol_in_an_impossible_year_is_422(client, db, organiser, group, starts, ends):
    body = {"group_id": str(group.id), "area": COMMUNITY, "title": "夜间巡逻", "starts_at": starts, "ends_at": ends,
            "meeting_point": MEETING, "capacity": 3}
    r = client.post("/api/v1/patrols", json=body, headers=organiser[1])
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert "starts_at" in r.get_json()["errors"]["json"]
    assert db.session.execute(select(func.count()).select_from(Patrol)).scalar() == 0


@pytest.mark.parametrize("query", ["from=0001-01-01T00:00:00%2B14:00", "to=0001-01-01T00:00:00%2B14:00",
                                   "from=9999-12-31T23:59:59-12:00", "to=9999-12-31T23:59:59-12:00"])
def test_listing_patrols_from_an_impossible_year_is_422(client, organiser, query):
    r = client.get(f"/api/v1/patrols?{query}", headers=organiser[1])
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
