"""A dispatched case is announced to the staff of its department over its grid: a notification in the app, and a
subscribe message in the outbox for those who allowed one; nobody else hears of it."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.patrols.models import Notification
from app.subscriptions.models import OutboxMessage, SubscribeGrant
from tests.reports.helpers import act, file


@pytest.fixture
def template(app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_TEMPLATE_REPORT_DISPATCHED", "tmpl-dispatched")


def _told(kind: str = "report_dispatched") -> dict[int, list[str]]:
    rows = db.session.execute(select(Notification.user_id, Notification.body).where(Notification.kind == kind))
    told: dict[int, list[str]] = {}
    for user_id, text in rows:
        told.setdefault(user_id, []).append(text)
    return told


def _grant(user) -> None:
    db.session.add(SubscribeGrant(user_id=user.id, template_id="tmpl-dispatched", remaining=1, last_result="accept"))
    db.session.commit()


def test_department_staff_over_the_grid_are_told(client, template, volunteer, community, street, department_staff):
    fire_here, fire_elsewhere = department_staff("fire"), department_staff("fire", "440111")
    sanitation_here = department_staff("sanitation")
    _grant(fire_here[0])
    _, as_reporter = volunteer()
    rid = file(client, as_reporter)["id"]
    act(client, community[1], rid, "accept")
    assert _told() == {}
    act(client, street[1], rid, "dispatch")
    assert _told() == {fire_here[0].id: ["消防隐患：楼道消防通道被杂物堵塞"]}
    assert fire_elsewhere[0].id not in _told() and sanitation_here[0].id not in _told()
    (message,) = db.session.execute(select(OutboxMessage)).scalars().all()
    assert (message.user_id, message.kind, message.template_id, message.page, message.status) == \
        (fire_here[0].id, "report_dispatched", "tmpl-dispatched", f"pages/reports/detail?id={rid}", "pending")
    assert message.data == {"thing1": {"value": "消防隐患"}, "thing2": {"value": "楼道消防通道被杂物堵塞"},
                            "time3": {"value": "2026年11月30日 12:00"}}  # dispatched at 10:00, 2 hours to start


def test_a_case_handed_back_and_sent_elsewhere_tells_the_new_department(client, volunteer, community, street,
                                                                          department_staff):
    fire, sanitation = department_staff("fire"), department_staff("sanitation")
    _, as_reporter = volunteer()
    rid = file(client, as_reporter)["id"]
    act(client, community[1], rid, "accept")
    act(client, street[1], rid, "dispatch")
    act(client, fire[1], rid, "hand_back", reason="不属于本部门职责")
    act(client, street[1], rid, "dispatch", department="sanitation")
    assert {user_id: len(texts) for user_id, texts in _told().items()} == {fire[0].id: 1, sanitation[0].id: 1}
    assert db.session.execute(select(OutboxMessage)).scalars().all() == []  # no template configured: no message
