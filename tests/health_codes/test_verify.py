"""验码 over HTTP: who may verify, the verdict from the database, masked holder, lean path, every bad token."""
import base64
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from app.health_codes import service, tokens
from app.health_codes.models import HealthCode, Person
from tests import factories
from tests.health_codes.conftest import URL

VERIFY = f"{URL}/verify"


@pytest.fixture
def shown(client, clock, resident, apply_code):
    """(code, token): a code and the token its owner shows."""
    code = apply_code(resident[1])
    return code, client.get(f"{URL}/{code['id']}/token", headers=resident[1]).get_json()["token"]


@pytest.fixture
def staff():
    """An inspector a checkpoint assigned: verifies without naming a venue."""
    return factories.auth_headers(factories.inspector())


def test_green_code_passes_with_masked_holder_only(client, shown, staff):
    r = client.post(VERIFY, json={"token": shown[1]}, headers=staff)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    body = r.get_json()
    assert set(body) == {"colour", "pass", "holder", "reason", "checked_at"}
    assert (body["colour"], body["pass"], body["holder"]) == ("green", True, "张*明")
    assert body["reason"]["code"] == "no_risk" and body["checked_at"] == "2026-03-02T02:00:00+00:00"


@pytest.mark.parametrize("role, status", [("health_official", 200), ("volunteer", 403), ("resident", 403),
                                          ("organiser", 403), ("admin", 403)])
def test_who_may_verify(client, login, shown, role, status):
    r = client.post(VERIFY, json={"token": shown[1]}, headers=login(role)[1])
    assert r.status_code == status
    if status == 403:
        assert r.get_json()["error"] == "role_forbidden" and "holder" not in r.get_json()
    assert client.post(VERIFY, json={"token": shown[1]}).status_code == 401


def test_verify_without_a_venue_needs_an_official_or_an_assigned_inspector(client, login, shown):
    """venue_staff alone (anyone who registers a venue is its admin) is not enough to check codes anywhere."""
    venue_admin = login("venue_staff", "440106001001")[1]
    r = client.post(VERIFY, json={"token": shown[1]}, headers=venue_admin)
    assert r.status_code == 403 and r.get_json()["error"] == "checkpoint_forbidden" and "holder" not in r.get_json()
    r = client.post(VERIFY, json={"token": shown[1]}, headers=factories.auth_headers(factories.inspector()))
    assert r.status_code == 200 and r.get_json()["holder"] == "张*明"


def test_colour_comes_from_the_database_not_the_token(client, db, clock, login, shown, staff):
    code, token = shown
    official = login("health_official")[0]
    service.official_set_colour(code_id=int(code["id"]), colour="red", reason="确诊病例", official_id=official.id)
    assert tokens.parse(token)[0].colour == "green"
    body = client.post(VERIFY, json={"token": token}, headers=staff).get_json()
    assert (body["colour"], body["pass"], body["reason"]["code"]) == ("red", False, "official_red")


def test_verify_applies_a_due_timed_change(client, db, clock, resident, shown, staff):
    code, _ = shown
    row = db.session.get(HealthCode, int(code["id"]))
    for day in range(8):  # fever on day 0, then seven clean days
        clock.set(clock.now + timedelta(days=1 if day else 0, minutes=1))
        client.post(f"{URL}/{code['id']}/declarations", headers=resident[1], json={
            "temperature_c": 38.5 if day == 0 else 36.5, "risk_area_visit_14d": False, "case_contact_14d": False})
    assert db.session.get(HealthCode, row.id).colour == "yellow"
    clock.set(clock.now + timedelta(days=1))
    token = client.get(f"{URL}/{code['id']}/token", headers=resident[1]).get_json()["token"]
    body = client.post(VERIFY, json={"token": token}, headers=staff).get_json()
    assert (body["colour"], body["pass"], body["reason"]["code"]) == ("green", True, "clean_streak")
    db.session.expire_all()
    assert db.session.get(HealthCode, row.id).colour == "green"


def test_verify_is_one_indexed_select(client, shown, staff, statements):
    with statements() as seen:
        service.status(service.verify_token(shown[1]))
    assert len(seen) == 1 and seen[0].lstrip().upper().startswith("SELECT") and "ref" in seen[0]
    official = factories.auth_headers(factories.user(roles=[("health_official", "4401")]))
    with statements() as seen:
        assert client.post(VERIFY, json={"token": shown[1]}, headers=official).status_code == 200
    assert len(seen) <= 3, seen  # the user behind the access token, its revocation, the code
    with statements() as seen:
        assert client.post(VERIFY, json={"token": shown[1]}, headers=staff).status_code == 200
    assert len(seen) <= 4, seen  # and, for an inspector, their assignment


def _raw(token):
    return bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def _b64(data):
    return base64.urlsafe_b64encode(bytes(data)).decode().rstrip("=")


def _resign(token, kid="dev1", key=None):
    claims = tokens.parse(token)[0]
    key = key or Ed25519PrivateKey.from_private_bytes(b"x" * 32)
    return tokens.sign(key=key, kid=kid, ref=claims.ref, colour=claims.colour, issued_at=claims.issued_at, ttl=120)


BAD = {
    "flipped bit": lambda t: _b64(_raw(t)[:30] + bytes([_raw(t)[30] ^ 0x10]) + _raw(t)[31:]),
    "flipped signature bit": lambda t: _b64(_raw(t)[:-1] + bytes([_raw(t)[-1] ^ 1])),
    "unknown key id": lambda t: _resign(t, kid="zz9"),
    "another key's signature": lambda t: _resign(t),
    "truncated": lambda t: t[:-10],
    "not base64url": lambda t: t[:20] + "+/" + t[22:],
    "empty": lambda t: "",
    "garbage": lambda t: "hello world",
}


@pytest.mark.parametrize("how", list(BAD))
def test_bad_tokens_are_422_token_invalid(client, db, shown, staff, how):
    before = db.session.execute(select(Person.colour, Person.colour_reason, Person.review_at)).all()
    r = client.post(VERIFY, json={"token": BAD[how](shown[1])}, headers=staff)
    assert r.status_code == 422, how
    body = r.get_json()
    assert body["error"] == ("token_invalid" if how != "empty" else "validation_failed")
    assert "token" in body["errors"]["json"]
    assert db.session.execute(select(Person.colour, Person.colour_reason, Person.review_at)).all() == before


def test_expired_token(client, clock, shown, staff):
    clock.set(clock.now + timedelta(seconds=119))
    assert client.post(VERIFY, json={"token": shown[1]}, headers=staff).status_code == 200
    clock.set(clock.now + timedelta(seconds=1))
    r = client.post(VERIFY, json={"token": shown[1]}, headers=staff)
    assert r.status_code == 422 and r.get_json()["error"] == "token_expired" and "刷新" in r.get_json()["message"]


def test_rotated_and_retired_keys(app, client, monkeypatch, shown, staff):
    dev_seed = app.config["HEALTH_CODE_SIGNING_KEYS"]
    new_seed = "new1:" + base64.b64encode(b"n" * 32).decode()
    monkeypatch.setitem(app.config, "HEALTH_CODE_SIGNING_KEYS", f"{new_seed},{dev_seed}")
    assert client.post(VERIFY, json={"token": shown[1]}, headers=staff).status_code == 200  # old key still verifies
    published = client.get(f"{URL}/keys").get_json()
    assert [k["kid"] for k in published["keys"]] == ["new1", "dev1"] and published["signing_kid"] == "new1"
    monkeypatch.setitem(app.config, "HEALTH_CODE_RETIRED_KEY_IDS", "dev1")
    r = client.post(VERIFY, json={"token": shown[1]}, headers=staff)
    assert r.status_code == 422 and r.get_json()["error"] == "token_invalid"
    assert [k["kid"] for k in client.get(f"{URL}/keys").get_json()["keys"]] == ["new1"]


def test_bad_bodies(client, staff):
    for body in ({}, {"token": None}, {"token": 5}, {"token": "x" * 513}, {"token": "a", "venue": 1}):
        r = client.post(VERIFY, json=body, headers=staff)
        assert r.status_code == 422 and r.get_json()["error"] == "validation_failed"
