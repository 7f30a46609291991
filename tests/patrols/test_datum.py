"""Positions in the datum the phone gives: wgs84 converted to GCJ-02 on the server; gcj02 is the default."""
import eviltransform
import pytest

from app.common.geo import distance_m, wgs84_to_gcj02
from tests.patrols.helpers import MEETING, token
from tests.patrols.test_checkin import _attendances, on_patrol  # noqa: F401 — fixture


def _as_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """The WGS-84 point whose GCJ-02 image is (lat, lng): what wx.getLocation() reports there by default."""
    wlat, wlng = lat, lng
    for _ in range(10):
        glat, glng = wgs84_to_gcj02(wlat, wlng)
        wlat, wlng = wlat - (glat - lat), wlng - (glng - lng)
    return wlat, wlng


@pytest.mark.parametrize("lat, lng", [(23.1291, 113.3437), (23.1531, 113.345), (22.52, 113.93), (23.93, 114.05),
                                      (39.915, 116.404)])
def test_transform_agrees_with_a_kept_library(lat, lng):
    ours, theirs = wgs84_to_gcj02(lat, lng), eviltransform.wgs2gcj(lat, lng)
    assert distance_m(*ours, *theirs) < 0.05


def test_points_outside_china_are_unchanged():
    assert wgs84_to_gcj02(48.8584, 2.2945) == (48.8584, 2.2945)


def test_wushan_point_sent_as_wgs84_checks_in(client, on_patrol):
    patrol, (_, headers, _) = on_patrol
    lat, lng = _as_wgs84(MEETING["lat"], MEETING["lng"])
    assert distance_m(lat, lng, MEETING["lat"], MEETING["lng"]) > 500  # the datum gap at 五山
    body = {"token": token(patrol["id"]), "lat": lat, "lng": lng, "accuracy_m": 10}
    # the same numbers taken as GCJ-02 (the default) are far outside the fence
    r = client.post("/api/v1/patrols/checkins", json=body, headers=headers)
    assert r.status_code == 403 and r.get_json()["error"] == "outside_geofence" and _attendances() == []
    r = client.post("/api/v1/patrols/checkins", json={**body, "coord_type": "wgs84"}, headers=headers)
    assert r.status_code == 201, r.get_json()
    [row] = _attendances(patrol)
    assert row.checkin_distance_m <= 1


def test_unknown_datum_is_refused(client, on_patrol):
    patrol, (_, headers, _) = on_patrol
    r = client.post("/api/v1/patrols/checkins", json={"token": token(patrol["id"]), **MEETING, "coord_type": "bd09"},
                    headers=headers)
    assert r.status_code == 422 and "coord_type" in r.get_json()["errors"]["json"] and _attendances() == []


def test_meeting_point_and_venue_given_in_wgs84_are_stored_as_gcj02(client, new_patrol, login):
    lat, lng = _as_wgs84(MEETING["lat"], MEETING["lng"])
    patrol = new_patrol(meeting_point={"lat": lat, "lng": lng, "coord_type": "wgs84"})
    assert distance_m(patrol["meeting_point"]["lat"], patrol["meeting_point"]["lng"],
                      MEETING["lat"], MEETING["lng"]) < 0.1
    _, headers = login("resident")
    venue = {"name": "五山茶楼", "category": "餐饮", "address": "五山路1号", "area": "440106001001",
             "lat": lat, "lng": lng, "coord_type": "wgs84"}
    r = client.post("/api/v1/venues", json=venue, headers=headers)
    assert r.status_code == 201, r.get_json()
    assert distance_m(r.get_json()["lat"], r.get_json()["lng"], MEETING["lat"], MEETING["lng"]) < 0.1
    only_lat = client.patch(f"/api/v1/venues/{r.get_json()['id']}", json={"lat": lat, "coord_type": "wgs84"},
                            headers=headers)
    assert only_lat.status_code == 422


def test_spec_states_the_datum_of_every_position(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    for name, schema in schemas.items():
        props = schema.get("properties", {})
        if "lat" in props and not props["lat"].get("readOnly"):
            assert "GCJ-02" in props["lat"].get("description", ""), name
            assert "GCJ-02" in props.get("lng", props.get("long", {})).get("description", ""), name
