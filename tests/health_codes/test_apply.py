"""申领 over HTTP: self and family codes, masking, one code per document, ten per account, consent, withdrawal."""
from sqlalchemy import func, select

from app.health_codes.models import ColourChange, Declaration, HealthCode
from tests import factories
from tests.health_codes.conftest import URL, application, resident_id


def _count(db, model=HealthCode, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def test_apply_for_self_and_a_parent(client, db, clock, resident, apply_code):
    user, headers = resident
    mine = apply_code(headers)
    parent = apply_code(headers, name="欧阳志明", relation="family", phone=None,
                        id_number=resident_id("310104", "19550101", "002"))
    from app.auth import service as auth_service

    account_phone = auth_service.phone_of(user)  # a self code holds the account's SMS-proven phone, not the body's
    assert {k: mine[k] for k in ("name", "id_number", "phone", "relation", "colour", "verified")} == {
        "name": "张*明", "id_number": "440***********" + resident_id()[-4:],
        "phone": account_phone[:3] + "****" + account_phone[-4:], "relation": "self", "colour": "green",
        "verified": True}
    assert mine["reason"] == {"code": "no_risk", "message": "未发现风险，请继续做好个人防护。"}
    assert mine["consent"] == {"given_at": "2026-03-02T02:00:00+00:00", "policy_version": "2026-11"}
    assert mine["next_review_at"] is None and mine["rules_version"] == "2026.1"
    assert parent["name"] == "欧**明" and parent["phone"] is None and parent["relation"] == "family"
    assert isinstance(mine["id"], str) and int(mine["id"]) > 2**32 and int(parent["id"]) != int(mine["id"]) + 1
    listed = client.get(URL, headers=headers).get_json()["items"]
    assert [c["id"] for c in listed] == [mine["id"], parent["id"]]
    assert client.get(f"{URL}/{mine['id']}", headers=headers).get_json() == mine
    row = db.session.get(HealthCode, int(mine["id"]))
    assert (row.owner_id, row.consent_policy, row.consent_at, row.relation) == (user.id, "2026-11", clock.now, "self")
    first = db.session.execute(select(ColourChange).where(ColourChange.health_code_id == row.id)).scalar_one()
    assert (first.source, first.from_colour, first.to_colour, first.reason_code) == ("rules", None, "green", "no_risk")


def test_other_peoples_codes_are_404(client, resident, login, apply_code):
    code = apply_code(resident[1])
    _, stranger = login("resident")
    _, official = login("health_official")
    for headers in (stranger, official):
        for method, path in (("GET", ""), ("DELETE", ""), ("GET", "/token"), ("GET", "/qr.png")):
            r = client.open(f"{URL}/{code['id']}{path}", method=method, headers=headers)
            assert r.status_code == 404 and r.get_json()["error"] == "health_code_not_found"
        r = client.post(f"{URL}/{code['id']}/declarations", headers=headers,
                        json={"temperature_c": 36.5, "risk_area_visit_14d": False, "case_contact_14d": False})
        assert r.status_code == 404
    assert client.get(URL, headers=stranger).get_json() == {"items": []}
    for bad in ("0", "9223372036854775808", "99999999999999999999999", "abc"):
        assert client.get(f"{URL}/{bad}", headers=resident[1]).status_code == 404


def test_same_document_twice(client, db, resident, login, apply_code):
    code = apply_code(resident[1])
    r = client.post(URL, json=application(name="张三"), headers=resident[1])
    assert r.status_code == 409
    assert r.get_json()["error"] == "health_code_exists" and r.get_json()["health_code_id"] == code["id"]
    _, stranger = login("resident")
    r = client.post(URL, json=application(id_number=resident_id().lower()), headers=stranger)
    body = r.get_json()
    assert r.status_code == 409 and body["error"] == "health_code_exists"
    assert "health_code_id" not in body and code["id"] not in r.get_data(as_text=True) and "12345" in body["message"]
    assert _count(db) == 1


def test_one_self_code_and_ten_per_account(client, db, resident, apply_code):
    headers = resident[1]
    apply_code(headers)
    r = client.post(URL, json=application(id_number=resident_id(seq="999")), headers=headers)
    assert r.status_code == 409 and r.get_json()["error"] == "self_code_exists"
    for n in range(1, 10):
        apply_code(headers, relation="family", id_number=resident_id(seq=f"{n:03d}"))
    r = client.post(URL, json=application(relation="family", id_number=resident_id(seq="555")), headers=headers)
    assert r.status_code == 409 and r.get_json()["error"] == "health_code_limit"
    assert _count(db) == 10
    assert sorted(db.session.execute(select(HealthCode.slot)).scalars()) == list(range(10))


def test_consent_is_required_and_nothing_is_stored(client, db, resident):
    for consent in (False, ..., "true", 1, None):
        r = client.post(URL, json=application(consent=consent), headers=resident[1])
        assert r.status_code == 422 and "consent" in r.get_json()["errors"]["json"]
    assert r.get_json()["error"] == "validation_failed"
    r = client.post(URL, json=application(consent=False), headers=resident[1])
    assert r.get_json()["error"] == "consent_required" and "敏感个人信息" in r.get_json()["message"]
    assert _count(db) == 0


def test_bad_bodies(client, db, resident):
    cases = [
        (application(name="张三1"), "name_invalid", "name"),
        (application(name="  "), "name_invalid", "name"),
        (application(name="x" * 51), "validation_failed", "name"),
        (application(phone="12345", relation="family"), "phone_invalid", "phone"),
        (application(id_type="driving_licence"), "validation_failed", "id_type"),
        (application(relation="friend"), "validation_failed", "relation"),
        (application(id_number=...), "validation_failed", "id_number"),
        ({**application(), "owner_id": 1}, "validation_failed", "owner_id"),
    ]
    for body, error, field in cases:
        r = client.post(URL, json=body, headers=resident[1])
        assert r.status_code == 422, body
        assert r.get_json()["error"] == error and field in r.get_json()["errors"]["json"]
    assert client.post(URL, data="{", content_type="application/json", headers=resident[1]).status_code == 400
    assert _count(db) == 0


def test_names_from_other_scripts_and_documents(client, resident, apply_code):
    code = apply_code(resident[1], name="迪丽热巴·迪力木拉提", id_type="passport", id_number="e 1234 5678", phone=None)
    assert code["name"] == "迪********提" and code["id_number"] == "E12**5678" and code["id_type"] == "passport"


def test_withdraw_erases_and_kills_the_code(client, db, resident, login, apply_code):
    headers = resident[1]
    code = apply_code(headers)
    client.post(f"{URL}/{code['id']}/declarations", headers=headers,
                json={"temperature_c": 36.6, "risk_area_visit_14d": False, "case_contact_14d": False})
    token = client.get(f"{URL}/{code['id']}/token", headers=headers).get_json()["token"]
    r = client.delete(f"{URL}/{code['id']}", headers=headers)
    assert r.status_code == 204 and r.data == b""
    row = db.session.get(HealthCode, int(code["id"]))
    assert (row.name_enc, row.id_number_enc, row.phone_enc, row.slot) == (None,) * 4
    assert row.revoked_at is not None and _count(db, Declaration) == 0  # a green person keeps no declarations
    assert row.person.unlinked_at == row.revoked_at
    assert client.get(f"{URL}/{code['id']}", headers=headers).status_code == 404
    assert client.delete(f"{URL}/{code['id']}", headers=headers).status_code == 404
    assert client.get(URL, headers=headers).get_json() == {"items": []}
    staff = factories.auth_headers(factories.inspector())
    r = client.post(f"{URL}/verify", json={"token": token}, headers=staff)
    assert r.status_code == 410 and r.get_json()["error"] == "code_revoked"
    again = apply_code(headers)  # the same person again, through a new code
    assert again["id"] != code["id"] and db.session.get(HealthCode, int(again["id"])).person_id == row.person_id


def test_applications_are_limited_per_account_and_every_attempt_counts(app, client, db, resident, login,
                                                                       monkeypatch):
    """A 409 tells whether a document holds a code: the per-account limit bounds how many numbers one account can
    try. Failed attempts count; another account is not held up; a caller without a token is 401, not counted."""
    monkeypatch.setitem(app.config, "RATELIMIT_HEALTH_CODE_APPLY", "3 per hour")
    headers = resident[1]
    assert client.post(URL, json=application(), headers=headers).status_code == 201
    assert client.post(URL, json=application(relation="family"), headers=headers).status_code == 409
    assert client.post(URL, json=application(name="张三1"), headers=headers).status_code == 422
    r = client.post(URL, json=application(relation="family", id_number=resident_id(seq="777")), headers=headers)
    assert r.status_code == 429
    body = r.get_json()
    assert body["error"] == "rate_limited" and body["message"] == "操作过于频繁，请稍后再试"
    assert int(r.headers["Retry-After"]) > 0
    assert _count(db) == 1
    _, other = login("resident")
    assert client.post(URL, json=application(id_number=resident_id(seq="888")), headers=other).status_code == 201
    for _ in range(4):
        assert client.post(URL, json=application()).status_code == 401
    assert _count(db) == 2
