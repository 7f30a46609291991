"""Sign-ups: seats, the waitlist, withdrawal and promotion, schedule conflicts, the roster, and the races."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.patrols import signups
from app.patrols.models import Notification, Signup
from app.volunteers import membership
from tests import factories
from tests.patrols.helpers import FAR_GRID, NOW, patrol_row


def _signup(client, patrol, headers):
    return client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=headers)


def _rows(patrol):
    db.session.expire_all()
    return db.session.execute(select(Signup).where(Signup.patrol_id == int(patrol["id"]))
                              .order_by(Signup.created_at)).scalars().all()


def test_seats_then_waitlist_in_order(client, new_patrol, volunteer):
    patrol = new_patrol(capacity=2)
    people = [volunteer() for _ in range(4)]
    answers = [_signup(client, patrol, h) for _, h, _ in people]
    assert [r.status_code for r in answers] == [201] * 4
    bodies = [r.get_json() for r in answers]
    assert [b["status"] for b in bodies] == ["active", "active", "waitlisted", "waitlisted"]
    assert [b["waitlist_position"] for b in bodies] == [None, None, 1, 2]
    assert patrol_row(patrol["id"]).active_count == 2
    rows = {s.volunteer_id: s for s in _rows(patrol)}
    assert [rows[v.id].status for _, _, v in people] == ["active", "active", "waitlisted", "waitlisted"]
    assert rows[people[0][2].id].user_id == people[0][0].id


def test_signing_up_again_returns_the_same_signup(client, new_patrol, volunteer):
    patrol = new_patrol()
    _, headers, _ = volunteer()
    first = _signup(client, patrol, headers)
    again = _signup(client, patrol, headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert len(_rows(patrol)) == 1 and patrol_row(patrol["id"]).active_count == 1


def test_only_group_members_sign_up(client, new_patrol, volunteer, organiser):
    patrol = new_patrol()
    r = _signup(client, patrol, volunteer(FAR_GRID)[1])
    assert r.status_code == 403 and r.get_json()["error"] == "not_group_member"
    assert _rows(patrol) == [] and patrol_row(patrol["id"]).active_count == 0


def test_trade_group_patrol_needs_membership(client, new_patrol, volunteer, organiser):
    group = factories.trade_group(organiser[0])
    patrol = new_patrol(group_id=group.id)
    user, headers, v = volunteer()
    assert _signup(client, patrol, headers).get_json()["error"] == "not_group_member"
    membership.join(actor=user, group_id=group.id)
    assert _signup(client, patrol, headers).status_code == 201


def test_non_volunteer_and_missing_patrol(client, new_patrol, login, volunteer):
    patrol = new_patrol()
    resident = login("resident")[1]
    assert _signup(client, patrol, resident).status_code == 403
    # a volunteer role without a profile (revoked data): not found, nothing written
    user, headers = login("volunteer")
    r = _signup(client, patrol, headers)
    assert r.status_code == 404 and r.get_json()["error"] == "volunteer_not_found"
    assert client.post("/api/v1/patrols/987654321/signups", headers=volunteer()[1]).status_code == 404
    assert _rows(patrol) == []


def test_schedule_conflict(client, new_patrol, volunteer):
    first = new_patrol(starts_at=NOW + timedelta(hours=1))
    overlapping = new_patrol(starts_at=NOW + timedelta(hours=2))
    after = new_patrol(starts_at=NOW + timedelta(hours=3))  # starts when the first ends
    _, headers, v = volunteer()
    assert _signup(client, first, headers).status_code == 201
    r = _signup(client, overlapping, headers)
    assert r.status_code == 409 and r.get_json()["error"] == "schedule_conflict"
    assert r.get_json()["conflicting_patrol_id"] == first["id"]
    assert _rows(overlapping) == [] and patrol_row(overlapping["id"]).active_count == 0
    assert _signup(client, after, headers).status_code == 201


def test_waitlisted_place_also_blocks_overlap(client, new_patrol, volunteer):
    full = new_patrol(capacity=1)
    other = new_patrol(starts_at=NOW + timedelta(hours=2))
    _signup(client, full, volunteer()[1])
    _, headers, _ = volunteer()
    assert _signup(client, full, headers).get_json()["status"] == "waitlisted"
    assert _signup(client, other, headers).get_json()["error"] == "schedule_conflict"


def test_withdraw_promotes_the_first_waiting_and_notifies(client, new_patrol, volunteer):
    patrol = new_patrol(capacity=1)
    people = [volunteer() for _ in range(3)]
    for _, h, _ in people:
        _signup(client, patrol, h)
    r = client.delete(f"/api/v1/patrols/{patrol['id']}/signups/me", headers=people[0][1])
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    rows = {s.volunteer_id: s.status for s in _rows(patrol)}
    assert [rows[v.id] for _, _, v in people] == ["cancelled", "active", "waitlisted"]
    assert patrol_row(patrol["id"]).active_count == 1
    notes = db.session.execute(select(Notification)).scalars().all()
    assert [(n.user_id, n.kind) for n in notes] == [(people[1][0].id, "waitlist_promoted")]
    third = client.get(f"/api/v1/patrols/{patrol['id']}", headers=people[2][1]).get_json()["my_signup"]
    assert third["waitlist_position"] == 1
    mine = client.get("/api/v1/me/notifications", headers=people[1][1]).get_json()
    assert mine["unread"] == 1 and mine["items"][0]["kind"] == "waitlist_promoted"
    assert mine["items"][0]["patrol_id"] == patrol["id"] and "有了空位" in mine["items"][0]["body"]


def test_withdraw_frees_the_seat_when_nobody_waits(client, new_patrol, volunteer):
    patrol = new_patrol(capacity=2)
    _, headers, _ = volunteer()
    _signup(client, patrol, headers)
    assert client.delete(f"/api/v1/patrols/{patrol['id']}/signups/me", headers=headers).status_code == 200
    assert patrol_row(patrol["id"]).active_count == 0
    assert db.session.execute(select(func.count()).select_from(Notification)).scalar() == 0
    again = _signup(client, patrol, headers)  # the cancelled row comes back to life
    assert again.status_code == 201 and again.get_json()["status"] == "active" and len(_rows(patrol)) == 1


def test_withdraw_from_the_waitlist_keeps_seats(client, new_patrol, volunteer):
    patrol = new_patrol(capacity=1)
    _signup(client, patrol, volunteer()[1])
    _, headers, _ = volunteer()
    _signup(client, patrol, headers)
    assert client.delete(f"/api/v1/patrols/{patrol['id']}/signups/me", headers=headers).status_code == 200
    assert patrol_row(patrol["id"]).active_count == 1
    assert sorted(s.status for s in _rows(patrol)) == ["active", "cancelled"]


def test_withdraw_errors(client, new_patrol, volunteer, clock):
    patrol = new_patrol()
    _, headers, _ = volunteer()
    r = client.delete(f"/api/v1/patrols/{patrol['id']}/signups/me", headers=headers)
    assert r.status_code == 404 and r.get_json()["error"] == "signup_not_found"
    _signup(client, patrol, headers)
    clock.advance(hours=1)  # the patrol starts
    r = client.delete(f"/api/v1/patrols/{patrol['id']}/signups/me", headers=headers)
    assert r.status_code == 409 and r.get_json()["error"] == "patrol_started"
    assert _rows(patrol)[0].status == "active" and patrol_row(patrol["id"]).active_count == 1


def test_signup_closes_when_the_patrol_ends(client, new_patrol, volunteer, clock):
    patrol = new_patrol()
    clock.advance(hours=3)
    r = _signup(client, patrol, volunteer()[1])
    assert r.status_code == 409 and r.get_json()["error"] == "patrol_ended"


def test_roster_for_managers_only(client, new_patrol, volunteer, organiser, leader, clock):
    patrol = new_patrol(capacity=1)
    people = [volunteer(name=n) for n in ("陈大文", "李小明")]
    for _, h, _ in people:
        _signup(client, patrol, h)
        clock.advance(seconds=1)
    for headers in (organiser[1], leader[1]):
        r = client.get(f"/api/v1/patrols/{patrol['id']}/signups", headers=headers)
        assert r.status_code == 200
        assert [(i["name"], i["status"]) for i in r.get_json()["items"]] == [("陈*文", "active"),
                                                                            ("李*明", "waitlisted")]
    waiting = client.get(f"/api/v1/patrols/{patrol['id']}/signups?status=waitlisted", headers=organiser[1]).get_json()
    assert [i["volunteer_id"] for i in waiting["items"]] == [str(people[1][2].id)]
    page = client.get(f"/api/v1/patrols/{patrol['id']}/signups?limit=1", headers=organiser[1]).get_json()
    rest = client.get(f"/api/v1/patrols/{patrol['id']}/signups?limit=1&cursor={page['next_cursor']}",
                      headers=organiser[1]).get_json()
    assert [i["name"] for i in page["items"] + rest["items"]] == ["陈*文", "李*明"]
    r = client.get(f"/api/v1/patrols/{patrol['id']}/signups", headers=people[0][1])
    assert r.status_code == 403 and r.get_json()["error"] == "patrol_forbidden"


def test_leaving_the_force_ends_upcoming_signups(client, new_patrol, volunteer):
    patrol = new_patrol(capacity=1)
    leaving, waiting = volunteer(), volunteer()
    _signup(client, patrol, leaving[1])
    _signup(client, patrol, waiting[1])
    r = client.delete("/api/v1/volunteers/me", headers=factories.auth_headers(leaving[0]))
    assert r.status_code == 204
    rows = {s.volunteer_id: s.status for s in _rows(patrol)}
    assert rows == {leaving[2].id: "cancelled", waiting[2].id: "active"}
    assert patrol_row(patrol["id"]).active_count == 1
    note = db.session.execute(select(Notification)).scalar_one()
    assert note.user_id == waiting[0].id and note.kind == "waitlist_promoted"


@pytest.mark.postgres
def test_fifty_concurrent_signups_for_five_seats(app, new_patrol, volunteer, concurrently):
    patrol = new_patrol(capacity=5)
    people = [volunteer() for _ in range(50)]

    def sign(i):
        user = db.session.get(type(people[i][0]), people[i][0].id)
        signup, created = signups.sign_up(user=user, patrol_id=int(patrol["id"]))
        return signup.status, signup.position, created

    results = concurrently(sign, 50)
    assert sorted(r[0] for r in results).count("active") == 5
    assert sorted(r[1] for r in results if r[0] == "waitlisted") == list(range(1, 46))
    row = patrol_row(patrol["id"])
    assert row.active_count == 5 and row.waitlist_seq == 45
    statuses = [s.status for s in _rows(patrol)]
    assert statuses.count("active") == 5 and statuses.count("waitlisted") == 45


@pytest.mark.postgres
def test_concurrent_withdrawals_and_signups_never_leave_a_free_seat_while_people_wait(
        app, new_patrol, volunteer, concurrently):
    patrol = new_patrol(capacity=5)
    holders = [volunteer() for _ in range(5)]
    for user, _, _ in holders:
        signups.sign_up(user=user, patrol_id=int(patrol["id"]))
    newcomers = [volunteer() for _ in range(10)]

    def act(i):
        if i < 5:
            user = db.session.get(type(holders[i][0]), holders[i][0].id)
            return signups.withdraw(user=user, patrol_id=int(patrol["id"])).status
        user = db.session.get(type(newcomers[i - 5][0]), newcomers[i - 5][0].id)
        return signups.sign_up(user=user, patrol_id=int(patrol["id"]))[0].status

    concurrently(act, 15)
    rows = _rows(patrol)
    active = [s for s in rows if s.status == "active"]
    waiting = [s for s in rows if s.status == "waitlisted"]
    assert len(active) == 5 and patrol_row(patrol["id"]).active_count == 5
    assert len(waiting) == 5 and {s.volunteer_id for s in active} <= {v.id for _, _, v in newcomers}


@pytest.mark.postgres
def test_one_volunteer_racing_two_overlapping_patrols_gets_one(app, new_patrol, volunteer, concurrently):
    a, b = new_patrol(), new_patrol(starts_at=NOW + timedelta(hours=2))
    user, _, v = volunteer()

    def sign(i):
        try:
            return signups.sign_up(user=db.session.get(type(user), user.id),
                                   patrol_id=int((a, b)[i % 2]["id"]))[0].status
        except Exception as exc:  # noqa: BLE001 — the loser's conflict is the expected outcome
            return getattr(exc, "error", repr(exc))

    results = concurrently(sign, 6)
    assert db.session.execute(select(func.count()).select_from(Signup).where(
        Signup.volunteer_id == v.id, Signup.status != "cancelled")).scalar() == 1
    assert sorted(results) == ["active"] * 3 + ["schedule_conflict"] * 3
