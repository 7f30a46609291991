"""The person carries the colour: withdrawal never resets it, one document is one person, erasure after retention."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from app.health_codes.models import ColourChange, HealthCode, Person
from app.patrols.models import Notification
from tests.health_codes.conftest import URL, application, resident_id

ADMIN = "/api/v1/admin/health-codes"


def _count(db, model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


@pytest.mark.parametrize("colour", ["red", "yellow"])
def test_withdraw_and_apply_again_keeps_the_colour_and_history(client, db, clock, resident, login, apply_code,
                                                               colour):
    official = login("health_official")[1]
    first = apply_code(resident[1])
    r = client.patch(f"{ADMIN}/{first['id']}/colour", json={"colour": colour, "reason": "确诊病例"}, headers=official)
    assert r.status_code == 200 and r.get_json()["colour"] == colour
    assert client.delete(f"{URL}/{first['id']}", headers=resident[1]).status_code == 204
    person = db.session.execute(select(Person)).scalar_one()
    assert person.colour == colour and person.unlinked_at == clock.now
    again = apply_code(resident[1], id_number=" " + resident_id()[:6] + "-" + resident_id()[6:])
    assert again["id"] != first["id"] and again["colour"] == colour
    assert again["reason"]["code"] == f"official_{colour}"
    assert db.session.get(HealthCode, int(again["id"])).person_id == person.id
    history = client.get(f"{ADMIN}/{again['id']}/history", headers=official).get_json()["items"]
    decisions = [i for i in history if i["source"] == "official"]
    assert [(d["to"], d["note"]) for d in decisions] == [(colour, "确诊病例")]
    assert _count(db, Person) == 1


def test_green_person_is_erased_after_retention(app, client, db, clock, resident, apply_code):
    code = apply_code(resident[1])
    client.post(f"{URL}/{code['id']}/declarations", headers=resident[1],
                json={"temperature_c": 36.5, "risk_area_visit_14d": False, "case_contact_14d": False})
    assert client.delete(f"{URL}/{code['id']}", headers=resident[1]).status_code == 204
    from app.health_codes import persons

    days = app.config["HEALTH_CODE_PERSON_RETENTION_DAYS"]
    clock.set(clock.now + timedelta(days=days - 1))
    assert persons.erase_due() == 0 and _count(db, Person) == 1
    clock.set(clock.now + timedelta(days=2))
    assert persons.erase_due() == 1
    db.session.remove()
    with db.engine.connect() as conn:
        for table in ("health_persons", "health_codes", "health_code_colour_changes", "health_declarations"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0, table


def test_red_person_without_codes_is_not_erased(client, db, clock, resident, login, apply_code):
    code = apply_code(resident[1])
    client.patch(f"{ADMIN}/{code['id']}/colour", json={"colour": "red", "reason": "确诊"},
                 headers=login("health_official")[1])
    client.delete(f"{URL}/{code['id']}", headers=resident[1])
    from app.health_codes import persons

    clock.set(clock.now + timedelta(days=400))
    assert persons.erase_due() == 0
    assert db.session.execute(select(Person.colour)).scalar_one() == "red"


def test_full_width_and_ascii_numbers_are_one_person(client, db, clock, resident, login, apply_code):
    number = resident_id()
    wide = number[:15] + "".join(chr(ord(c) + 0xFEE0) for c in number[15:])  # full-width digits (Ｘ too)
    mine = apply_code(resident[1], id_number=wide)
    family = apply_code(login("resident")[1], relation="family", id_number=number)
    ids = [db.session.get(HealthCode, int(c["id"])).person_id for c in (mine, family)]
    assert ids[0] == ids[1] and _count(db, Person) == 1


@pytest.mark.parametrize("number, error", [
    ("440²06199003071231", "id_number_invalid"), ("44010619900307123①", "id_number_invalid"),
    ("４４０１０６１９９００３０７１２٣１", "id_number_invalid"),
    (resident_id("990106"), "id_number_region"), (resident_id("440199"), "id_number_region"),
])
def test_bad_characters_and_unknown_counties_are_422(client, db, clock, resident, number, error):
    r = client.post(URL, json=application(id_number=number), headers=resident[1])
    assert r.status_code == 422 and r.get_json()["error"] == error
    assert _count(db, Person) == 0 and _count(db, HealthCode) == 0


def test_a_stranger_cannot_claim_someone_elses_number(app, client, db, clock, login, monkeypatch):
    number = resident_id()
    real_user, real = login("resident")
    from app.auth import service as auth_service

    monkeypatch.setitem(app.config, "IDENTITY_FAKE_OWNERS", f"{number}:{auth_service.phone_of(real_user)}")
    _, stranger = login("resident")
    r = client.post(URL, json=application(id_number=number), headers=stranger)
    assert r.status_code == 422 and r.get_json()["error"] == "identity_mismatch"
    assert _count(db, Person) == 0 and _count(db, HealthCode) == 0
    r = client.post(URL, json=application(id_number=number), headers=real)
    assert r.status_code == 201 and r.get_json()["verified"] is True


def test_a_verified_self_claim_replaces_an_unverified_one(client, db, clock, login, apply_code):
    squatter_user, squatter = login("resident")
    old = apply_code(squatter)
    db.session.get(HealthCode, int(old["id"])).verified_at = None  # as the migration leaves older codes
    db.session.commit()
    real = apply_code(login("resident")[1])
    assert real["relation"] == "self" and real["verified"] is True
    assert db.session.get(HealthCode, int(old["id"])).revoked_at is not None
    assert client.get(f"{URL}/{old['id']}", headers=squatter).status_code == 404
    note = db.session.execute(select(Notification).where(Notification.user_id == squatter_user.id)).scalar_one()
    assert note.kind == "health_code_replaced"
    r = client.post(URL, json=application(), headers=login("resident")[1])
    assert r.status_code == 409 and r.get_json()["error"] == "health_code_exists"


def test_family_holders_are_capped_listed_and_revoked(app, client, db, clock, resident, login, apply_code):
    me = apply_code(resident[1])
    families = [login("resident") for _ in range(4)]
    held = [apply_code(h, relation="family", phone=None) for _, h in families[:3]]
    r = client.post(URL, json=application(relation="family", phone=None), headers=families[3][1])
    assert r.status_code == 409 and r.get_json()["error"] == "family_holder_limit"
    listed = client.get(f"{URL}/{me['id']}/holders", headers=resident[1]).get_json()["items"]
    assert sorted(h["id"] for h in listed) == sorted(h["id"] for h in held)
    assert all("****" in h["account_phone"] and h["name"] == "张*明" for h in listed)
    assert client.get(f"{URL}/{held[0]['id']}/holders", headers=families[0][1]).status_code == 403
    assert client.delete(f"{URL}/{me['id']}/holders/{held[0]['id']}", headers=families[1][1]).status_code == 404
    assert client.delete(f"{URL}/{me['id']}/holders/{held[0]['id']}", headers=resident[1]).status_code == 204
    assert db.session.get(HealthCode, int(held[0]["id"])).revoked_at is not None
    assert _count(db, Notification, Notification.user_id == families[0][0].id) == 1
    assert client.delete(f"{URL}/{me['id']}/holders/{held[0]['id']}", headers=resident[1]).status_code == 404
    apply_code(families[3][1], relation="family", phone=None)  # room again


def test_unverified_code_shows_colour_until_its_grace_ends(client, db, clock, resident, apply_code):
    code = apply_code(resident[1])
    row = db.session.get(HealthCode, int(code["id"]))
    row.verified_at, row.verify_by = None, clock.now + timedelta(days=14)
    db.session.commit()
    assert client.get(f"{URL}/{code['id']}/token", headers=resident[1]).status_code == 200
    r = client.post(f"{URL}/{code['id']}/declarations", headers=resident[1],
                    json={"temperature_c": 36.5, "risk_area_visit_14d": False, "case_contact_14d": False})
    assert r.status_code == 403 and r.get_json()["error"] == "verification_required"
    clock.set(clock.now + timedelta(days=15))
    r = client.get(f"{URL}/{code['id']}/token", headers=resident[1])
    assert r.status_code == 403 and r.get_json()["error"] == "verification_required"
    shown = client.get(f"{URL}/{code['id']}", headers=resident[1]).get_json()
    assert shown["colour"] == "green" and shown["verified"] is False
    r = client.post(f"{URL}/{code['id']}/verification", headers=resident[1])
    assert r.status_code == 200 and r.get_json()["verified"] is True and r.get_json()["verify_by"] is None
    assert client.get(f"{URL}/{code['id']}/token", headers=resident[1]).status_code == 200


def test_self_code_needs_an_sms_proven_phone(client, db, clock):
    from tests import factories

    wechat_only = factories.user(username="wx-only")
    r = client.post(URL, json=application(), headers=factories.auth_headers(wechat_only))
    assert r.status_code == 403 and r.get_json()["error"] == "phone_unverified"
    assert _count(db, Person) == 0


def test_colour_changes_reach_every_code_of_the_person(client, db, clock, resident, login, apply_code):
    mine = apply_code(resident[1])
    family_headers = login("resident")[1]
    family = apply_code(family_headers, relation="family", phone=None)
    client.patch(f"{ADMIN}/{family['id']}/colour", json={"colour": "red", "reason": "密接"},
                 headers=login("health_official")[1])
    assert client.get(f"{URL}/{mine['id']}", headers=resident[1]).get_json()["colour"] == "red"
    assert client.get(f"{URL}/{family['id']}", headers=family_headers).get_json()["colour"] == "red"
    assert _count(db, ColourChange, ColourChange.source == "official") == 1
