"""健康申报 over HTTP: the answer carries the new colour and reason; the stored colour and the audit follow."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.health_codes.models import ColourChange, Declaration, HealthCode
from tests.health_codes.conftest import URL

CLEAN = {"temperature_c": 36.6, "symptoms": [], "risk_area_visit_14d": False, "case_contact_14d": False}


@pytest.fixture
def code(clock, resident, apply_code):
    applied = apply_code(resident[1])
    clock.set(clock.now + timedelta(minutes=1))
    return applied


def declare(client, headers, code, **changes):
    return client.post(f"{URL}/{code['id']}/declarations", json={**CLEAN, **changes}, headers=headers)


def _changes(db, code_id):
    return db.session.execute(select(ColourChange.from_colour, ColourChange.to_colour, ColourChange.reason_code)
                              .where(ColourChange.health_code_id == int(code_id))
                              .order_by(ColourChange.changed_at)).all()


@pytest.mark.parametrize("changes, colour, reason", [
    ({}, "green", "no_risk"),
    ({"temperature_c": 37.3}, "yellow", "fever"),
    ({"temperature_c": 37.25}, "yellow", "fever"),  # rounded half up to 37.3
    ({"temperature_c": 37.24}, "green", "no_risk"),
    ({"symptoms": ["cough", "fatigue", "cough"]}, "yellow", "symptoms"),
    ({"risk_area_visit_14d": True}, "yellow", "risk_area_visit"),
    ({"case_contact_14d": True, "symptoms": ["fever"]}, "yellow", "case_contact"),
])
def test_declaration_answers_with_colour_and_reason(client, db, resident, code, changes, colour, reason):
    r = declare(client, resident[1], code, **changes)
    assert r.status_code == 201
    body = r.get_json()
    assert (body["colour"], body["reason"]["code"], body["next_review_at"]) == (colour, reason, None)
    assert body["reason"]["message"] and isinstance(body["id"], str)
    row = db.session.get(HealthCode, int(code["id"]))
    assert (row.colour, row.colour_reason) == (colour, reason)
    stored = db.session.execute(select(Declaration)).scalar_one()
    assert stored.temperature_c == body["temperature_c"] and stored.symptoms == body["symptoms"]
    if "symptoms" in changes and changes["symptoms"] == ["cough", "fatigue", "cough"]:
        assert stored.symptoms == ["cough", "fatigue"]
    expected = [(None, "green", "no_risk")] + ([("green", colour, reason)] if colour != "green" else [])
    assert _changes(db, code["id"]) == expected


@pytest.mark.parametrize("changes, field", [
    ({"temperature_c": 34.9}, "temperature_c"), ({"temperature_c": 42.1}, "temperature_c"),
    ({"temperature_c": "hot"}, "temperature_c"), ({"temperature_c": None}, "temperature_c"),
    ({"symptoms": ["sneezing"]}, "symptoms"), ({"symptoms": "cough"}, "symptoms"),
    ({"risk_area_visit_14d": None}, "risk_area_visit_14d"), ({"case_contact_14d": "maybe"}, "case_contact_14d"),
    ({"mood": "happy"}, "mood"),
])
def test_bad_declarations_change_nothing(client, db, resident, code, changes, field):
    r = declare(client, resident[1], code, **changes)
    assert r.status_code == 422 and field in r.get_json()["errors"]["json"]
    assert db.session.execute(select(Declaration)).first() is None
    assert db.session.get(HealthCode, int(code["id"])).colour == "green"


def test_seven_clean_days_turn_yellow_green_by_themselves(client, db, clock, resident, code):
    headers = resident[1]
    assert declare(client, headers, code, temperature_c=38.0).get_json()["colour"] == "yellow"
    for day in range(1, 8):
        clock.set(clock.now + timedelta(days=1))
        body = declare(client, headers, code).get_json()
    assert body["colour"] == "yellow" and body["reason"]["code"] == "clean_streak_pending"
    assert body["next_review_at"] == "2026-03-09T16:00:00+00:00"  # midnight after the 7th day, Shanghai
    clock.set(clock.now + timedelta(hours=15))  # 2026-03-10 00:00 Shanghai: nobody asked, the rules did
    shown = client.get(f"{URL}/{code['id']}", headers=headers).get_json()
    assert (shown["colour"], shown["reason"]["code"], shown["next_review_at"]) == ("green", "clean_streak", None)
    assert shown["colour_since"] == "2026-03-09T16:00:00+00:00"
    row = db.session.get(HealthCode, int(code["id"]))
    assert (row.colour, row.review_at) == ("green", None)
    assert _changes(db, code["id"])[-2:] == [("green", "yellow", "fever"), ("yellow", "green", "clean_streak")]


def test_daily_limit(client, db, resident, code):
    for _ in range(10):
        assert declare(client, resident[1], code).status_code == 201
    r = declare(client, resident[1], code)
    assert r.status_code == 429 and r.get_json()["error"] == "declaration_limit"
    assert len(db.session.execute(select(Declaration)).all()) == 10


def test_withdrawn_code_cannot_declare(client, resident, code):
    client.delete(f"{URL}/{code['id']}", headers=resident[1])
    assert declare(client, resident[1], code).status_code == 404
