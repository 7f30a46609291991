"""Venues: registration, access, staff binding, the 场所码, rotation and the poster."""
import io

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from app.auth.models import RoleGrant
from app.venues import codes
from app.venues.models import Venue, VenueStaff
from tests import factories
from tests.invitation_helpers import accept_latest, pending

WUSHAN_COMMUNITY = "440106001001"
VENUE = {"name": "天河城购物中心", "category": "商场", "address": "天河路208号", "area": WUSHAN_COMMUNITY,
         "lat": 23.1375, "lng": 113.3235}


@pytest.fixture
def owner(login):
    return login("resident")


@pytest.fixture
def venue(client, owner):
    r = client.post("/api/v1/venues", json=VENUE, headers=owner[1])
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_register_makes_creator_admin(client, db, owner, venue):
    assert venue["name"] == "天河城购物中心" and venue["area"] == WUSHAN_COMMUNITY and venue["code_version"] == 1
    assert isinstance(venue["id"], str) and int(venue["id"]) > 0
    staff = db.session.execute(select(VenueStaff).where(VenueStaff.venue_id == int(venue["id"]))).scalar_one()
    assert staff.user_id == owner[0].id and staff.role == "admin"
    grants = db.session.execute(select(RoleGrant.role, RoleGrant.area_code)
                                .where(RoleGrant.user_id == owner[0].id)).all()
    assert ("venue_staff", WUSHAN_COMMUNITY) in grants


@pytest.mark.parametrize("change, error", [
    ({"category": "夜总会"}, "validation_failed"),
    ({"lat": 39.9}, "validation_failed"),
    ({"area": "440106001"}, "validation_failed"),
    ({"area": "440106001999"}, "area_not_found"),
    ({"name": ""}, "validation_failed"),
    ({"name": "x" * 101}, "validation_failed"),
])
def test_register_rejects_bad_input(client, db, owner, change, error):
    r = client.post("/api/v1/venues", json={**VENUE, **change}, headers=owner[1])
    assert r.status_code in (404, 422) and r.get_json()["error"] == error
    assert db.session.execute(select(Venue)).first() is None


def test_register_requires_sign_in(client):
    assert client.post("/api/v1/venues", json=VENUE).status_code == 401


def test_view_by_staff_and_area_officials_only(client, venue, login):
    url = f"/api/v1/venues/{venue['id']}"
    assert client.get(url, headers=login("organiser", "440106")[1]).status_code == 200
    assert client.get(url, headers=login("health_official", "4401")[1]).status_code == 200
    assert client.get(url, headers=login("organiser", "440103")[1]).status_code == 403
    assert client.get(url, headers=login("venue_staff", WUSHAN_COMMUNITY)[1]).status_code == 403
    assert client.get(url, headers=login("resident")[1]).status_code == 403
    assert client.get("/api/v1/venues/123", headers=login("admin")[1]).status_code == 404


def test_update_by_admin_only(client, db, owner, venue, login):
    url = f"/api/v1/venues/{venue['id']}"
    assert client.patch(url, json={"name": "新名字"}, headers=login("resident")[1]).status_code == 403
    r = client.patch(url, json={"name": "天河城", "address": "天河路208号B"}, headers=owner[1])
    assert r.status_code == 200 and r.get_json()["name"] == "天河城"
    assert db.session.get(Venue, int(venue["id"])).address == "天河路208号B"


SHAMIAN_COMMUNITY = "440103001001"  # 荔湾区


def _venue_row(db, venue_id) -> Venue:
    db.session.expire_all()
    return db.session.get(Venue, int(venue_id))


def test_moving_a_venue_needs_the_target_area_too(client, db, owner, venue, login):
    url = f"/api/v1/venues/{venue['id']}"
    for headers in (owner[1], login("organiser", "440106")[1]):  # its admin; an organiser of its district only
        r = client.patch(url, json={"area": SHAMIAN_COMMUNITY}, headers=headers)
        assert r.status_code == 403 and r.get_json()["error"] == "area_forbidden"
        assert _venue_row(db, venue["id"]).area_code == WUSHAN_COMMUNITY
    both = factories.user(roles=[("organiser", "440106"), ("organiser", "440103")])
    r = client.patch(url, json={"area": SHAMIAN_COMMUNITY}, headers=factories.auth_headers(both))
    assert r.status_code == 200 and r.get_json()["area"] == SHAMIAN_COMMUNITY
    assert _venue_row(db, venue["id"]).area_code == SHAMIAN_COMMUNITY
    # the same area again is no move
    assert client.patch(url, json={"area": SHAMIAN_COMMUNITY, "name": "沙面"}, headers=factories.auth_headers(both)) \
        .status_code == 200


@pytest.mark.parametrize("position", [{"lat": 23.02, "lng": 113.12},  # 佛山禅城, inside the city's bounding box
                                      {"lat": 23.02, "lng": 113.75},  # 东莞
                                      {"lat": 22.52, "lng": 113.39}])  # 中山
def test_a_venue_stays_inside_guangzhou(client, db, owner, venue, position):
    r = client.patch(f"/api/v1/venues/{venue['id']}", json=position, headers=owner[1])
    assert r.status_code == 422 and r.get_json()["error"] == "position_outside_city"
    row = _venue_row(db, venue["id"])
    assert (row.lat, row.lng) == (VENUE["lat"], VENUE["lng"])
    r = client.post("/api/v1/venues", json={**VENUE, **position}, headers=owner[1])
    assert r.status_code == 422 and r.get_json()["error"] == "position_outside_city"
    r = client.patch(f"/api/v1/venues/{venue['id']}", json={"lat": 23.13, "lng": 113.27}, headers=owner[1])  # 越秀
    assert r.status_code == 200 and _venue_row(db, venue["id"]).lat == 23.13


def test_list_by_area_scope(client, venue, login):
    r = client.get("/api/v1/venues?area=440106001", headers=login("organiser", "440106")[1])
    assert r.status_code == 200 and [v["id"] for v in r.get_json()["items"]] == [venue["id"]]
    assert client.get("/api/v1/venues?area=440103", headers=login("organiser", "440106")[1]).status_code == 403
    r = client.get("/api/v1/venues?area=440106&q=天河城", headers=login("admin")[1])
    assert len(r.get_json()["items"]) == 1
    assert client.get("/api/v1/venues?area=440106&q=nothing", headers=login("admin")[1]).get_json()["items"] == []
    assert client.get("/api/v1/venues", headers=login("admin")[1]).status_code == 422


def _staff_rows(db, venue_id, user_id):
    db.session.expire_all()
    return db.session.execute(select(VenueStaff).where(VenueStaff.venue_id == int(venue_id),
                                                       VenueStaff.user_id == user_id)).scalars().all()


def _grants(db, user_id):
    return db.session.execute(select(RoleGrant.role).where(RoleGrant.user_id == user_id)).scalars().all()


def test_staff_invitation_grants_nothing_until_accepted_then_unbinds(client, db, owner, venue):
    number = factories.phone()
    inspector = factories.user(phone_number=number)
    invitee = factories.auth_headers(inspector)
    url = f"/api/v1/venues/{venue['id']}/staff"
    r = client.post(url, json={"phone": number}, headers=owner[1])
    assert r.status_code == 202 and r.get_json() == {"message": "已发送邀请"}
    assert _staff_rows(db, venue["id"], inspector.id) == [] and "venue_staff" not in _grants(db, inspector.id)
    notes = client.get("/api/v1/me/notifications", headers=invitee).get_json()["items"]
    assert [n["kind"] for n in notes] == ["invitation"] and venue["name"] in notes[0]["body"]
    invitation = pending(client, invitee)[0]
    assert invitation["kind"] == "venue_staff" and invitation["target_id"] == venue["id"]
    # sending again while it is pending changes nothing (one invitation, one notification)
    assert client.post(url, json={"phone": number}, headers=owner[1]).status_code == 202
    assert len(pending(client, invitee)) == 1
    assert client.get("/api/v1/me/notifications", headers=invitee).get_json()["unread"] == 1
    accept_latest(client, invitee, "venue_staff")
    assert [s.role for s in _staff_rows(db, venue["id"], inspector.id)] == ["inspector"]
    assert "venue_staff" in _grants(db, inspector.id)
    listed = client.get(url, headers=owner[1]).get_json()
    assert {s["role"] for s in listed} == {"admin", "inspector"} and all("****" in s["phone"] for s in listed)
    # a staff member invited again: the same answer, nothing new
    r = client.post(url, json={"phone": number}, headers=owner[1])
    assert r.status_code == 202 and r.get_json() == {"message": "已发送邀请"} and pending(client, invitee) == []
    # an inspector cannot invite others
    assert client.post(url, json={"phone": factories.phone()}, headers=invitee).status_code == 403
    assert client.delete(f"{url}/{inspector.id}", headers=owner[1]).status_code == 204
    assert "venue_staff" not in _grants(db, inspector.id)
    assert client.delete(f"{url}/{inspector.id}", headers=owner[1]).status_code == 404


def test_staff_invitation_declined_grants_nothing(client, db, owner, venue):
    number = factories.phone()
    inspector = factories.user(phone_number=number)
    invitee = factories.auth_headers(inspector)
    assert client.post(f"/api/v1/venues/{venue['id']}/staff", json={"phone": number}, headers=owner[1]) \
        .status_code == 202
    invitation = pending(client, invitee)[0]
    r = client.post(f"/api/v1/me/invitations/{invitation['id']}/decline", headers=invitee)
    assert r.status_code == 200 and r.get_json()["status"] == "declined"
    r = client.post(f"/api/v1/me/invitations/{invitation['id']}/accept", headers=invitee)
    assert r.status_code == 409 and r.get_json()["error"] == "invitation_answered"
    assert _staff_rows(db, venue["id"], inspector.id) == [] and "venue_staff" not in _grants(db, inspector.id)
    # nobody else answers someone's invitation
    other = factories.auth_headers(factories.user())
    assert client.post(f"/api/v1/me/invitations/{invitation['id']}/accept", headers=other).status_code == 404


def test_staff_invitation_answers_the_same_whatever_the_phone(client, db, owner, venue):
    url = f"/api/v1/venues/{venue['id']}/staff"
    number = factories.phone()
    factories.user(phone_number=number)
    known = client.post(url, json={"phone": number}, headers=owner[1])
    unknown = client.post(url, json={"phone": "13700000000"}, headers=owner[1])
    assert (known.status_code, known.get_json()) == (unknown.status_code, unknown.get_json()) \
        == (202, {"message": "已发送邀请"})
    assert "13700000000" not in unknown.get_data(as_text=True)
    assert client.post(url, json={"phone": "12345"}, headers=owner[1]).get_json()["error"] == "phone_invalid"
    r = client.delete(f"{url}/{owner[0].id}", headers=owner[1])
    assert r.status_code == 409 and r.get_json()["error"] == "last_admin"


def test_staff_invitations_are_rate_limited_per_account_and_venue(app, client, db, owner, venue, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_STAFF_INVITE", "3 per hour")
    url = f"/api/v1/venues/{venue['id']}/staff"
    for _ in range(3):
        assert client.post(url, json={"phone": factories.phone()}, headers=owner[1]).status_code == 202
    r = client.post(url, json={"phone": factories.phone()}, headers=owner[1])
    assert r.status_code == 429 and r.get_json()["code"] == 429
    other = client.post("/api/v1/venues", json={**VENUE, "name": "另一场所"}, headers=owner[1]).get_json()
    assert client.post(f"/api/v1/venues/{other['id']}/staff", json={"phone": factories.phone()},
                       headers=owner[1]).status_code == 202


def test_venue_code_signed_and_rotation_kills_old_posters(client, app, owner, venue):
    from app.venues import service

    code = client.get(f"/api/v1/venues/{venue['id']}/code", headers=owner[1]).get_json()
    assert code["code_version"] == 1 and code["venue_code"].startswith("JFV1.")
    assert service.resolve_code(code["venue_code"]).id == int(venue["id"])
    rotated = client.post(f"/api/v1/venues/{venue['id']}/code/rotate", headers=owner[1]).get_json()
    assert rotated["code_version"] == 2 and rotated["venue_code"] != code["venue_code"]
    with pytest.raises(Exception) as info:
        service.resolve_code(code["venue_code"])
    assert info.value.error == "venue_code_outdated"
    tampered = rotated["venue_code"][:-2] + ("AA" if not rotated["venue_code"].endswith("AA") else "BB")
    for bad in (tampered, "JFV1.", "hello", "JFV1." + "A" * 200):
        with pytest.raises(Exception) as info:
            service.resolve_code(bad)
        assert info.value.error == "venue_code_invalid"
    assert codes.parse(rotated["venue_code"]) == (int(venue["id"]), 2)


def test_rotate_needs_admin(client, venue, login):
    r = client.post(f"/api/v1/venues/{venue['id']}/code/rotate", headers=login("resident")[1])
    assert r.status_code == 403


def test_poster_renders_with_readable_code(client, owner, venue):
    r = client.get(f"/api/v1/venues/{venue['id']}/poster.png", headers=owner[1])
    assert r.status_code == 200 and r.mimetype == "image/png"
    img = Image.open(io.BytesIO(r.data))
    assert img.size == (1240, 1754)
    decoded = zxingcpp.read_barcodes(img)
    code = client.get(f"/api/v1/venues/{venue['id']}/code", headers=owner[1]).get_json()["link"]
    assert [d.text for d in decoded] == [code]
