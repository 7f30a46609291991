"""Leaderboards: every scope and period checked against the ledger summed by hand; ranks, masking, moves, leaves."""
import random
from collections import defaultdict
from datetime import date, timedelta

import pytest

from app.extensions import db
from app.patrols import points
from app.patrols.models import PointsEntry
from app.volunteers import membership
from app.volunteers import service as volunteer_service
from tests import factories
from tests.patrols.helpers import FAR_GRID, GRID, NOW, OTHER_GRID

TODAY = date(2026, 11, 30)  # NOW in Guangzhou: Monday of ISO week 49
DAYS = {"this_week": TODAY + timedelta(days=2), "last_week_same_month": TODAY - timedelta(days=3),
        "last_month": TODAY - timedelta(days=40)}
GRIDS = [GRID, OTHER_GRID, "44010600100201", "44010600200101", FAR_GRID]


def _board(client, headers, **query):
    r = client.get("/api/v1/leaderboards", query_string=query, headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _add(v, pts: int, day: date, group_id=None) -> None:
    points.append([PointsEntry(volunteer_id=v.id, kind="hours" if group_id else "grant", points=pts, hours_tenths=0,
                               reason="测试", earned_on=day, created_at=NOW, group_id=group_id)])
    db.session.commit()


@pytest.fixture
def city(volunteer):
    """30 volunteers over five grids (two communities, two streets, two districts) with random ledgers."""
    rng = random.Random(6)
    people, ledger = [], []
    for i in range(30):
        person = volunteer(GRIDS[i % len(GRIDS)])
        people.append(person)
        for _ in range(rng.randint(0, 3)):
            day = rng.choice(list(DAYS.values()))
            pts = rng.choice([5, 10, 10, 15, 20, 30])
            _add(person[2], pts, day)
            ledger.append((person[2], pts, day))
    return people, ledger


def _expected(ledger, period, member):
    totals = defaultdict(int)
    for v, pts, day in ledger:
        if member(v) and (period == "all" or (period == "week" and day.isocalendar()[1] == 49)
                          or (period == "month" and day.month == 11)):
            totals[v.id] += pts
    return totals


@pytest.mark.parametrize("scope, code", [("grid", GRID), ("community", GRID[:12]), ("street", GRID[:9]),
                                         ("district", GRID[:6]), ("district", FAR_GRID[:6])])
@pytest.mark.parametrize("period", ["week", "month", "all"])
def test_boards_match_the_ledger(client, city, scope, code, period):
    people, ledger = city
    totals = _expected(ledger, period, lambda v: v.grid_code.startswith(code))
    caller = next(p for p in people if p[2].grid_code.startswith(code))
    board = _board(client, caller[1], scope=scope, id=code, period=period, limit=100)
    positive = sorted((pts for pts in totals.values() if pts > 0), reverse=True)
    assert [i["points"] for i in board["items"]] == positive
    for item in board["items"]:
        assert item["rank"] == 1 + sum(1 for pts in positive if pts > item["points"])
        assert "*" in item["name"]
    mine = totals.get(caller[2].id, 0)
    assert board["me"]["points"] == mine
    assert board["me"]["rank"] == (1 + sum(1 for pts in positive if pts > mine) if mine > 0 else None)
    assert [i["is_me"] for i in board["items"]].count(True) == (1 if mine > 0 else 0)
    assert board["period_key"] == {"week": "2026-W49", "month": "2026-11", "all": "all"}[period]


def test_top_n_and_default_area(client, city):
    people, ledger = city
    caller = people[0]  # lives in GRID
    board = _board(client, caller[1], scope="street", limit=3)
    assert board["id"] == GRID[:9] and board["name"] and len(board["items"]) <= 3
    totals = _expected(ledger, "week", lambda v: v.grid_code.startswith(GRID[:9]))
    assert [i["points"] for i in board["items"]] == sorted((p for p in totals.values() if p > 0), reverse=True)[:3]


def test_group_boards_count_points_earned_on_the_groups_patrols(client, city, organiser):
    people, ledger = city  # points without a group: on area boards only
    group, other = factories.trade_group(organiser[0]), factories.community_group(GRID)
    rng, earned = random.Random(7), defaultdict(int)
    for user, _, v in people[:10]:
        membership.join(actor=user, group_id=group.id)
    for _, _, v in people[:12]:  # two of them are no longer members: what they earned there still counts
        pts = rng.choice([0, 5, 10, 20])
        if pts:
            _add(v, pts, TODAY, group_id=group.id)
            earned[v.id] += pts
        _add(v, 7, TODAY, group_id=other.id)
    board = _board(client, people[0][1], scope="group", id=str(group.id), period="week", limit=100)
    assert board["name"] == group.name and board["id"] == str(group.id)
    assert [i["points"] for i in board["items"]] == sorted(earned.values(), reverse=True)
    for who in people[:3]:
        mine = earned.get(who[2].id, 0)
        me = _board(client, who[1], scope="group", id=str(group.id), period="week")["me"]
        assert me["points"] == mine
        assert me["rank"] == (1 + sum(1 for p in earned.values() if p > mine) if mine > 0 else None)
    last_month = _board(client, people[0][1], scope="group", id=str(group.id), period="all", limit=100)
    assert [i["points"] for i in last_month["items"]] == sorted(earned.values(), reverse=True)
    assert _board(client, people[20][1], scope="group", id=str(group.id), period="all")["me"] is None
    community = _board(client, people[0][1], scope="group", id=str(other.id), period="week", limit=100)
    assert [i["points"] for i in community["items"]] == [7] * 12


def test_me_without_points_and_outside(client, volunteer, organiser):
    _, headers, v = volunteer()
    _, _, rich = volunteer()
    _add(rich, 10, TODAY)
    board = _board(client, headers, scope="grid")
    assert board["me"] == {"rank": None, "points": 0, "hours": 0.0} and len(board["items"]) == 1
    assert _board(client, headers, scope="district", id=FAR_GRID[:6])["me"] is None
    staff = _board(client, organiser[1], scope="street", id=GRID[:9])
    assert staff["me"] is None and staff["items"][0]["points"] == 10 and staff["items"][0]["is_me"] is False


@pytest.mark.parametrize("query, status, error", [
    ({"scope": "street", "id": GRID[:6]}, 422, "leaderboard_id_invalid"),
    ({"scope": "group"}, 422, "leaderboard_id_invalid"),
    ({"scope": "group", "id": "987654321"}, 404, "group_not_found"),
    ({"scope": "grid", "id": "44010600100199"}, 404, "area_not_found"),
    ({"scope": "city"}, 422, "validation_failed"),
    ({"scope": "grid", "period": "year"}, 422, "validation_failed"),
])
def test_board_errors(client, volunteer, query, status, error):
    r = client.get("/api/v1/leaderboards", query_string=query, headers=volunteer()[1])
    assert r.status_code == status and r.get_json()["error"] == error


def test_organiser_without_profile_must_name_the_area(client, organiser):
    r = client.get("/api/v1/leaderboards?scope=street", headers=organiser[1])
    assert r.status_code == 422 and r.get_json()["error"] == "leaderboard_id_invalid"


def test_moving_takes_the_points_along(client, volunteer):
    user, headers, v = volunteer(GRID)
    _add(v, 25, TODAY)
    volunteer_service.update(user=user, data={"grid": FAR_GRID})
    old = _board(client, headers, scope="district", id=GRID[:6], period="all")
    new = _board(client, headers, scope="district", id=FAR_GRID[:6], period="all")
    assert old["items"] == [] and [i["points"] for i in new["items"]] == [25] and new["me"]["rank"] == 1


def test_leaving_drops_off_the_boards_but_keeps_the_ledger(client, volunteer, group):
    user, _, v = volunteer(GRID)
    _, headers, _ = volunteer(GRID)
    _add(v, 25, TODAY, group_id=group.id)
    assert client.delete("/api/v1/volunteers/me", headers=factories.auth_headers(user)).status_code == 204
    assert _board(client, headers, scope="grid", period="all")["items"] == []
    assert _board(client, headers, scope="group", id=str(group.id), period="all")["items"] == []
    assert db.session.get(type(v), v.id).left_at is not None
    assert sum(e.points for e in db.session.query(PointsEntry).filter_by(volunteer_id=v.id)) == 25
