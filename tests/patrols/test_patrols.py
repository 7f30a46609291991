"""Scheduling, reading, listing, changing and cancelling patrols; who may do each."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.patrols.models import Notification, Patrol, Signup
from tests import factories
from tests.patrols.helpers import COMMUNITY, FAR_GRID, GRID, MEETING, NOW, STREET, iso, patrol_row


def _body(group_id, starts=NOW + timedelta(hours=1), **over):
    return {"group_id": str(group_id), "area": COMMUNITY, "title": "夜间巡逻", "starts_at": iso(starts),
            "ends_at": iso(starts + timedelta(hours=2)), "meeting_point": MEETING, "capacity": 3, **over}


def _count(db):
    return db.session.execute(select(func.count()).select_from(Patrol)).scalar()


def test_organiser_schedules_a_patrol(client, db, organiser, group):
    r = client.post("/api/v1/patrols", json=_body(group.id, radius_m=300, points_per_hour=12,
                                                  description="沿五山路巡查"), headers=organiser[1])
    assert r.status_code == 201
    body = r.get_json()
    assert body["area"] == COMMUNITY and body["area_name"] and body["group_id"] == str(group.id)
    assert body["radius_m"] == 300 and body["capacity"] == 3 and body["seats_left"] == 3 and body["signed_up"] == 0
    assert body["status"] == "scheduled" and body["meeting_point"] == MEETING and body["points_per_hour"] == 12
    row = patrol_row(body["id"])
    assert (row.created_by == organiser[0].id and row.active_count == 0
            and row.ends_at - row.starts_at == timedelta(hours=2))


def test_defaults_radius_and_points(client, organiser, group):
    body = client.post("/api/v1/patrols", json=_body(group.id), headers=organiser[1]).get_json()
    assert body["radius_m"] == 200 and body["points_per_hour"] == 10


def test_leader_schedules_for_their_group(client, leader, group):
    r = client.post("/api/v1/patrols", json=_body(group.id, area=GRID), headers=leader[1])
    assert r.status_code == 201 and r.get_json()["area"] == GRID


def test_member_who_does_not_lead_cannot_schedule(client, db, volunteer, group):
    _, headers, _ = volunteer()
    r = client.post("/api/v1/patrols", json=_body(group.id), headers=headers)
    assert r.status_code == 403 and r.get_json()["error"] == "patrol_forbidden"
    assert _count(db) == 0


def test_organiser_of_another_street_cannot_schedule(client, db, login, group):
    _, headers = login("organiser", "440106002")
    r = client.post("/api/v1/patrols", json=_body(group.id), headers=headers)
    assert r.status_code == 403 and r.get_json()["error"] == "patrol_forbidden"
    assert _count(db) == 0


def test_resident_gets_role_forbidden(client, resident, group):
    r = client.post("/api/v1/patrols", json=_body(group.id), headers=resident[1])
    assert r.status_code == 403 and r.get_json()["error"] == "role_forbidden"


@pytest.mark.parametrize("over, status, error", [
    ({"ends_at": iso(NOW + timedelta(hours=1))}, 422, "patrol_times_invalid"),  # ends at its start
    ({"ends_at": iso(NOW + timedelta(hours=13, minutes=1))}, 422, "patrol_times_invalid"),  # longer than 12 h
    ({"starts": NOW - timedelta(hours=3)}, 422, "patrol_in_past"),
    ({"area": STREET}, 422, "validation_failed"),  # a street: communities and grids only
    ({"area": "440106001999"}, 404, "area_not_found"),
    ({"area": FAR_GRID[:12]}, 422, "patrol_area_outside_group"),
    ({"group_id": "123456789"}, 404, "group_not_found"),
    ({"radius_m": 20}, 422, "validation_failed"),
    ({"capacity": 501}, 422, "validation_failed"),
    ({"starts_at": "2026-11-30T10:00:00"}, 422, "validation_failed"),  # no time zone
])
def test_invalid_patrols_are_refused(client, db, organiser, group, over, status, error):
    body = _body(over.pop("group_id", group.id), **over)
    r = client.post("/api/v1/patrols", json=body, headers=organiser[1])
    assert r.status_code == status and r.get_json()["error"] == error
    assert _count(db) == 0


def test_get_shows_my_signup_and_the_line(client, new_patrol, volunteer):
    patrol = new_patrol(capacity=1)
    first, second = volunteer(), volunteer()
    client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=first[1])
    client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=second[1])
    mine = client.get(f"/api/v1/patrols/{patrol['id']}", headers=second[1]).get_json()
    assert mine["my_signup"]["status"] == "waitlisted" and mine["my_signup"]["waitlist_position"] == 1
    assert mine["signed_up"] == 1 and mine["seats_left"] == 0 and mine["waitlisted"] == 1
    outsider = volunteer(FAR_GRID)
    assert client.get(f"/api/v1/patrols/{patrol['id']}", headers=outsider[1]).get_json()["my_signup"] is None
    assert client.get("/api/v1/patrols/987654321", headers=first[1]).status_code == 404


def test_list_filters_and_pages(client, new_patrol, organiser, volunteer, login):
    ids = [new_patrol(starts_at=NOW + timedelta(hours=h))["id"] for h in (1, 3, 5)]
    other = factories.community_group(FAR_GRID)
    far = new_patrol(headers=login("organiser", FAR_GRID[:6])[1], group_id=other.id, area=FAR_GRID[:12],
                     starts_at=NOW + timedelta(hours=6))
    _, headers, _ = volunteer()
    first = client.get("/api/v1/patrols?limit=2", headers=headers).get_json()
    second = client.get(f"/api/v1/patrols?limit=2&cursor={first['next_cursor']}", headers=headers).get_json()
    assert [p["id"] for p in first["items"] + second["items"]] == ids + [far["id"]]
    assert second["next_cursor"] is None
    assert [p["id"] for p in client.get(f"/api/v1/patrols?area={STREET}", headers=headers).get_json()["items"]] == ids
    assert [p["id"] for p in client.get(f"/api/v1/patrols?group={other.id}", headers=headers).get_json()["items"]] \
        == [far["id"]]
    window = client.get("/api/v1/patrols", query_string={"from": iso(NOW + timedelta(hours=3, minutes=30)),
                                                         "to": iso(NOW + timedelta(hours=5, minutes=30)),
                                                         "area": STREET}, headers=headers).get_json()
    assert [p["id"] for p in window["items"]] == ids[1:]
    assert client.get("/api/v1/patrols?cursor=abc", headers=headers).get_json()["error"] == "cursor_invalid"


def test_open_filter_hides_cancelled_and_ended(client, new_patrol, organiser, volunteer, clock):
    keep, cancelled = new_patrol(), new_patrol(starts_at=NOW + timedelta(hours=4))
    ended = new_patrol(starts_at=NOW, ends_at=NOW + timedelta(minutes=30))
    client.post(f"/api/v1/patrols/{cancelled['id']}/cancel", json={}, headers=organiser[1])
    clock.advance(minutes=45)
    _, headers, _ = volunteer()
    items = client.get("/api/v1/patrols?open=true", headers=headers).get_json()["items"]
    assert [p["id"] for p in items] == [keep["id"]]
    assert len(client.get("/api/v1/patrols", headers=headers).get_json()["items"]) == 3
    assert ended["id"] not in [p["id"] for p in items]


def test_patch_changes_fields(client, new_patrol, organiser):
    patrol = new_patrol()
    r = client.patch(f"/api/v1/patrols/{patrol['id']}", json={"title": "改名", "radius_m": 500,
                                                              "meeting_point": {"lat": 23.13, "lng": 113.35}},
                     headers=organiser[1])
    assert r.status_code == 200 and r.get_json()["title"] == "改名"
    row = patrol_row(patrol["id"])
    assert (row.title, row.radius_m, row.meeting_lat, row.meeting_lng) == ("改名", 500, 23.13, 113.35)


def test_patch_times_only_while_nobody_signed_up(client, new_patrol, organiser, volunteer):
    patrol = new_patrol()
    later = {"starts_at": iso(NOW + timedelta(hours=2)), "ends_at": iso(NOW + timedelta(hours=3))}
    assert client.patch(f"/api/v1/patrols/{patrol['id']}", json=later, headers=organiser[1]).status_code == 200
    client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=volunteer()[1])
    r = client.patch(f"/api/v1/patrols/{patrol['id']}", json={"ends_at": iso(NOW + timedelta(hours=4))},
                     headers=organiser[1])
    assert r.status_code == 409 and r.get_json()["error"] == "patrol_has_signups"
    assert patrol_row(patrol["id"]).ends_at == NOW + timedelta(hours=3)
    bad = client.patch(f"/api/v1/patrols/{patrol['id']}", json={"ends_at": iso(NOW)}, headers=organiser[1])
    assert bad.status_code == 422 and bad.get_json()["error"] == "patrol_times_invalid"


def test_capacity_cannot_drop_below_signups_and_more_seats_promote(client, db, new_patrol, organiser, volunteer):
    patrol = new_patrol(capacity=1)
    people = [volunteer() for _ in range(3)]
    for _, headers, _ in people:
        client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=headers)
    r = client.patch(f"/api/v1/patrols/{patrol['id']}", json={"capacity": 2}, headers=organiser[1])
    assert r.status_code == 200 and r.get_json()["signed_up"] == 2
    statuses = dict(db.session.execute(select(Signup.volunteer_id, Signup.status)).all())
    assert [statuses[v.id] for _, _, v in people] == ["active", "active", "waitlisted"]
    note = db.session.execute(select(Notification)).scalar_one()
    assert note.user_id == people[1][0].id and note.kind == "waitlist_promoted"
    low = client.patch(f"/api/v1/patrols/{patrol['id']}", json={"capacity": 1}, headers=organiser[1])
    assert low.status_code == 409 and low.get_json()["error"] == "capacity_below_signups"
    assert patrol_row(patrol["id"]).capacity == 2


def test_patch_and_cancel_denied_to_others(client, new_patrol, volunteer, login):
    patrol = new_patrol()
    for headers in (volunteer()[1], login("organiser", "440106002")[1]):
        r = client.patch(f"/api/v1/patrols/{patrol['id']}", json={"title": "x"}, headers=headers)
        assert r.status_code == 403 and r.get_json()["error"] == "patrol_forbidden"
        r = client.post(f"/api/v1/patrols/{patrol['id']}/cancel", json={}, headers=headers)
        assert r.status_code == 403 and r.get_json()["error"] == "patrol_forbidden"
    row = patrol_row(patrol["id"])
    assert row.title != "x" and row.status == "scheduled"


def test_leader_manages_their_group_patrol(client, new_patrol, leader):
    patrol = new_patrol()
    r = client.patch(f"/api/v1/patrols/{patrol['id']}", json={"capacity": 8}, headers=leader[1])
    assert r.status_code == 200 and patrol_row(patrol["id"]).capacity == 8


def test_cancel_tells_everyone_signed_up_or_waiting(client, db, new_patrol, organiser, volunteer):
    patrol = new_patrol(capacity=1)
    people = [volunteer() for _ in range(2)]
    for _, headers, _ in people:
        client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=headers)
    r = client.post(f"/api/v1/patrols/{patrol['id']}/cancel", json={"reason": "台风预警"}, headers=organiser[1])
    assert (r.status_code == 200 and r.get_json()["status"] == "cancelled"
            and r.get_json()["cancel_reason"] == "台风预警")
    row = patrol_row(patrol["id"])
    assert row.status == "cancelled" and row.active_count == 0 and row.cancelled_at == NOW
    assert set(db.session.execute(select(Signup.status)).scalars()) == {"cancelled"}
    notes = db.session.execute(select(Notification)).scalars().all()
    assert sorted(n.user_id for n in notes) == sorted(u.id for u, _, _ in people)
    assert all(n.kind == "patrol_cancelled" and "台风预警" in n.body for n in notes)
    again = client.post(f"/api/v1/patrols/{patrol['id']}/cancel", json={}, headers=organiser[1])
    assert again.status_code == 409 and again.get_json()["error"] == "patrol_not_open"
    edit = client.patch(f"/api/v1/patrols/{patrol['id']}", json={"title": "y"}, headers=organiser[1])
    assert edit.status_code == 409 and edit.get_json()["error"] == "patrol_not_open"
    signup = client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=volunteer()[1])
    assert signup.status_code == 409 and signup.get_json()["error"] == "patrol_not_open"
