"""The whole loop through HTTP: a volunteer reports, the community accepts, the street dispatches, the department
hands back once, starts and resolves, the reporter confirms; every step a transition row."""
from sqlalchemy import select

from app.extensions import db
from app.patrols.models import Notification, PointsEntry
from app.reports.models import Report, Transition
from tests.reports.helpers import GRID, act, body, file


def _transitions(report_id: str) -> list[tuple]:
    return db.session.execute(select(Transition.action, Transition.from_state, Transition.to_state)
                              .where(Transition.report_id == int(report_id))
                              .order_by(Transition.seq)).all()


def test_volunteer_report_travels_to_the_department_and_back(client, clock, volunteer, community, street, fire):
    reporter, as_reporter = volunteer()
    filed = file(client, as_reporter, reporter_visible=True)
    assert filed["state"] == "submitted" and filed["level"] == "community" and filed["mine"] is True
    assert filed["category"] == {"code": "fire_hazard", "name": "消防隐患"}
    assert filed["department"]["code"] == "fire" and filed["due_at"] == "2026-11-30T04:00:00+00:00"  # 2 h to accept
    rid = filed["id"]

    clock.advance(hours=1)
    accepted = act(client, community[1], rid, "accept")
    assert accepted["state"] == "accepted" and accepted["responded_at"] == "2026-11-30T03:00:00+00:00"
    assert accepted["points_awarded"] == 5
    dispatched = act(client, street[1], rid, "dispatch", department="fire")
    assert dispatched["state"] == "dispatched"
    handed = act(client, fire[1], rid, "hand_back", reason="属物业管理范围，请街道协调")
    assert handed["state"] == "accepted" and handed["hand_backs"] == 1
    act(client, street[1], rid, "dispatch")
    again = act(client, fire[1], rid, "hand_back", status=409, reason="再次退回")
    assert again["error"] == "hand_back_used"
    act(client, fire[1], rid, "start")
    seen = client.get(f"/api/v1/reports/{rid}", headers=fire[1]).get_json()
    assert seen["reporter"].startswith("139") and "****" in seen["reporter"]  # shown, masked: the reporter agreed
    resolved = act(client, fire[1], rid, "resolve", reason="已清理通道杂物")
    assert resolved["state"] == "resolved"
    confirmed = act(client, as_reporter, rid, "confirm")
    assert confirmed["state"] == "confirmed" and confirmed["confirmed_at"]

    assert _transitions(rid) == [("submit", None, "submitted"), ("accept", "submitted", "accepted"),
                                 ("dispatch", "accepted", "dispatched"), ("hand_back", "dispatched", "accepted"),
                                 ("dispatch", "accepted", "dispatched"), ("start", "dispatched", "in_progress"),
                                 ("resolve", "in_progress", "resolved"), ("confirm", "resolved", "confirmed")]
    history = client.get(f"/api/v1/reports/{rid}", headers=as_reporter).get_json()["history"]
    assert history[3]["reason"] == "属物业管理范围，请街道协调" and history[3]["actor_id"] == str(fire[0].id)
    points = db.session.execute(select(PointsEntry.points, PointsEntry.reason)).all()
    assert points == [(5, f"有效报事 {rid}")]
    told = db.session.execute(select(Notification.kind).where(Notification.user_id == reporter.id)).scalars().all()
    assert told.count("report_update") == 6  # every step others took


def test_reporter_hidden_from_the_department_unless_allowed(client, volunteer, community, street, fire):
    _, as_reporter = volunteer()
    rid = file(client, as_reporter)["id"]
    act(client, community[1], rid, "accept")
    act(client, street[1], rid, "dispatch")
    assert client.get(f"/api/v1/reports/{rid}", headers=fire[1]).get_json()["reporter"] is None
    assert client.get(f"/api/v1/reports/{rid}", headers=as_reporter).get_json()["reporter"] is not None


def test_reject_and_reopen_within_the_window(client, clock, volunteer, community, street, fire):
    _, as_reporter = volunteer()
    rejected = act(client, community[1], file(client, as_reporter)["id"], "reject", reason="非本辖区事项")
    assert rejected["state"] == "rejected" and rejected["due_at"] is None
    rid = file(client, as_reporter)["id"]
    for headers, action in ((community[1], "accept"), (street[1], "dispatch"), (fire[1], "start")):
        act(client, headers, rid, action)
    act(client, fire[1], rid, "resolve", reason="已处理")
    reopened = act(client, as_reporter, rid, "reopen", reason="杂物又堆回来了")
    assert reopened["state"] == "reopened" and reopened["resolved_at"] is None
    act(client, fire[1], rid, "start")
    act(client, fire[1], rid, "resolve", reason="已清理并张贴告示")
    clock.advance(days=8)  # past the 7-day window
    late = act(client, as_reporter, rid, "reopen", status=409, reason="又堆了")
    assert late["error"] == "reopen_window_closed" and late["state"] == "resolved"
    assert db.session.get(Report, int(rid)).state == "resolved"


def test_reason_is_required_where_the_step_needs_one(client, volunteer, community):
    _, as_reporter = volunteer()
    rid = file(client, as_reporter)["id"]
    assert act(client, community[1], rid, "reject", status=422)["error"] == "reason_required"
    assert db.session.get(Report, int(rid)).state == "submitted"


def test_idempotent_submit(client, volunteer):
    user, headers = volunteer()
    payload = body()
    first = client.post("/api/v1/reports", json=payload, headers=headers)
    retry = client.post("/api/v1/reports", json=payload, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.get_json()["id"] == first.get_json()["id"]
    assert db.session.execute(select(Report.id).where(Report.reporter_id == user.id)).scalars().all() == \
        [int(first.get_json()["id"])]


def test_grid_defaults_to_the_volunteers_and_residents_must_give_one(client, volunteer, resident):
    _, headers = volunteer()
    payload = body()
    payload.pop("grid")
    assert client.post("/api/v1/reports", json=payload, headers=headers).get_json()["grid"] == GRID
    payload["client_key"] = "resident-key-0001"
    response = client.post("/api/v1/reports", json=payload, headers=resident[1])
    assert response.status_code == 422 and response.get_json()["error"] == "grid_required"
    assert db.session.execute(select(Report).where(Report.client_key == "resident-key-0001")).first() is None


def test_wgs84_positions_are_stored_in_gcj02(client, volunteer):
    _, headers = volunteer()
    filed = file(client, headers, lat=23.1291, lng=113.3437, coord_type="wgs84")
    stored = db.session.get(Report, int(filed["id"]))
    assert -0.004 < stored.lat - 23.1291 < -0.002 and 0.004 < stored.lng - 113.3437 < 0.007  # the GCJ-02 shift


def test_bad_bodies_change_nothing(client, volunteer):
    _, headers = volunteer()
    lat_only = body()
    lat_only.pop("lng")
    for bad in ({"category": "no_such"}, {"grid": "440106001001"}, {"coord_type": "bd09"}, {"lat": 91},
                {"photos": ["1", "2", "3", "4"]}, {"photos": ["12345"]}, {"text": ""}, {"client_key": "short"}):
        response = client.post("/api/v1/reports", json=body(**bad), headers=headers)
        assert 400 <= response.status_code < 500 and response.get_json()["error"], bad
    assert client.post("/api/v1/reports", json=lat_only, headers=headers).status_code == 422
    assert db.session.execute(select(Report)).first() is None
