"""Managers ask volunteers into groups: an invitation the volunteer accepts or declines, never a membership made for
them, and only for volunteers living inside the group's area."""
import pytest
from sqlalchemy import func, select

from app.invitations.models import Invitation
from tests.invitation_helpers import accept_latest, pending
from tests.volunteer_helpers import (
    GRID_A1,
    GRID_A2,
    GRID_OTHER_DISTRICT,
    WUSHAN,
    make_group,
    member_count,
    members_of,
    register,
)


@pytest.fixture
def organiser(login):
    return login("organiser", WUSHAN)[1]


def _invite(client, group, volunteer, headers):
    return client.post(f"/api/v1/groups/{group['id']}/members", json={"volunteer_id": volunteer["id"]},
                       headers=headers)


def _invitations(db):
    db.session.expire_all()
    return db.session.execute(select(Invitation)).scalars().all()


def test_an_invited_volunteer_joins_only_on_accepting(client, organiser, login, db):
    group = make_group(client, organiser)
    _, headers, me = register(client, login)
    r = _invite(client, group, me, organiser)
    assert r.status_code == 202 and r.get_json() == {"message": "已发送邀请"}
    assert members_of(db, group["id"]) == set() and member_count(db, group["id"]) == 0
    listed = client.get(f"/api/v1/groups/{group['id']}/members", headers=organiser).get_json()
    assert listed["items"] == []  # the manager reads nothing of an invitee
    notes = client.get("/api/v1/me/notifications", headers=headers).get_json()["items"]
    assert [n["kind"] for n in notes] == ["invitation"] and group["name"] in notes[0]["body"]
    invitation = pending(client, headers)[0]
    assert (invitation["kind"], invitation["target_id"], invitation["target_name"]) == \
        ("group", group["id"], group["name"])
    assert accept_latest(client, headers, "group")["status"] == "accepted"
    assert members_of(db, group["id"]) == {(int(me["id"]), "active", "member")}
    assert member_count(db, group["id"]) == 1
    assert pending(client, headers) == []
    r = _invite(client, group, me, organiser)  # a member already: their membership, no new invitation
    assert r.status_code == 200 and r.get_json()["status"] == "active"
    assert [i.status for i in _invitations(db)] == ["accepted"]


def test_a_declined_invitation_changes_nothing_and_may_be_sent_again(client, organiser, login, db):
    group = make_group(client, organiser)
    _, headers, me = register(client, login)
    assert _invite(client, group, me, organiser).status_code == 202
    invitation = pending(client, headers)[0]
    r = client.post(f"/api/v1/me/invitations/{invitation['id']}/decline", headers=headers)
    assert r.status_code == 200 and r.get_json()["status"] == "declined"
    assert members_of(db, group["id"]) == set()
    declined = client.get("/api/v1/me/invitations?status=declined", headers=headers).get_json()["items"]
    assert [i["id"] for i in declined] == [invitation["id"]]
    assert _invite(client, group, me, organiser).status_code == 202
    assert [i["id"] for i in pending(client, headers)] == [invitation["id"]]
    assert client.get("/api/v1/me/invitations?status=nope", headers=headers).status_code == 422


def test_managers_invite_only_volunteers_living_inside_the_groups_area(client, organiser, login, db):
    group = make_group(client, organiser)
    _, _, outsider = register(client, login, grid=GRID_OTHER_DISTRICT)
    r = _invite(client, group, outsider, organiser)
    assert r.status_code == 403 and r.get_json()["error"] == "area_forbidden"
    assert "real_name" not in r.get_json()
    # a leader of a group reaches no further than its organiser
    _, lead_h, lead = register(client, login, grid=GRID_A1)
    assert _invite(client, group, lead, organiser).status_code == 202
    accept_latest(client, lead_h, "group")
    assert client.patch(f"/api/v1/groups/{group['id']}/members/{lead['id']}", json={"role": "leader"},
                        headers=organiser).status_code == 200
    r = _invite(client, group, outsider, lead_h)
    assert r.status_code == 403 and r.get_json()["error"] == "area_forbidden"
    assert db.session.execute(select(func.count()).select_from(Invitation)
                              .where(Invitation.status == "pending")).scalar() == 0
    assert members_of(db, group["id"]) == {(int(lead["id"]), "active", "leader")}


def test_inviting_someone_who_asked_to_join_approves_them(client, organiser, login, db):
    group = make_group(client, organiser, join_policy="approval")
    _, headers, me = register(client, login)
    assert client.post(f"/api/v1/groups/{group['id']}/members", json={}, headers=headers).status_code == 201
    r = _invite(client, group, me, organiser)
    assert r.status_code == 200 and r.get_json()["status"] == "active"
    assert members_of(db, group["id"]) == {(int(me["id"]), "active", "member")} and _invitations(db) == []


def test_accepting_rechecks_where_the_volunteer_lives(client, organiser, login, db):
    group = make_group(client, organiser, name="华林一格", kind="locality", area=GRID_A1, trade=None)
    _, headers, me = register(client, login, grid=GRID_A1)
    assert _invite(client, group, me, organiser).status_code == 202
    assert client.patch("/api/v1/volunteers/me", json={"grid": GRID_A2}, headers=headers).status_code == 200
    invitation = pending(client, headers)[0]
    r = client.post(f"/api/v1/me/invitations/{invitation['id']}/accept", headers=headers)
    assert r.status_code == 409 and r.get_json()["error"] == "group_out_of_area"
    assert members_of(db, group["id"]) == set() and [i.status for i in _invitations(db)] == ["pending"]
