"""What certification may pay: nothing before the patrol ends, at most the recorded hours plus a tolerance unless an
organiser of the area certifies more with a reason, nothing for a far check-out until an organiser reviews it; and
who sets points per hour above the default."""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.patrols.models import Attendance, HoursCertification, Patrol, PointsEntry
from tests.patrols.helpers import NOW, near, patrol_row, token


def _attend(client, patrol, person, clock, *, minutes: int, where=None):
    client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=person[1])
    r = client.post("/api/v1/patrols/checkins", json={"token": token(patrol["id"]), **near()}, headers=person[1])
    assert r.status_code == 201, r.get_json()
    clock.advance(minutes=minutes)
    r = client.post(f"/api/v1/patrols/{patrol['id']}/checkout", json=where or near(), headers=person[1])
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _certify(client, patrol, v, headers, **body):
    return client.post(f"/api/v1/patrols/{patrol['id']}/attendances/{v.id}/certifications", json=body,
                       headers=headers)


def _paid(v) -> int:
    db.session.expire_all()
    return sum(db.session.execute(select(PointsEntry.points).where(PointsEntry.volunteer_id == v.id)).scalars())


def _attendance(v) -> Attendance:
    db.session.expire_all()
    return db.session.execute(select(Attendance).where(Attendance.volunteer_id == v.id)).scalar_one()


def test_no_certification_before_the_patrol_ends(client, new_patrol, volunteer, organiser, clock):
    patrol = new_patrol(starts_at=NOW)
    person = volunteer()
    _attend(client, patrol, person, clock, minutes=90)  # checked out half an hour before the end
    r = _certify(client, patrol, person[2], organiser[1])
    assert r.status_code == 409 and r.get_json()["error"] == "patrol_not_ended"
    r = client.post(f"/api/v1/patrols/{patrol['id']}/attendances/certify", headers=organiser[1])
    assert r.status_code == 409 and r.get_json()["error"] == "patrol_not_ended"
    assert _paid(person[2]) == 0 and _attendance(person[2]).certifications == 0
    clock.advance(minutes=30)
    assert _certify(client, patrol, person[2], organiser[1]).status_code == 201
    assert _paid(person[2]) == 15


def test_leaders_certify_at_most_the_record_plus_the_tolerance(client, new_patrol, volunteer, leader, organiser,
                                                               clock):
    patrol = new_patrol(starts_at=NOW, ends_at=NOW + timedelta(hours=4))
    person = volunteer()
    _attend(client, patrol, person, clock, minutes=60)
    clock.advance(hours=3)
    r = _certify(client, patrol, person[2], leader[1], hours=1.6, reason="帮忙收尾")
    assert r.status_code == 403 and r.get_json()["error"] == "hours_above_record"
    assert r.get_json()["max_hours"] == 1.5 and _paid(person[2]) == 0
    r = _certify(client, patrol, person[2], leader[1], hours=1.5, reason="帮忙收尾")
    assert r.status_code == 201 and r.get_json()["certified_hours"] == 1.5
    # more needs an organiser of the area, with a reason; the certification row is the audit
    r = _certify(client, patrol, person[2], organiser[1], hours=3.5)
    assert r.status_code == 422 and r.get_json()["error"] == "reason_required"
    r = _certify(client, patrol, person[2], organiser[1], hours=3.5, reason="另在社区值守两小时，有登记表")
    assert r.status_code == 201 and r.get_json()["certified_hours"] == 3.5
    db.session.expire_all()
    last = db.session.execute(select(HoursCertification).order_by(HoursCertification.seq.desc())).scalars().first()
    assert (last.hours_tenths, last.recorded_tenths, last.certified_by) == (35, 10, organiser[0].id)
    assert last.reason == "另在社区值守两小时，有登记表" and _paid(person[2]) == 35


def test_a_far_check_out_is_flagged_and_pays_nothing_until_an_organiser_reviews_it(
        client, new_patrol, volunteer, leader, organiser, clock):
    patrol = new_patrol(starts_at=NOW, ends_at=NOW + timedelta(hours=12))
    person = volunteer()
    body = _attend(client, patrol, person, clock, minutes=0, where={"lat": -23.0, "lng": -46.6})  # São Paulo
    assert body["review"] == "pending" and body["hours"] == 0.0
    clock.advance(hours=12)
    r = _certify(client, patrol, person[2], leader[1], hours=11.9, reason="全程参与")
    assert r.status_code == 403 and r.get_json()["error"] == "review_required"
    r = _certify(client, patrol, person[2], leader[1])
    assert r.status_code == 403 and r.get_json()["error"] == "review_required"
    r = client.post(f"/api/v1/patrols/{patrol['id']}/attendances/certify", headers=organiser[1])
    assert r.get_json() == {"certified": 0} and _paid(person[2]) == 0
    listed = client.get(f"/api/v1/patrols/{patrol['id']}/attendances", headers=organiser[1]).get_json()["items"]
    assert [a["review"] for a in listed] == ["pending"]
    r = _certify(client, patrol, person[2], organiser[1])
    assert r.status_code == 422 and r.get_json()["error"] == "reason_required"
    r = _certify(client, patrol, person[2], organiser[1], hours=0, reason="签退地点异常，核实未参加")
    assert r.status_code == 201 and r.get_json()["review"] == "done"
    assert _attendance(person[2]).review == "done" and _paid(person[2]) == 0


def test_a_check_out_near_the_fence_is_not_flagged(client, new_patrol, volunteer, organiser, clock):
    patrol = new_patrol(starts_at=NOW)
    person = volunteer()
    assert _attend(client, patrol, person, clock, minutes=60, where=near(900))["review"] is None
    clock.advance(hours=1)
    assert client.post(f"/api/v1/patrols/{patrol['id']}/attendances/certify",
                       headers=organiser[1]).get_json() == {"certified": 1}


def test_points_per_hour_above_the_default_only_by_staff(client, app, leader, organiser, group):
    body = {"group_id": str(group.id), "area": group.auto_area, "title": "夜巡", "meeting_point": near(),
            "starts_at": (NOW + timedelta(hours=1)).isoformat(), "ends_at": (NOW + timedelta(hours=3)).isoformat(),
            "capacity": 5}
    r = client.post("/api/v1/patrols", headers=leader[1], json={**body, "points_per_hour": 100})
    assert r.status_code == 403 and r.get_json()["error"] == "points_per_hour_forbidden"
    assert r.get_json()["default"] == app.config["PATROL_POINTS_PER_HOUR_DEFAULT"] == 10
    assert db.session.execute(select(Patrol)).first() is None
    r = client.post("/api/v1/patrols", headers=leader[1], json=body)
    assert r.status_code == 201 and r.get_json()["points_per_hour"] == 10
    patrol = r.get_json()
    r = client.patch(f"/api/v1/patrols/{patrol['id']}", json={"points_per_hour": 11}, headers=leader[1])
    assert r.status_code == 403 and patrol_row(patrol["id"]).points_per_hour == 10
    assert client.patch(f"/api/v1/patrols/{patrol['id']}", json={"points_per_hour": 5},
                        headers=leader[1]).status_code == 200
    r = client.patch(f"/api/v1/patrols/{patrol['id']}", json={"points_per_hour": 30}, headers=organiser[1])
    assert r.status_code == 200 and patrol_row(patrol["id"]).points_per_hour == 30
