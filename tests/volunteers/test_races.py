"""Races on PostgreSQL: memberships and counters stay exact when many requests arrive at once."""
import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.volunteers.models import Group, GroupMember, Volunteer
from tests import factories
from tests.volunteer_helpers import (
    GRID_A1,
    GRID_B,
    GRID_OTHER_STREET,
    WUSHAN,
    assert_counts_exact,
    count,
    profile_body,
    register,
)

pytestmark = pytest.mark.postgres


def _group(client, login, **overrides):
    body = {"name": "五山快递群", "kind": "trade", "area": WUSHAN, "trade": "express", **overrides}
    return client.post("/api/v1/groups", json=body, headers=login("organiser", WUSHAN)[1]).get_json()


def test_concurrent_joins_of_one_volunteer_make_one_membership(app, client, login, concurrently, db):
    group = _group(client, login)
    _, headers, me = register(client, login)

    def join(_i):
        with app.test_client() as c:
            return c.post(f"/api/v1/groups/{group['id']}/members", json={}, headers=headers).status_code

    statuses = concurrently(join, 12)
    assert sorted(statuses) == [200] * 11 + [201]
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(GroupMember)).scalar() == 1
    assert db.session.get(Group, int(group["id"])).member_count == 1


def test_concurrent_joins_of_many_volunteers_count_exactly(app, client, login, concurrently, db):
    group = _group(client, login)
    people = [register(client, login)[1] for _ in range(10)]

    def join(i):
        with app.test_client() as c:
            return c.post(f"/api/v1/groups/{group['id']}/members", json={}, headers=people[i]).status_code

    assert concurrently(join, 10) == [201] * 10
    db.session.expire_all()
    assert db.session.get(Group, int(group["id"])).member_count == 10


def test_concurrent_approvals_count_once(app, client, login, concurrently, db):
    organiser = login("organiser", WUSHAN)[1]
    group = _group(client, login, join_policy="approval", name="审批群")
    _, headers, me = register(client, login)
    client.post(f"/api/v1/groups/{group['id']}/members", json={}, headers=headers)

    def approve(_i):
        with app.test_client() as c:
            return c.patch(f"/api/v1/groups/{group['id']}/members/{me['id']}", json={"status": "active"},
                           headers=organiser).status_code

    assert concurrently(approve, 8) == [200] * 8
    db.session.expire_all()
    assert db.session.get(Group, int(group["id"])).member_count == 1


def test_concurrent_registrations_of_one_person(app, login, concurrently, db):
    user = factories.user()
    headers = factories.auth_headers(user)

    def register_once(_i):
        with app.test_client() as c:
            return c.post("/api/v1/volunteers", json=profile_body(), headers=headers).status_code

    assert sorted(concurrently(register_once, 8)) == [201] + [409] * 7
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(Volunteer)).scalar() == 1
    assert count("total", "4401") == 1
    assert_counts_exact()


def test_counters_stay_exact_under_concurrent_moves_joins_and_leaves(app, client, login, concurrently, db):
    people = [register(client, login, grid=GRID_A1 if i % 2 else GRID_B)[1] for i in range(12)]
    newcomers = [login("resident")[1] for _ in range(6)]
    grids = (GRID_A1, GRID_B, GRID_OTHER_STREET)

    def act(i):
        with app.test_client() as c:
            if i < 12 and i % 3 == 0:
                return c.delete("/api/v1/volunteers/me", headers=people[i]).status_code
            if i < 12:
                return c.patch("/api/v1/volunteers/me", json={"grid": grids[i % 3], "trade": "it"},
                               headers=people[i]).status_code
            return c.post("/api/v1/volunteers", json=profile_body(grid=grids[i % 3]),
                          headers=newcomers[i - 12]).status_code

    statuses = concurrently(act, 18)
    assert statuses.count(204) == 4 and statuses.count(200) == 8 and statuses.count(201) == 6
    _db.session.expire_all()
    assert count("total", "4401") == 12 + 6 - 4
    assert_counts_exact()


def test_concurrent_imports_of_the_same_people(app, concurrently, db, tmp_path):
    import io

    from app.volunteers import importer

    rows = "\n".join(f"1380000{n:04d},陈{'一二三'[n % 3]},{GRID_A1 if n % 2 else GRID_B},快递物流,跑步,巡防员"
                     for n in range(300))
    content = ("手机号,姓名,网格,行业,兴趣,服务岗位\n" + rows).encode()

    def load(_i):
        report = importer.import_stream(io.BytesIO(content), batch_size=100)
        assert report.rejected == 0
        return report.inserted

    inserted = concurrently(load, 3)
    assert sum(inserted) == 300
    _db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(Volunteer)).scalar() == 300
    assert count("total", WUSHAN) == 300
    assert_counts_exact()


def test_joining_a_locality_group_while_moving_away(app, client, login, concurrently, db):
    group = _group(client, login, name="华林一格", kind="locality", area=GRID_A1, trade=None)
    people = [register(client, login, grid=GRID_A1) for _ in range(6)]

    def act(i):
        _, headers, _ = people[i // 2]
        with app.test_client() as c:
            if i % 2:
                return c.patch("/api/v1/volunteers/me", json={"grid": GRID_B}, headers=headers).status_code
            return c.post(f"/api/v1/groups/{group['id']}/members", json={}, headers=headers).status_code

    statuses = concurrently(act, 12)
    assert all(s in (200, 201, 409) for s in statuses), statuses
    _db.session.expire_all()
    rows = db.session.execute(select(func.count()).select_from(GroupMember)).scalar()
    assert rows == 0  # everyone ended up in 荷塘: joined first and moved (membership ended), or refused
    assert db.session.get(Group, int(group["id"])).member_count == 0
