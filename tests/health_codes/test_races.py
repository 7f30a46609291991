"""Races settled by constraints and row locks (PostgreSQL: SQLite serialises writers anyway)."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import Conflict
from app.health_codes import service
from app.health_codes.models import HealthCode, Person
from tests import factories
from tests.health_codes.conftest import resident_id

pytestmark = pytest.mark.postgres
APPLICATION = dict(name="张三明", id_type="cn_resident_id", id_number=resident_id(), phone=None, relation="family",
                   consent=True)


def _attempt(owner_id: int, number: str) -> str:
    try:
        return str(service.apply(owner_id=owner_id, **{**APPLICATION, "id_number": number}).id)
    except Conflict as exc:
        return exc.error


def test_two_simultaneous_applications_from_one_account_make_one_code(db, concurrently):
    owner = factories.user().id
    results = concurrently(lambda i: _attempt(owner, resident_id()), 2)
    assert sorted(r == "health_code_exists" for r in results) == [False, True], results
    created = db.session.execute(select(HealthCode.id)).scalars().all()
    assert [str(i) for i in created] == [r for r in results if r != "health_code_exists"]


def test_simultaneous_family_claims_from_two_accounts_make_one_person(db, concurrently):
    owners = [factories.user().id, factories.user().id]
    results = concurrently(lambda i: _attempt(owners[i], resident_id()), 2)
    assert all(r.isdigit() for r in results), results
    assert db.session.execute(select(func.count()).select_from(Person)).scalar() == 1
    assert len(set(db.session.execute(select(HealthCode.person_id)).scalars())) == 1


def test_simultaneous_family_claims_never_pass_the_cap(app, db, concurrently):
    owners = [factories.user().id for _ in range(5)]
    results = concurrently(lambda i: _attempt(owners[i], resident_id()), 5)
    assert sorted(results).count("family_holder_limit") == 5 - app.config["HEALTH_CODE_FAMILY_HOLDERS"], results
    assert db.session.execute(select(func.count()).select_from(HealthCode)).scalar() == 3


def test_simultaneous_applications_never_pass_ten_codes(db, concurrently):
    owner = factories.user().id
    for n in range(1, 9):
        service.apply(owner_id=owner, **{**APPLICATION, "id_number": resident_id(seq=f"{n:03d}")})

    def attempt(i):
        return _attempt(owner, resident_id(seq=f"{100 + i}"))

    results = concurrently(attempt, 4)
    assert sum(r == "health_code_limit" for r in results) == 2, results
    slots = db.session.execute(select(HealthCode.slot).where(HealthCode.owner_id == owner)).scalars().all()
    assert sorted(slots) == list(range(10))


def test_declaration_and_official_decision_at_once_leave_a_consistent_colour(db, concurrently):
    owner, official = factories.user(), factories.user(roles=[("health_official", "4401")])
    code = service.apply(owner_id=owner.id, **APPLICATION)

    def act(i):
        if i == 0:
            service.declare(code_id=code.id, owner_id=owner.id, temperature_c=36.5, symptoms=[],
                            risk_area_visit_14d=False, case_contact_14d=False)
        else:
            service.official_set_colour(code_id=code.id, colour="red", reason="确诊", official_id=official.id)

    concurrently(act, 2)
    db.session.expire_all()
    row = db.session.get(HealthCode, code.id)
    assert (row.colour, row.colour_reason) == ("red", "official_red")
    assert service.status(row, now=row.created_at + timedelta(days=30)).colour == "red"
