"""Open311 GeoReport v2: services and requests carry the published fields, status is open or closed, positions
travel in WGS-84, and a request filed through it joins the same queue."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.reports.models import Report
from tests.reports.helpers import GRID, act, file

# GeoReport v2, GET services.json / GET requests.json / POST requests.json response fields
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}
POST_FIELDS = {"service_request_id", "token", "service_notice", "account_id"}


def test_services(client):
    services = client.get("/api/v1/open311/services.json").get_json()
    assert len(services) == 8 and all(set(s) == SERVICE_FIELDS for s in services)
    fire = next(s for s in services if s["service_code"] == "fire_hazard")
    assert fire["service_name"] == "消防隐患" and fire["type"] == "realtime" and fire["metadata"] is False
    assert fire["group"] == "消防救援大队"


def test_requests_read_open_and_closed(client, volunteer, community, street, fire):
    _, headers = volunteer()
    open_one = file(client, headers)["id"]
    done = file(client, headers, category="fire_hazard")["id"]
    for who, action, extra in ((community, "accept", {}), (street, "dispatch", {}), (fire, "start", {}),
                               (fire, "resolve", {"reason": "已清理"})):
        act(client, who[1], done, action, **extra)
    rows = client.get("/api/v1/open311/requests.json").get_json()
    assert all(set(r) == REQUEST_FIELDS for r in rows)
    by_id = {r["service_request_id"]: r for r in rows}
    assert by_id[open_one]["status"] == "open" and by_id[done]["status"] == "closed"
    assert by_id[done]["status_notes"] == "已办结：已清理" and by_id[done]["agency_responsible"] == "消防救援大队"
    assert by_id[open_one]["expected_datetime"] == "2026-12-02T10:00:00+08:00"  # 48 hours to resolve
    assert by_id[open_one]["requested_datetime"] == "2026-11-30T10:00:00+08:00"
    assert by_id[open_one]["address_id"] == GRID
    assert by_id[open_one]["lat"] == pytest.approx(23.1291 + 0.0025, abs=0.0004)  # GCJ-02 back to WGS-84
    closed = client.get("/api/v1/open311/requests.json?status=closed").get_json()
    assert [r["service_request_id"] for r in closed] == [done]
    one = client.get(f"/api/v1/open311/requests/{open_one}.json").get_json()
    assert [r["service_request_id"] for r in one] == [open_one]
    listed = client.get(f"/api/v1/open311/requests.json?service_request_id={open_one},{done}").get_json()
    assert {r["service_request_id"] for r in listed} == {open_one, done}
    assert client.get("/api/v1/open311/requests/123.json").status_code == 404


def test_post_a_request_form_encoded(client, volunteer, community):
    user, headers = volunteer()
    user_id = user.id  # the idempotent claim commits, which expires the fixture's instance
    form = {"service_code": "sanitation", "lat": "23.1266", "long": "113.3383", "address_id": GRID,
            "address_string": "五山路 1 号", "description": "垃圾桶满溢", "attribute[weight]": "heavy",
            "email": "x@example.com"}
    response = client.post("/api/v1/open311/requests.json", data=form, headers={**headers, "Idempotency-Key": "k1"})
    assert response.status_code == 201
    (filed,) = response.get_json()
    assert set(filed) == POST_FIELDS and filed["service_notice"].startswith("环卫所将于")
    retry = client.post("/api/v1/open311/requests.json", data=form, headers={**headers, "Idempotency-Key": "k1"})
    assert retry.get_json()[0]["service_request_id"] == filed["service_request_id"]
    report = db.session.get(Report, int(filed["service_request_id"]))
    assert (report.source, report.reporter_id, report.grid_code, report.state) == ("open311", user_id, GRID,
                                                                                   "submitted")
    assert report.lat < 23.1266  # stored in GCJ-02
    queue = client.get("/api/v1/reports?queue=community", headers=community[1]).get_json()["items"]
    assert [r["id"] for r in queue] == [filed["service_request_id"]]


@pytest.mark.parametrize("form, error", [({"service_code": "nope", "description": "x", "address_id": GRID},
                                          "category_not_found"),
                                         ({"service_code": "sanitation", "address_id": GRID}, "description_required"),
                                         ({"service_code": "sanitation", "description": "x", "lat": "999",
                                           "long": "1", "address_id": GRID}, "validation_failed")])
def test_post_bad_requests(client, volunteer, form, error):
    _, headers = volunteer()
    response = client.post("/api/v1/open311/requests.json", data=form, headers=headers)
    assert 400 <= response.status_code < 500 and response.get_json()["error"] == error
    assert db.session.execute(select(Report)).first() is None


def test_post_needs_sign_in(client):
    response = client.post("/api/v1/open311/requests.json", data={"service_code": "sanitation"})
    assert response.status_code == 401
