"""Patrol fixtures: a frozen clock, volunteers in real areas, a community group with a leader, patrols made
through the API."""
import itertools
from datetime import timedelta

import pytest

from app.volunteers import membership
from tests import factories
from tests.patrols.helpers import COMMUNITY, GRID, MEETING, NOW, STREET, iso

_names = itertools.cycle(["陈大文", "李小明", "黄志强", "梁嘉欣", "林子健", "张伟", "欧阳晓婷"])


@pytest.fixture
def frozen_at():
    return NOW


@pytest.fixture(autouse=True)
def _frozen(clock):
    """Every test here runs on the frozen clock."""


@pytest.fixture
def volunteer():
    """volunteer(grid=GRID) -> (user, headers, Volunteer): a registered volunteer."""

    def make(grid: str = GRID, name: str | None = None):
        user = factories.user()
        v = factories.volunteer(owner=user, name=name or next(_names), grid=grid)
        return user, factories.auth_headers(user), v

    return make


@pytest.fixture
def organiser(login):
    """An organiser over the test street."""
    return login("organiser", STREET)


@pytest.fixture
def group():
    return factories.community_group(GRID)


@pytest.fixture
def leader(volunteer, group, organiser):
    """(user, headers, Volunteer) of a leader of the community group."""
    user, headers, v = volunteer()
    membership.decide(actor=organiser[0], group_id=group.id, volunteer_id=v.id, status=None, role="leader")
    return user, factories.auth_headers(user), v


@pytest.fixture
def new_patrol(client, organiser, group):
    """new_patrol(**fields) -> patrol JSON: created through the API by the street organiser (201 asserted)."""

    def make(headers=None, **fields):
        starts = fields.pop("starts_at", NOW + timedelta(hours=1))
        body = {"group_id": str(fields.pop("group_id", group.id)), "area": fields.pop("area", COMMUNITY),
                "title": "五山东风社区夜间巡逻", "starts_at": iso(starts),
                "ends_at": iso(fields.pop("ends_at", starts + timedelta(hours=2))), "meeting_point": MEETING,
                "capacity": 5, "points_per_hour": 10, **fields}
        r = client.post("/api/v1/patrols", json=body, headers=headers or organiser[1])
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    return make
