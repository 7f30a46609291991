"""Patrols follow volunteers who move or leave through `volunteers.signals.volunteers_moved`, whichever path
moves them: a profile update, an admin's import, leaving the force."""
import io

from sqlalchemy import select
from sqlalchemy.orm import class_mapper

from app.auth import service as auth_service
from app.extensions import db
from app.patrols import points, volunteer_moves
from app.patrols.models import GroupPointsSummary, PointsEntry, PointsSummary, Signup
from app.volunteers import signals
from app.volunteers.models import Volunteer
from tests.patrols.helpers import FAR_GRID, GRID, NOW

IMPORT_HEADER = "手机号,姓名,网格,行业,兴趣,服务岗位\n"


def _earn(v, pts: int, group_id=None) -> None:
    points.append([PointsEntry(volunteer_id=v.id, kind="hours" if group_id else "grant", points=pts,
                               hours_tenths=0, reason="测试", earned_on=NOW.date(), created_at=NOW,
                               group_id=group_id)])
    db.session.commit()


def _homes(volunteer_id: int) -> set[tuple]:
    db.session.expire_all()
    rows = db.session.execute(select(PointsSummary).where(PointsSummary.volunteer_id == volunteer_id)).scalars()
    return {(r.district_code, r.street_code, r.community_code, r.grid_code) for r in rows}


def _home(grid: str | None) -> tuple:
    return tuple(points.area_codes(grid).values())


def test_patrols_receive_the_signal_and_listen_to_no_orm_event():
    assert volunteer_moves.follow_moves in list(signals.volunteers_moved.receivers_for(None))
    listeners = list(class_mapper(Volunteer).dispatch.after_update)
    assert [fn for fn in listeners if fn.__module__.startswith("app.patrols")] == []


def test_a_profile_update_rehomes_the_leaderboard_rows(client, volunteer):
    user, headers, v = volunteer(GRID)
    volunteer_id = v.id
    _earn(v, 25)
    assert _homes(volunteer_id) == {_home(GRID)}
    r = client.patch("/api/v1/volunteers/me", json={"grid": FAR_GRID}, headers=headers)
    assert r.status_code == 200 and r.get_json()["grid"] == FAR_GRID
    assert _homes(volunteer_id) == {_home(FAR_GRID)}
    board = client.get(f"/api/v1/leaderboards?scope=district&id={FAR_GRID[:6]}&period=all", headers=headers)
    assert [i["points"] for i in board.get_json()["items"]] == [25]


def test_an_update_that_keeps_the_grid_leaves_the_rows_alone(client, volunteer, monkeypatch):
    _, headers, v = volunteer(GRID)
    volunteer_id = v.id
    _earn(v, 5)
    sent = []
    monkeypatch.setattr(volunteer_moves.signups, "drop_future", lambda vid: sent.append(vid))
    assert client.patch("/api/v1/volunteers/me", json={"trade": "it"}, headers=headers).status_code == 200
    assert _homes(volunteer_id) == {_home(GRID)} and sent == []


def test_an_admins_import_rehomes_the_leaderboard_rows(client, volunteer, login):
    user, _, v = volunteer(GRID)
    volunteer_id = v.id
    _earn(v, 40)
    phone = auth_service.phone_of(user)
    body = f"{IMPORT_HEADER}{phone},陈一,{FAR_GRID},快递物流,,巡防员\n".encode()
    _, headers = login("admin", "4401")
    r = client.post("/api/v1/admin/volunteers/imports", data={"file": (io.BytesIO(body), "v.csv")},
                    headers=headers, content_type="multipart/form-data")
    assert r.status_code == 202, r.get_json()
    job = client.get(r.headers["Location"], headers=headers).get_json()
    assert (job["inserted"], job["updated"], job["rejected"]) == (0, 1, 0), job
    assert db.session.get(Volunteer, volunteer_id).grid_code == FAR_GRID
    assert _homes(volunteer_id) == {_home(FAR_GRID)}


def test_leaving_drops_group_rows_and_ends_upcoming_signups(client, volunteer, group, new_patrol):
    user, headers, v = volunteer(GRID)
    _, other_headers, other = volunteer(GRID)
    volunteer_id, other_id = v.id, other.id
    _earn(v, 10, group_id=group.id)
    _earn(other, 10, group_id=group.id)
    patrol = new_patrol(capacity=1)
    for who in (headers, other_headers):
        assert client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=who).status_code in (200, 201)
    assert client.delete("/api/v1/volunteers/me", headers=headers).status_code == 204
    db.session.expire_all()
    assert _homes(volunteer_id) == {_home(None)}
    boards = db.session.execute(select(GroupPointsSummary.volunteer_id)).scalars().all()
    assert set(boards) == {other_id}
    states = dict(db.session.execute(select(Signup.volunteer_id, Signup.status)).all())
    assert states == {volunteer_id: "cancelled", other_id: "active"}
