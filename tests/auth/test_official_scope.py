"""Health officials hold their role over the whole city only: district grants are refused wherever roles are given."""
import pytest
from sqlalchemy import select

from app.auth import service
from app.auth.models import RoleGrant, User
from app.errors import ValidationFailed
from tests import factories

PASSWORD = "correct-horse-battery"


def _create(app, *args):
    return app.test_cli_runner().invoke(args=["users", "create", "--username", "li", "--password", PASSWORD, *args])


def _grants(db):
    db.session.expire_all()
    return db.session.execute(select(RoleGrant.role, RoleGrant.area_code).join(User)
                              .where(User.username == "li")).all()


@pytest.mark.parametrize("area", ["440106", "440106001", "440106001001"])
def test_cli_refuses_a_district_health_official(app, db, area):
    result = _create(app, "--role", "health_official", "--area", area)
    assert result.exit_code != 0 and "全市" in result.output
    assert _grants(db) == [] and db.session.execute(select(User).where(User.username == "li")).first() is None


def test_cli_grants_a_city_wide_health_official(app, db):
    result = _create(app, "--role", "health_official")
    assert result.exit_code == 0, result.output
    assert _grants(db) == [("health_official", "4401")]
    assert _create(app, "--role", "organiser", "--area", "440106").exit_code == 0  # other roles stay by area
    assert sorted(_grants(db)) == [("health_official", "4401"), ("organiser", "440106")]


def test_no_service_grants_a_district_health_official(db):
    user = factories.user()
    with pytest.raises(ValidationFailed) as info:
        service.grant_role(user=user, role="health_official", area_code="440106")
    assert info.value.error == "role_city_wide"
    db.session.rollback()
    assert [g.role for g in db.session.get(User, user.id).grants] == ["resident"]
