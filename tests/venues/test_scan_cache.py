"""验码 and 扫场所码 from the cached cards (Redis): the scan's own write is the only SQL once the code's card,
the venue's card and the inspector's role at the venue are cached, and no change made through the app is ever
missed (colour, withdrawal, staff bound or unbound, venue renamed or its code rotated). The cache holds no clear
personal data."""
from sqlalchemy import select

from app.health_codes import service as hc_service
from app.venues import service as venue_service
from app.venues.models import LatestVisit, Scan
from tests import factories
from tests.invitation_helpers import bind_inspector
from tests.redis_fixtures import Statements, live, redis_server, use_redis  # noqa: F401 — fixtures
from tests.venues.test_scans import holder, place  # noqa: F401 — fixtures

VERIFY, CHECKIN = "/api/v1/health-codes/verify", "/api/v1/checkins"


def _token(client, holder):
    r = client.get(f"/api/v1/health-codes/{holder['code']['id']}/token", headers=holder["headers"])
    assert r.status_code == 200, r.get_json()
    return r.get_json()["token"]


def _verify(client, place, token, headers=None):
    return client.post(VERIFY, json={"token": token, "venue_id": place["venue"]["id"]},
                       headers=headers or place["inspector"])


def _check_in(client, place, holder, venue_code=None, headers=None):
    return client.post(CHECKIN, json={"venue_code": venue_code or place["code"],
                                      "health_code_id": holder["code"]["id"]}, headers=headers or holder["headers"])


def _scans(db):
    return db.session.execute(select(Scan)).scalars().all()


def test_a_cached_staff_scan_runs_only_its_insert(client, db, place, holder, live):
    token = _token(client, holder)
    assert _verify(client, place, token).status_code == 200  # fills the inspector's role and the code's card
    db.session.execute(LatestVisit.__table__.delete())  # as if the dedupe window had passed
    db.session.commit()
    with Statements(db.engine) as seen:
        r = _verify(client, place, token)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["colour"] == "green" and body["pass"] is True and body["holder"] == "张*明"
    assert body["reason"]["code"] == "no_risk" and body["reason"]["message"] and body["duplicate"] is False
    if db.engine.dialect.name == "postgresql":
        assert len(seen.sql) == 1 and seen.sql[0].lstrip().startswith("WITH claim"), seen.sql
    else:  # SQLite: the claim's upsert and the scan's INSERT
        assert len(seen.sql) == 2 and seen.sql[1].lstrip().upper().startswith("INSERT INTO SCANS"), seen.sql
    rows = _scans(db)
    assert len(rows) == 2 and {s.health_code_id for s in rows} == {int(holder["code"]["id"])}
    assert all(s.kind == "staff" and s.colour == "green" and s.passed for s in rows)


def test_a_cached_check_in_reads_nothing(client, db, place, holder, live):
    assert _check_in(client, place, holder).status_code == 201  # fills the venue's card and the code's
    db.session.execute(LatestVisit.__table__.delete())  # as if five minutes had passed
    db.session.commit()
    with Statements(db.engine) as seen:
        r = _check_in(client, place, holder)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["venue"] == {"id": place["venue"]["id"], "name": place["venue"]["name"],
                             "address": place["venue"]["address"], "category": place["venue"]["category"]}
    assert body["colour"] == "green" and body["holder"] == "张*明" and body["reason"]["code"] == "no_risk"
    if db.engine.dialect.name == "postgresql":
        assert len(seen.sql) == 1 and seen.sql[0].lstrip().startswith("WITH claim"), seen.sql
    else:  # SQLite: the claim's upsert and the scan's INSERT, in one transaction
        assert all("venues" not in s and "health_codes" not in s for s in seen.sql), seen.sql
    assert [s.kind for s in _scans(db)] == ["checkin", "checkin"]


def test_colour_change_and_withdrawal_reach_the_door_at_once(client, db, login, place, holder, live):
    token = _token(client, holder)
    assert _verify(client, place, token).get_json()["colour"] == "green"
    hc_service.official_set_colour(code_id=int(holder["code"]["id"]), colour="red", reason="密接",
                                   official_id=login("health_official")[0].id)
    r = _verify(client, place, token)
    assert r.status_code == 200 and r.get_json()["colour"] == "red" and r.get_json()["pass"] is False
    assert r.get_json()["duplicate"] is True  # the same person at the same venue moments ago: no second visit
    assert _check_in(client, place, holder).get_json()["colour"] == "red"
    assert client.delete(f"/api/v1/health-codes/{holder['code']['id']}", headers=holder["headers"]).status_code == 204
    r = _verify(client, place, token)
    assert r.status_code == 410 and r.get_json()["error"] == "code_revoked"
    r = _check_in(client, place, holder)
    assert r.status_code == 410 and r.get_json()["error"] == "code_revoked"
    assert [s.colour for s in _scans(db)] == ["green"]


def test_a_bound_inspector_is_admitted_and_an_unbound_one_refused_at_once(client, db, place, holder, live):
    token = _token(client, holder)
    number = factories.phone()
    newcomer = factories.user(phone_number=number, roles=[("venue_staff", "440103")])  # staff in another district
    r = _verify(client, place, token, factories.auth_headers(newcomer))
    assert r.status_code == 403 and r.get_json()["error"] == "venue_forbidden"  # remembered as "not staff" ...
    venue = place["venue"]["id"]
    assert live.get(f"cache:vstaff:{venue}:{newcomer.id}") == b"-"
    bind_inspector(client, venue, place["owner"][1], number, factories.auth_headers(newcomer))
    assert _verify(client, place, token, factories.auth_headers(newcomer)).status_code == 200  # ... until bound
    assert live.get(f"cache:vstaff:{venue}:{newcomer.id}") == b"inspector"
    assert client.delete(f"/api/v1/venues/{venue}/staff/{newcomer.id}", headers=place["owner"][1]).status_code == 204
    r = _verify(client, place, token, factories.auth_headers(newcomer))
    assert r.status_code == 403 and r.get_json()["error"] == "venue_forbidden"
    assert len([s for s in _scans(db) if s.kind == "staff"]) == 1


def test_renamed_venue_and_rotated_code_reach_the_door_at_once(client, db, place, holder, live):
    assert _check_in(client, place, holder).status_code == 201
    venue_id = place["venue"]["id"]
    assert client.patch(f"/api/v1/venues/{venue_id}", json={"name": "新名字商场"},
                        headers=place["owner"][1]).status_code == 200
    r = _check_in(client, place, holder)
    assert r.status_code == 200 and r.get_json()["venue"]["name"] == "新名字商场"
    assert client.post(f"/api/v1/venues/{venue_id}/code/rotate", headers=place["owner"][1]).status_code == 200
    r = _check_in(client, place, holder)
    assert r.status_code == 422 and r.get_json()["error"] == "venue_code_outdated"
    fresh = client.get(f"/api/v1/venues/{venue_id}/code", headers=place["owner"][1]).get_json()["venue_code"]
    assert _check_in(client, place, holder, venue_code=fresh).status_code == 200  # same visit within 5 minutes


def test_someone_elses_code_is_not_served_from_its_card(client, db, place, holder, live, login):
    assert _check_in(client, place, holder).status_code == 201
    r = _check_in(client, place, holder, headers=login("resident")[1])
    assert r.status_code == 404 and r.get_json()["error"] == "health_code_not_found"
    assert len(_scans(db)) == 1


def test_the_cache_holds_no_clear_name_and_an_unreadable_one_goes_to_the_database(client, db, place, holder,
                                                                                    live):
    token = _token(client, holder)
    assert _verify(client, place, token).status_code == 200
    cached = b" ".join(live.get(key) for key in live.keys("cache:*"))
    assert "张".encode() not in cached and "明".encode() not in cached
    ref_key = next(k for k in live.keys("cache:hcref:*"))
    card = hc_service.Card.parse(live.get(ref_key).decode())
    assert card.code_id == int(holder["code"]["id"]) and card.name_enc
    live.set(ref_key, hc_service.Card(**{**card.__dict__, "name_enc": b"\x02k1" + bytes(40)}).text())
    r = _verify(client, place, token)
    assert r.status_code == 200 and r.get_json()["holder"] == "张*明"  # read again from the database
    assert hc_service.Card.parse(live.get(ref_key).decode()).name_enc == card.name_enc  # and cached again


def test_cache_keys_name_nothing_for_hostile_bodies(app, live):
    from app.venues import scans

    for body in (None, [], "x", {"token": 5, "venue_id": True}, {"token": "%%%", "venue_id": "-1"},
                 {"venue_code": {"a": 1}, "health_code_id": "0x10"}, {"venue_code": "JFV1.AAAA", "health_code_id": 0}):
        assert scans.verify_keys(7, body) == [] and scans.checkin_keys(body) == []


def test_staff_role_is_cached_per_venue_and_user(app, client, place, holder, live):
    token = _token(client, holder)
    assert _verify(client, place, token).status_code == 200
    keys = {k.decode() for k in live.keys("cache:vstaff:*")}
    assert len(keys) == 1 and keys.pop().startswith(f"cache:vstaff:{place['venue']['id']}:")
    assert venue_service.CARD_TTL <= 60 and 0 < live.ttl(f"cache:hcref:{hc_service.unverified_ref(token)}") <= 60
