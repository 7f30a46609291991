"""Report fixtures: a frozen clock, the built-in categories, and one account per step of the loop."""
import pytest

from app.reports import catalogue
from app.volunteers import service as volunteer_service
from tests import factories
from tests.reports.helpers import COMMUNITY, DISTRICT, GRID, NOW, STREET


@pytest.fixture
def frozen_at():
    return NOW


@pytest.fixture(autouse=True)
def _frozen(clock):
    """Every test here runs on the frozen clock."""


@pytest.fixture(autouse=True)
def categories(app):
    catalogue.seed()


def _staff(role: str, area: str):
    user = factories.user(roles=[(role, area)], username=f"{role}-{area}-{factories.phone()}")
    return user, factories.auth_headers(user)


@pytest.fixture
def volunteer():
    """volunteer(grid=GRID) -> (user, headers): a registered volunteer (信息员) living in grid."""

    def make(grid: str = GRID):
        user = factories.user(roles=[("resident", "4401")])
        volunteer_service.register(user=user, real_name="陈大文", grid=grid, trade="express", interests=["running"],
                                   service_roles=["informant"])
        return user, factories.auth_headers(user)

    return make


@pytest.fixture
def community():
    return _staff("community_staff", COMMUNITY)


@pytest.fixture
def street():
    return _staff("street_staff", STREET)


@pytest.fixture
def district():
    return _staff("street_staff", DISTRICT)


@pytest.fixture
def department_staff():
    """department_staff(code="fire", area=DISTRICT) -> (user, headers): staff of a department over an area."""

    def make(code: str = "fire", area: str = DISTRICT):
        user, headers = _staff("department_staff", area)
        dept = catalogue.department(code)
        from app.extensions import db
        from app.reports.models import DepartmentStaff

        db.session.add(DepartmentStaff(department_id=dept.id, user_id=user.id))
        db.session.commit()
        return user, headers

    return make


@pytest.fixture
def fire(department_staff):
    return department_staff("fire")


@pytest.fixture
def grid():
    return GRID
