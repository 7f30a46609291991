"""`flask health-codes keygen|refresh`."""
from datetime import timedelta

from sqlalchemy import select

from app.health_codes import keys
from app.health_codes.models import ColourChange, HealthCode, Person
from tests.health_codes.conftest import URL


def test_keygen_prints_a_usable_key(app):
    result = app.test_cli_runner().invoke(args=["health-codes", "keygen", "--kid", "k2027"])
    assert result.exit_code == 0
    line = result.output.strip()
    assert line.startswith("k2027:") and keys.build(line).kid == "k2027"
    for bad in ("much-too-long", "a,b", "密钥"):
        assert app.test_cli_runner().invoke(args=["health-codes", "keygen", "--kid", bad]).exit_code != 0


def test_refresh_applies_due_timed_changes(app, client, db, clock, resident, apply_code):
    headers = resident[1]
    due, idle = apply_code(headers), apply_code(headers, relation="family", name="李四", id_type="hk_macao_permit",
                                                id_number="H12345678")
    for day in range(8):
        clock.set(clock.now + timedelta(days=1 if day else 0, minutes=1))
        client.post(f"{URL}/{due['id']}/declarations", headers=headers, json={
            "temperature_c": 39.0 if day == 0 else 36.4, "risk_area_visit_14d": False, "case_contact_14d": False})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["health-codes", "refresh"]).output.strip() == "health codes re-evaluated: 0"
    clock.set(clock.now + timedelta(days=1))
    assert runner.invoke(args=["health-codes", "refresh"]).output.strip() == "health codes re-evaluated: 1"
    db.session.expire_all()
    rows = dict(db.session.execute(select(HealthCode.id, Person.colour).join(Person)).all())
    assert rows == {int(due["id"]): "green", int(idle["id"]): "green"}
    assert db.session.execute(select(ColourChange.reason_code).order_by(ColourChange.changed_at.desc())
                              ).scalars().first() == "clean_streak"
    assert runner.invoke(args=["health-codes", "refresh"]).output.strip() == "health codes re-evaluated: 0"


def test_demo_codes_are_idempotent(db, resident):
    from app.health_codes import demo

    first = demo.seed(owner_id=resident[0].id)
    assert demo.seed(owner_id=resident[0].id) == ["demo health code (self) already there",
                                                    "demo health code (family) already there"]
    assert len(first) == 2 and len(db.session.execute(select(HealthCode.id)).all()) == 2


def test_refresh_re_evaluates_codes_from_older_rules(app, db, clock, resident, apply_code):
    code = apply_code(resident[1])
    db.session.execute(Person.__table__.update().values(rules_version="2020.1", colour="red"))
    db.session.commit()
    out = app.test_cli_runner().invoke(args=["health-codes", "refresh"]).output.strip()
    assert out == "health codes re-evaluated: 1"
    db.session.expire_all()
    row = db.session.get(HealthCode, int(code["id"]))
    assert (row.colour, row.rules_version) == ("green", "2026.1")
