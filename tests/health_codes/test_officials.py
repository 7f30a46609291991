"""The service side of officials' decisions (tests/venues/test_officials.py covers the routes): audit rows,
sticky red, history."""
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DatabaseError

from app.errors import NotFound, ValidationFailed
from app.health_codes import service
from app.health_codes.models import ColourChange, HealthCode, Person
from tests.health_codes.conftest import URL, resident_id

CLEAN = {"temperature_c": 36.6, "symptoms": [], "risk_area_visit_14d": False, "case_contact_14d": False}


@pytest.fixture
def setup(clock, resident, login, apply_code):
    """(code id, owner headers, official user)."""
    code = apply_code(resident[1])
    return int(code["id"]), resident[1], login("health_official")[0]


def test_red_is_audited_and_sticky(client, db, clock, setup):
    code_id, headers, official = setup
    clock.set(clock.now + timedelta(minutes=5))
    service.official_set_colour(code_id=code_id, colour="red", reason="  核酸检测 阳性  ", official_id=official.id)
    audit = db.session.execute(select(ColourChange).where(ColourChange.source == "official")).scalar_one()
    assert (audit.changed_by, audit.changed_at, audit.from_colour, audit.to_colour, audit.note, audit.reason_code) == (
        official.id, clock.now, "green", "red", "核酸检测 阳性", "official_red")
    for day in range(1, 10):  # nine clean days change nothing
        clock.set(clock.now + timedelta(days=1))
        body = client.post(f"{URL}/{code_id}/declarations", json=CLEAN, headers=headers).get_json()
        assert body["colour"] == "red" and body["reason"]["code"] == "official_red"
    current = service.status(db.session.get(HealthCode, code_id))
    assert (current.colour, current.holder) == ("red", "张*明")
    service.official_set_colour(code_id=code_id, colour="green", reason="解除隔离", official_id=official.id)
    assert client.get(f"{URL}/{code_id}", headers=headers).get_json()["reason"]["code"] == "official_release"


def test_official_yellow_is_released_by_seven_clean_days(client, db, clock, setup):
    code_id, headers, official = setup
    service.official_set_colour(code_id=code_id, colour="yellow", reason="时空伴随", official_id=official.id)
    for _ in range(7):
        clock.set(clock.now + timedelta(days=1))
        client.post(f"{URL}/{code_id}/declarations", json=CLEAN, headers=headers)
    clock.set(clock.now + timedelta(days=1))
    assert client.get(f"{URL}/{code_id}", headers=headers).get_json()["colour"] == "green"


def test_history_lists_changes_and_declarations_newest_first(client, db, clock, setup):
    code_id, headers, official = setup
    clock.set(clock.now + timedelta(minutes=1))
    client.post(f"{URL}/{code_id}/declarations", json={**CLEAN, "temperature_c": 38.2}, headers=headers)
    clock.set(clock.now + timedelta(minutes=1))
    service.official_set_colour(code_id=code_id, colour="red", reason="疑似病例", official_id=official.id)
    items = service.history(code_id=code_id)
    assert [(i.type, getattr(i, "to_colour", None), getattr(i, "source", None)) for i in items] == [
        ("colour_change", "red", "official"), ("colour_change", "yellow", "rules"), ("declaration", None, None),
        ("colour_change", "green", "rules")]
    assert items[0].changed_by == official.id and items[0].note == "疑似病例"
    assert items[0].from_colour == "yellow" and items[0].reason.code == "official_red"
    assert items[0].reason.message.startswith("卫生健康部门已将您的健康码设为红码")
    assert items[2].temperature_c == 38.2 and items[2].risk == "fever"
    assert items[3].from_colour is None and items[3].changed_by is None


def test_the_audit_is_append_only(db, setup):
    code_id, _, official = setup
    service.official_set_colour(code_id=code_id, colour="red", reason="确诊", official_id=official.id)
    with pytest.raises(DatabaseError):
        db.session.execute(update(ColourChange).values(to_colour="green"))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DatabaseError):
        db.session.execute(text("UPDATE health_code_colour_changes SET note = 'x'"))
    db.session.rollback()
    assert db.session.execute(select(ColourChange.to_colour).where(ColourChange.source == "official")).scalar() == "red"


def test_refusals_change_nothing(client, db, clock, setup):
    code_id, headers, official = setup
    for kwargs, error in ((dict(colour="blue", reason="x"), ValidationFailed),
                          (dict(colour="red", reason="   "), ValidationFailed),
                          (dict(colour="red", reason="x" * 201), ValidationFailed)):
        with pytest.raises(error):
            service.official_set_colour(code_id=code_id, official_id=official.id, **kwargs)
    for missing in (987654321, 0, 2**70):
        with pytest.raises(NotFound):
            service.official_set_colour(code_id=missing, colour="red", reason="x", official_id=official.id)
        with pytest.raises(NotFound):
            service.history(code_id=missing)
    client.delete(f"{URL}/{code_id}", headers=headers)
    from app.health_codes import persons

    db.session.rollback()
    assert db.session.execute(select(ColourChange.source)).scalars().all() == ["rules"]
    assert service.official_set_colour(code_id=code_id, colour="green", reason="解除", official_id=official.id,
                                       now=clock.now).colour == "green"  # a withdrawn code still reaches its person
    persons.erase_due(now=clock.now + timedelta(days=400))  # ... until the person is erased with its codes
    with pytest.raises(NotFound):
        service.official_set_colour(code_id=code_id, colour="red", reason="x", official_id=official.id)
    db.session.rollback()
    assert db.session.execute(select(ColourChange.source)).scalars().all() == []


def test_several_decisions_in_one_transaction(db, clock, resident, login, apply_code):
    official = login("health_official")[0]
    ids = [int(apply_code(resident[1], relation="family", id_number=resident_id(seq=f"{n:03d}"))["id"])
           for n in range(1, 3)]
    for code_id in ids:
        service.official_set_colour(code_id=code_id, colour="yellow", reason="密接", official_id=official.id,
                                    commit=False)
    db.session.rollback()  # the caller decides: nothing was committed
    assert set(db.session.execute(select(Person.colour)).scalars()) == {"green"}


def test_lookups_for_officials(client, db, resident, setup, apply_code, statements):
    code_id, headers, _ = setup
    other = int(apply_code(headers, name="王五", relation="family", id_number=resident_id(seq="777"))["id"])
    client.delete(f"{URL}/{other}", headers=headers)
    assert service.get(code_id=other).revoked_at is not None
    with statements() as seen:
        holders = service.masked_holders([code_id, other, 987654321])
    assert holders == {code_id: "张*明", other: None} and len(seen) == 1
    with pytest.raises(NotFound):
        service.get(code_id=987654321)
