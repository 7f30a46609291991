"""One scan counts once: a token replayed by every route makes one visit of its person at a venue; venue approval
and unverified visits in tracing."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.common.time import utcnow
from app.venues.models import LatestVisit, OfflineScan, Scan
from tests import factories
from tests.venues.test_scans import _token, holder, place  # noqa: F401 — fixtures
from tests.venues.test_venues import VENUE


def _scans(db):
    return db.session.execute(select(Scan)).scalars().all()


def test_one_token_replayed_twenty_times_every_way_makes_one_visit(client, db, place, holder):
    token = _token(client, holder)["token"]
    venue_id = place["venue"]["id"]
    checkin = {"venue_code": place["code"], "health_code_id": holder["code"]["id"]}
    first = client.post("/api/v1/checkins", json=checkin, headers=holder["headers"])
    assert first.status_code == 201
    for _ in range(19):
        assert client.post("/api/v1/checkins", json=checkin, headers=holder["headers"]).status_code == 200
    for _ in range(20):
        r = client.post("/api/v1/health-codes/verify", json={"token": token, "venue_id": venue_id},
                        headers=place["inspector"])
        assert r.status_code == 200 and r.get_json()["duplicate"] is True and r.get_json()["colour"] == "green"
    at = utcnow().isoformat()
    items = [{"client_scan_id": str(uuid.uuid4()), "token": token, "scanned_at": at} for _ in range(10)]
    for batch in (items, [{**i, "client_scan_id": str(uuid.uuid4())} for i in items]):
        body = client.post("/api/v1/scans/batch", json={"venue_id": venue_id, "items": batch},
                           headers=place["inspector"]).get_json()
        assert (body["accepted"], body["duplicates"]) == (0, 10), body
        assert {i["result"] for i in body["items"]} == {"duplicate_visit"}
    assert len(_scans(db)) == 1 and _scans(db)[0].kind == "checkin"
    assert db.session.execute(select(func.count()).select_from(LatestVisit)).scalar() == 1
    markers = db.session.execute(select(OfflineScan)).scalars().all()
    assert len(markers) == 20 and all(m.scan_id is None for m in markers)


def test_an_offline_batch_alone_counts_one_visit(client, db, place, holder):
    token = _token(client, holder)["token"]
    at = utcnow().isoformat()
    items = [{"client_scan_id": str(uuid.uuid4()), "token": token, "scanned_at": at} for _ in range(20)]
    body = client.post("/api/v1/scans/batch", json={"venue_id": place["venue"]["id"], "items": items},
                       headers=place["inspector"]).get_json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (1, 19, 0), body
    scans = _scans(db)
    assert len(scans) == 1 and scans[0].offline and str(scans[0].id) == body["items"][0]["scan_id"]
    replay = client.post("/api/v1/scans/batch", json={"venue_id": place["venue"]["id"], "items": items},
                         headers=place["inspector"]).get_json()
    assert (replay["accepted"], replay["duplicates"]) == (0, 20) and len(_scans(db)) == 1


def test_family_codes_of_one_person_share_the_visit(client, db, place, holder, login):
    from tests.health_codes.conftest import application

    family_headers = login("resident")[1]
    number = _number_of(db, holder)
    r = client.post("/api/v1/health-codes", headers=family_headers,
                    json=application(relation="family", phone=None, id_number=number))
    assert r.status_code == 201, r.get_json()
    assert client.post("/api/v1/checkins", headers=holder["headers"], json={
        "venue_code": place["code"], "health_code_id": holder["code"]["id"]}).status_code == 201
    assert client.post("/api/v1/checkins", headers=family_headers, json={
        "venue_code": place["code"], "health_code_id": r.get_json()["id"]}).status_code == 200
    assert len(_scans(db)) == 1


def _number_of(db, holder):
    from app.health_codes import personal
    from app.health_codes.models import HealthCode

    return personal.clear(db.session.get(HealthCode, int(holder["code"]["id"])))["id_number"]


def test_after_the_window_a_scan_is_a_new_visit(client, db, place, holder, clock):
    token = _token(client, holder)["token"]
    venue_id = place["venue"]["id"]
    verify = {"token": token, "venue_id": venue_id}
    assert client.post("/api/v1/health-codes/verify", json=verify, headers=place["inspector"]).get_json()[
        "duplicate"] is False
    clock.advance(minutes=6)
    token = _token(client, holder)["token"]
    r = client.post("/api/v1/health-codes/verify", json={**verify, "token": token}, headers=place["inspector"])
    assert r.get_json()["duplicate"] is False and len(_scans(db)) == 2


def test_venue_with_a_valid_uscc_is_approved_at_once(client, db, login):
    owner = login("resident")[1]
    r = client.post("/api/v1/venues", json={**VENUE, "uscc": "91110000600037341l"}, headers=owner)
    assert r.status_code == 201 and r.get_json()["approved"] is True and r.get_json()["uscc"] == "91110000600037341L"
    for bad in ("91110000600037341X", "123", "9111000060003734ⅠL"):
        r = client.post("/api/v1/venues", json={**VENUE, "uscc": bad}, headers=owner)
        assert r.status_code == 422 and r.get_json()["error"] == "uscc_invalid"


def test_organiser_of_the_area_approves_a_venue(client, db, login):
    venue = client.post("/api/v1/venues", json=VENUE, headers=login("resident")[1]).get_json()
    assert venue["approved"] is False and venue["uscc"] is None
    url = f"/api/v1/venues/{venue['id']}/approval"
    assert client.post(url, headers=login("organiser", "440103")[1]).status_code == 403  # another district
    assert client.post(url, headers=login("resident")[1]).status_code == 403
    assert client.post(url, headers=login("health_official")[1]).status_code == 403
    assert client.get(f"/api/v1/venues/{venue['id']}", headers=login("admin")[1]).get_json()["approved"] is False
    organiser = login("organiser", VENUE["area"][:6])
    r = client.post(url, headers=organiser[1])
    assert r.status_code == 200 and r.get_json()["approved"] is True
    from app.venues.models import Venue

    assert db.session.get(Venue, int(venue["id"])).approved_by == organiser[0].id


@pytest.mark.parametrize("approved", [False, True])
def test_tracing_marks_visits_at_unapproved_venues(client, db, place, holder, login, approved):
    other = login("resident")
    from tests.venues.test_scans import _apply

    contact = _apply(client, other[1], "李大华")
    if approved:
        client.post(f"/api/v1/venues/{place['venue']['id']}/approval", headers=login("organiser", "4401")[1])
    for who, code in ((holder["headers"], holder["code"]["id"]), (other[1], contact["id"])):
        assert client.post("/api/v1/checkins", headers=who, json={
            "venue_code": place["code"], "health_code_id": code}).status_code == 201
    now = utcnow()
    r = client.post("/api/v1/admin/tracing", headers=login("health_official")[1], json={
        "health_code_id": holder["code"]["id"], "since": (now - timedelta(hours=1)).isoformat(),
        "until": (now + timedelta(hours=1)).isoformat(), "purpose": "确诊病例流调"})
    body = r.get_json()
    assert r.status_code == 200 and [v["unverified"] for v in body["visits"]] == [not approved]
    assert [(c["health_code_id"], c["unverified"]) for c in body["contacts"]] == [(contact["id"], not approved)]


def test_unbound_staff_cannot_record(client, db, place, holder):
    token = _token(client, holder)["token"]
    outsider = factories.auth_headers(factories.user(roles=[("venue_staff", "440106")]))
    r = client.post("/api/v1/health-codes/verify", json={"token": token, "venue_id": place["venue"]["id"]},
                    headers=outsider)
    assert r.status_code == 403 and len(_scans(db)) == 0
    assert db.session.execute(select(func.count()).select_from(LatestVisit)).scalar() == 0
