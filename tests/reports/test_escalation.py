"""Deadlines at frozen times: `flask reports escalate` moves overdue cases community → street → district, notifies
and records each move, flags a case escalated twice, and closes resolutions nobody answered in time."""
from sqlalchemy import select

from app.extensions import db
from app.patrols.models import Notification
from app.reports.models import Report, Transition
from tests.reports.helpers import act, file


def _escalate(app) -> str:
    result = app.test_cli_runner().invoke(args=["reports", "escalate"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def _told(user_id: int) -> list[str]:
    return list(db.session.execute(select(Notification.title).where(Notification.user_id == user_id,
                                                                    Notification.kind == "report_escalated")).scalars())


def test_overdue_case_climbs_one_level_at_a_time_and_is_flagged(app, client, clock, volunteer, community, street,
                                                                 district):
    _, as_reporter = volunteer()
    rid = file(client, as_reporter)["id"]  # fire hazard: 2 hours to accept
    clock.advance(hours=1, minutes=59)
    assert _escalate(app).startswith("escalated: 0")
    clock.advance(minutes=2)
    assert _escalate(app) == "escalated: 1 (newly flagged: 0), closed: 0"
    report = db.session.get(Report, int(rid))
    assert (report.level, report.escalations, report.flagged, report.state) == ("street", 1, False, "submitted")
    assert report.due_at.isoformat() == "2026-11-30T06:01:00+00:00"  # the street gets a fresh 2 hours
    assert _told(street[0].id) == ["报事超时升级"] and _told(community[0].id) == []
    assert rid in {r["id"] for r in client.get("/api/v1/reports?queue=street", headers=street[1]).get_json()["items"]}

    assert _escalate(app).startswith("escalated: 0")  # nothing new is overdue
    clock.advance(hours=2, minutes=1)
    assert _escalate(app) == "escalated: 1 (newly flagged: 1), closed: 0"
    db.session.expire_all()
    report = db.session.get(Report, int(rid))
    assert (report.level, report.escalations, report.flagged) == ("district", 2, True)
    assert _told(district[0].id) == ["报事超时升级", "报事超时升级"]  # the district staff cover the street too
    assert {r["id"] for r in client.get("/api/v1/reports?queue=district", headers=district[1]).get_json()["items"]} \
        == {rid}
    clock.advance(hours=5)
    assert _escalate(app).startswith("escalated: 0")  # the district is the top
    steps = db.session.execute(select(Transition.action, Transition.level, Transition.actor_id).where(
        Transition.report_id == int(rid)).order_by(Transition.seq)).all()
    assert steps[1:] == [("escalate", "street", None), ("escalate", "district", None)]
    # once escalated, the street may take it in
    assert act(client, street[1], rid, "accept")["state"] == "accepted"


def test_community_staff_still_answer_an_escalated_case_but_street_staff_not_before(client, clock, app, volunteer,
                                                                                    community, street):
    _, as_reporter = volunteer()
    rid = file(client, as_reporter)["id"]
    assert act(client, street[1], rid, "accept", status=403)["error"] == "report_action_forbidden"
    clock.advance(hours=3)
    _escalate(app)
    assert act(client, community[1], rid, "accept")["level"] == "street"


def test_lapsed_resolution_is_closed(app, client, clock, volunteer, community, street, fire):
    _, as_reporter = volunteer()
    rid = file(client, as_reporter)["id"]
    for headers, action in ((community[1], "accept"), (street[1], "dispatch"), (fire[1], "start")):
        act(client, headers, rid, action)
    act(client, fire[1], rid, "resolve", reason="已清理")
    clock.advance(hours=167)
    assert _escalate(app).endswith("closed: 0")
    clock.advance(hours=2)
    assert _escalate(app).endswith("closed: 1")
    report = db.session.get(Report, int(rid))
    assert report.state == "closed" and report.closed_at == clock.now and report.escalations == 0
    assert act(client, as_reporter, rid, "confirm", status=409)["state"] == "closed"
