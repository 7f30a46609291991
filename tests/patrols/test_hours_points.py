"""Certified hours (谁记录谁证明), the append-only points ledger, grants, and the volunteer's service record."""
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.patrols import points
from app.patrols.models import Attendance, GroupPointsSummary, HoursCertification, PointsEntry, PointsSummary
from tests.patrols.helpers import FAR_GRID, NOW, near, token


@pytest.fixture
def attended(client, new_patrol, volunteer, clock):
    """A 2-hour patrol at 10 points an hour attended for 1.5 h, ended: (patrol, (user, headers, Volunteer))."""
    patrol = new_patrol(starts_at=NOW, points_per_hour=10)
    person = volunteer()
    client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=person[1])
    client.post("/api/v1/patrols/checkins", json={"token": token(patrol["id"]), **near()}, headers=person[1])
    clock.advance(minutes=90)
    client.post(f"/api/v1/patrols/{patrol['id']}/checkout", json=near(), headers=person[1])
    clock.advance(minutes=30)
    return patrol, person


def _certify(client, patrol, v, headers, **body):
    return client.post(f"/api/v1/patrols/{patrol['id']}/attendances/{v.id}/certifications", json=body,
                       headers=headers)


def _ledger(v):
    db.session.expire_all()
    return db.session.execute(select(PointsEntry).where(PointsEntry.volunteer_id == v.id)
                              .order_by(PointsEntry.created_at, PointsEntry.kind)).scalars().all()


def _summary(v, period="all"):
    db.session.expire_all()
    return db.session.get(PointsSummary, (period, v.id))


def _group_summary(patrol, v, period="all"):
    db.session.expire_all()
    return db.session.get(GroupPointsSummary, (period, int(patrol["group_id"]), v.id))


def test_confirming_recorded_hours_earns_points(client, attended, organiser):
    patrol, (_, _, v) = attended
    r = _certify(client, patrol, v, organiser[1])
    assert r.status_code == 201
    body = r.get_json()
    assert body["certified_hours"] == 1.5 and body["recorded_hours"] == 1.5 and body["certifications"] == 1
    assert body["certification"]["seq"] == 1 and body["certification"]["reason"] is None
    [entry] = _ledger(v)
    assert (entry.kind, entry.points, entry.hours_tenths, entry.patrol_id) == ("hours", 15, 15, int(patrol["id"]))
    assert entry.earned_on == date(2026, 11, 30) and entry.created_by == organiser[0].id
    assert (_summary(v).points, _summary(v).hours_tenths) == (15, 15)
    assert _summary(v, "w202649").points == 15 and _summary(v, "m202611").points == 15
    assert _summary(v).community_code == v.grid_code[:12]
    assert entry.group_id == int(patrol["group_id"]) and _group_summary(patrol, v).points == 15


def test_correction_is_a_new_entry_with_a_reversal(client, attended, organiser, leader):
    patrol, (_, _, v) = attended
    _certify(client, patrol, v, organiser[1])
    r = _certify(client, patrol, v, leader[1], hours=1.2, reason="中途离开 20 分钟")
    assert r.status_code == 201 and r.get_json()["certified_hours"] == 1.2 and r.get_json()["certifications"] == 2
    certifications = db.session.execute(select(HoursCertification).order_by(HoursCertification.seq)).scalars().all()
    assert [(c.seq, c.hours_tenths, c.recorded_tenths) for c in certifications] == [(1, 15, 15), (2, 12, 15)]
    assert certifications[1].reason == "中途离开 20 分钟" and certifications[1].certified_by == leader[0].id
    entries = _ledger(v)
    assert sorted((e.kind, e.points, e.hours_tenths) for e in entries) == [
        ("hours", 12, 12), ("hours", 15, 15), ("reversal", -15, -15)]
    reversal = next(e for e in entries if e.kind == "reversal")
    assert reversal.reverses_id == next(e.id for e in entries if e.points == 15)
    assert sum(e.points for e in entries) == _summary(v).points == 12
    assert _summary(v).hours_tenths == 12 and _group_summary(patrol, v).points == 12
    assert reversal.group_id == int(patrol["group_id"])


def test_first_certification_with_other_hours_needs_a_reason(client, attended, organiser):
    patrol, (_, _, v) = attended
    r = _certify(client, patrol, v, organiser[1], hours=2)
    assert r.status_code == 422 and r.get_json()["error"] == "reason_required"
    assert _ledger(v) == [] and db.session.execute(select(func.count()).select_from(HoursCertification)).scalar() == 0
    ok = _certify(client, patrol, v, organiser[1], hours=2, reason="签退时手机没电，实际巡到结束")
    assert ok.status_code == 201 and _summary(v).points == 20


@pytest.mark.parametrize("body, status, error", [
    ({}, 409, "hours_already_certified"),
    ({"hours": 1.5, "reason": "同样"}, 409, "hours_unchanged"),
    ({"hours": 1.0}, 422, "reason_required"),
    ({"hours": 2.5, "reason": "超时"}, 422, "hours_exceed_patrol"),
    ({"hours": 13}, 422, "validation_failed"),
])
def test_correction_errors_change_nothing(client, attended, organiser, body, status, error):
    patrol, (_, _, v) = attended
    _certify(client, patrol, v, organiser[1])
    r = _certify(client, patrol, v, organiser[1], **body)
    assert r.status_code == status and r.get_json()["error"] == error
    assert len(_ledger(v)) == 1 and _summary(v).points == 15


def test_cannot_certify_before_check_out(client, new_patrol, volunteer, organiser, clock):
    patrol = new_patrol(starts_at=NOW)
    _, headers, v = volunteer()
    client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=headers)
    client.post("/api/v1/patrols/checkins", json={"token": token(patrol["id"]), **near()}, headers=headers)
    clock.advance(hours=3)  # ended, not yet closed by the cron
    r = _certify(client, patrol, v, organiser[1])
    assert r.status_code == 409 and r.get_json()["error"] == "not_checked_out"
    missing = _certify(client, patrol, SimpleNamespace(id=987654321), organiser[1])
    assert missing.status_code == 404 and missing.get_json()["error"] == "attendance_not_found"


def test_who_may_certify(client, attended, volunteer, login):
    patrol, (_, person_headers, v) = attended
    for headers in (person_headers, volunteer()[1], login("organiser", "440106002")[1]):
        r = _certify(client, patrol, v, headers)
        assert r.status_code == 403 and r.get_json()["error"] == "patrol_forbidden"
    assert _ledger(v) == []


def test_a_leader_never_certifies_their_own_hours(client, new_patrol, leader, clock):
    patrol = new_patrol(starts_at=NOW)
    _, headers, v = leader
    client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=headers)
    client.post("/api/v1/patrols/checkins", json={"token": token(patrol["id"]), **near()}, headers=headers)
    clock.advance(hours=1)
    client.post(f"/api/v1/patrols/{patrol['id']}/checkout", json=near(), headers=headers)
    clock.advance(hours=1)
    r = _certify(client, patrol, v, headers)
    assert r.status_code == 403 and r.get_json()["error"] == "self_certification"
    bulk = client.post(f"/api/v1/patrols/{patrol['id']}/attendances/certify", headers=headers)
    assert bulk.status_code == 200 and bulk.get_json() == {"certified": 0} and _ledger(v) == []


def test_certify_all_confirms_the_checked_out(client, attended, volunteer, organiser):
    patrol, (_, _, v) = attended
    _, late_headers, late = volunteer()
    client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=late_headers)
    client.post("/api/v1/patrols/checkins", json={"token": token(patrol["id"]), **near()}, headers=late_headers)
    r = client.post(f"/api/v1/patrols/{patrol['id']}/attendances/certify", headers=organiser[1])
    assert r.status_code == 200 and r.get_json() == {"certified": 1}
    assert _summary(v).points == 15 and _summary(late) is None
    again = client.post(f"/api/v1/patrols/{patrol['id']}/attendances/certify", headers=organiser[1])
    assert again.get_json() == {"certified": 0} and len(_ledger(v)) == 1


def test_attendance_list_for_managers(client, attended, organiser, volunteer):
    patrol, (_, _, v) = attended
    _certify(client, patrol, v, organiser[1])
    r = client.get(f"/api/v1/patrols/{patrol['id']}/attendances", headers=organiser[1])
    assert r.status_code == 200
    [item] = r.get_json()["items"]
    assert item["volunteer_id"] == str(v.id) and "*" in item["name"] and item["certified_hours"] == 1.5
    assert item["checkin_distance_m"] == 0 and item["auto_checkout"] is False
    denied = client.get(f"/api/v1/patrols/{patrol['id']}/attendances", headers=volunteer()[1])
    assert denied.status_code == 403


def test_grant_with_a_reason(client, organiser, volunteer):
    _, _, v = volunteer()
    r = client.post("/api/v1/points/grants", json={"volunteer_id": str(v.id), "points": 30, "reason": "协助疫苗接种点"},
                    headers=organiser[1])
    assert r.status_code == 201
    body = r.get_json()
    assert (body["kind"] == "grant" and body["points"] == 30 and body["hours"] == 0
            and body["reason"] == "协助疫苗接种点")
    [entry] = _ledger(v)
    assert entry.created_by == organiser[0].id and _summary(v).points == 30 and _summary(v).hours_tenths == 0
    minus = client.post("/api/v1/points/grants", json={"volunteer_id": str(v.id), "points": -10, "reason": "重复发放"},
                        headers=organiser[1])
    assert minus.status_code == 201 and _summary(v).points == 20


@pytest.mark.parametrize("body, status, error", [
    ({"points": 0, "reason": "x"}, 422, "validation_failed"),
    ({"points": 5}, 422, "validation_failed"),
    ({"points": 5, "reason": "x", "volunteer_id": "99999999999999999999"}, 422, "validation_failed"),
    ({"points": 5, "reason": "x", "volunteer_id": "987654321"}, 404, "volunteer_not_found"),
])
def test_grant_errors(client, organiser, volunteer, body, status, error):
    _, _, v = volunteer()
    r = client.post("/api/v1/points/grants", json={"volunteer_id": str(v.id), **body}, headers=organiser[1])
    assert r.status_code == status and r.get_json()["error"] == error
    assert _ledger(v) == []


def test_grant_only_inside_the_organisers_area(client, organiser, volunteer, login):
    _, _, far = volunteer(FAR_GRID)
    r = client.post("/api/v1/points/grants", json={"volunteer_id": str(far.id), "points": 5, "reason": "x"},
                    headers=organiser[1])
    assert r.status_code == 403 and r.get_json()["error"] == "area_forbidden" and _ledger(far) == []
    denied = client.post("/api/v1/points/grants", json={"volunteer_id": str(far.id), "points": 5, "reason": "x"},
                         headers=volunteer()[1])
    assert denied.status_code == 403 and denied.get_json()["error"] == "role_forbidden"


def test_service_record(client, attended, organiser, clock):
    patrol, (_, headers, v) = attended
    _certify(client, patrol, v, organiser[1])
    clock.advance(minutes=1)
    _certify(client, patrol, v, organiser[1], hours=1.0, reason="核对监控后更正")
    clock.advance(minutes=1)
    client.post("/api/v1/points/grants", json={"volunteer_id": str(v.id), "points": 7, "reason": "表彰"},
                headers=organiser[1])
    r = client.get("/api/v1/volunteers/me/service-record?limit=2", headers=headers)
    assert r.status_code == 200
    body = r.get_json()
    assert body["total_points"] == 17 and body["total_hours"] == 1.0 and body["pending_hours"] == 0
    assert body["patrols_attended"] == 1
    first = body["entries"]["items"]
    assert first[0]["kind"] == "grant" and first[0]["points"] == 7
    rest = client.get(f"/api/v1/volunteers/me/service-record?limit=2&cursor={body['entries']['next_cursor']}",
                      headers=headers).get_json()["entries"]
    kinds = [e["kind"] for e in first + rest["items"]]
    assert sorted(kinds) == ["grant", "hours", "hours", "reversal"] and rest["next_cursor"] is None
    assert all(e["patrol_title"] == "五山东风社区夜间巡逻" for e in first[1:] + rest["items"])
    assert sum(e["points"] for e in first + rest["items"]) == body["total_points"]


def test_service_record_shows_pending_hours(client, attended):
    _, (_, headers, _) = attended
    body = client.get("/api/v1/volunteers/me/service-record", headers=headers).get_json()
    assert body["pending_hours"] == 1.5 and body["total_points"] == 0 and body["entries"]["items"] == []


def test_points_for_rounds_half_up():
    assert points.points_for(10, 15) == 15 and points.points_for(3, 5) == 2 and points.points_for(3, 1) == 0
    assert points.points_for(7, -15) == -points.points_for(7, 15)
    assert points.period_keys(date(2026, 1, 1)) == ("all", "w202601", "m202601")
    assert points.period_keys(date(2027, 1, 1)) == ("all", "w202653", "m202701")  # ISO week of the previous year


@pytest.mark.postgres
def test_concurrent_confirmations_credit_once(app, attended, organiser, login, concurrently):
    patrol, (_, _, v) = attended
    users = [organiser[0]] + [login("organiser", "440106")[0] for _ in range(5)]
    from app.patrols import hours

    def go(i):
        try:
            hours.certify(actor=db.session.get(type(users[i]), users[i].id), patrol_id=int(patrol["id"]),
                          volunteer_id=v.id)
            return "ok"
        except Exception as exc:  # noqa: BLE001 — the losers see the first confirmation
            return getattr(exc, "error", repr(exc))

    results = concurrently(go, 6)
    assert sorted(results) == ["hours_already_certified"] * 5 + ["ok"]
    assert len(_ledger(v)) == 1 and _summary(v).points == 15
    assert db.session.execute(select(Attendance.certifications)).scalar() == 1
