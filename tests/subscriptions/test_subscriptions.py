"""订阅消息: grants from wx.requestSubscribeMessage, the outbox written with the event, `flask outbox deliver`."""
import pytest
from sqlalchemy import select

from app.auth import service as auth_service
from app.extensions import db
from app.patrols.models import Notification
from app.subscriptions import delivery
from app.subscriptions.models import OutboxMessage, SubscribeGrant
from tests import factories
from tests.auth_flows import LOGIN_WECHAT
from tests.wechat_fake import real_wechat_api, wechat_api_server  # noqa: F401 — fixtures

TEMPLATES = {"WECHAT_TEMPLATE_WAITLIST_PROMOTED": "tmpl-wait", "WECHAT_TEMPLATE_PATROL_CANCELLED": "tmpl-cancel",
             "WECHAT_TEMPLATE_COLOUR_CHANGED": "tmpl-colour"}


@pytest.fixture
def templates(app, monkeypatch):
    for key, value in TEMPLATES.items():
        monkeypatch.setitem(app.config, key, value)


def _outbox():
    db.session.expire_all()
    return db.session.execute(select(OutboxMessage).order_by(OutboxMessage.created_at)).scalars().all()


def _grant(user, template_id):
    db.session.expire_all()
    return db.session.get(SubscribeGrant, (user.id, template_id))


def _on_wechat(client, app, monkeypatch, user, name):
    """The volunteer signs in from the mini-program once (the fake provider), so an openid is on the account."""
    monkeypatch.setitem(app.config, "WECHAT_BACKEND", "fake")
    r = client.post(LOGIN_WECHAT, json={"code": f"{name}~1", "phone_code": auth_service.phone_of(user)})
    assert r.status_code == 200 and r.get_json()["user"]["id"] == str(user.id), r.get_json()
    monkeypatch.setitem(app.config, "WECHAT_BACKEND", "real")


def _deliver(app) -> str:
    result = app.test_cli_runner().invoke(args=["outbox", "deliver"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_grant_promotion_outbox_delivered(client, app, monkeypatch, new_patrol, volunteer, templates,
                                          real_wechat_api, clock):
    patrol = new_patrol(capacity=1)
    seated, (user, headers, _) = volunteer(), volunteer()
    _on_wechat(client, app, monkeypatch, user, "waiter")
    mine = client.get("/api/v1/me/subscriptions", headers=headers).get_json()
    assert mine == {"templates": {"waitlist_promoted": "tmpl-wait", "patrol_cancelled": "tmpl-cancel",
                                  "colour_changed": "tmpl-colour"}, "grants": []}
    r = client.post("/api/v1/me/subscriptions", json={"results": {"tmpl-wait": "accept", "tmpl-cancel": "reject"}},
                    headers=headers)
    assert r.status_code == 200
    assert {g["template_id"]: (g["remaining"], g["last_result"]) for g in r.get_json()["grants"]} == \
        {"tmpl-wait": (1, "accept"), "tmpl-cancel": (0, "reject")}
    assert client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=seated[1]).status_code == 201
    assert client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=headers).get_json()["status"] == \
        "waitlisted"
    assert _outbox() == []
    assert client.delete(f"/api/v1/patrols/{patrol['id']}/signups/me", headers=seated[1]).status_code == 200
    [message] = _outbox()  # written with the promotion, next to the in-app notification
    assert (message.user_id, message.kind, message.status, message.template_id) == \
        (user.id, "waitlist_promoted", "pending", "tmpl-wait")
    assert db.session.execute(select(Notification).where(Notification.user_id == user.id)).scalar_one()
    assert delivery.backlog()["pending"] == 1 and delivery.backlog()["due"] == 1
    assert _deliver(app) == "sent=1 refused=0 skipped=0 failed=0 retried=0"
    [sent] = real_wechat_api.sent
    assert sent["touser"] == auth_service.openid_of(user.id) and sent["template_id"] == "tmpl-wait"
    assert sent["page"] == f"pages/patrol/detail?id={patrol['id']}" and sent["lang"] == "zh_CN"
    assert sent["data"]["thing1"] == {"value": "五山东风社区夜间巡逻"} and "time2" in sent["data"]
    [message] = _outbox()
    assert message.status == "sent" and message.attempts == 1 and _grant(user, "tmpl-wait").remaining == 0
    assert delivery.backlog() == {"pending": 0, "due": 0, "oldest_pending_seconds": 0, "failed": 0}
    # the one-time grant is used up: the cancellation (rejected template too) queues nothing
    r = client.post(f"/api/v1/patrols/{patrol['id']}/cancel", json={"reason": "暴雨"}, headers=seated[1])
    assert len(_outbox()) == 1
    assert client.get("/api/v1/me/notifications", headers=headers).get_json()["unread"] >= 1


def _promote_once(client, app, monkeypatch, new_patrol, volunteer, name, accepts=1):
    patrol = new_patrol(capacity=1)
    seated, (user, headers, _) = volunteer(), volunteer()
    _on_wechat(client, app, monkeypatch, user, name)
    for _ in range(accepts):
        client.post("/api/v1/me/subscriptions", json={"results": {"tmpl-cancel": "accept"}}, headers=headers)
    client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=seated[1])
    client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=headers)
    return patrol, user, seated


def test_43101_uses_up_nothing_and_is_recorded(client, app, monkeypatch, new_patrol, volunteer, organiser, templates,
                                                real_wechat_api):
    patrol, user, _ = _promote_once(client, app, monkeypatch, new_patrol, volunteer, "refuser", accepts=2)
    assert client.post(f"/api/v1/patrols/{patrol['id']}/cancel", json={"reason": "暴雨"},
                       headers=organiser[1]).status_code == 200
    [message] = _outbox()
    assert message.kind == "patrol_cancelled" and message.data["thing3"] == {"value": "暴雨"}
    real_wechat_api.script["/cgi-bin/message/subscribe/send"] = [
        (200, {"errcode": 43101, "errmsg": "user refuse to accept the msg"})]
    assert _deliver(app) == "sent=0 refused=1 skipped=0 failed=0 retried=0"
    [message] = _outbox()
    assert (message.status, message.last_errcode) == ("refused", 43101)
    grant = _grant(user, "tmpl-cancel")
    assert grant.remaining == 2 and grant.refused_at is not None
    assert _deliver(app) == "sent=0 refused=0 skipped=0 failed=0 retried=0"  # not tried again


def test_transient_errors_retry_with_backoff_then_fail(client, app, monkeypatch, new_patrol, volunteer, organiser,
                                                       templates, real_wechat_api, clock):
    patrol, user, _ = _promote_once(client, app, monkeypatch, new_patrol, volunteer, "busy")
    client.post(f"/api/v1/patrols/{patrol['id']}/cancel", json={}, headers=organiser[1])
    busy = (200, {"errcode": -1, "errmsg": "system error"})
    real_wechat_api.script["/cgi-bin/message/subscribe/send"] = [busy, (502, {"errcode": -1})]
    assert _deliver(app).endswith("retried=1")
    [message] = _outbox()
    assert (message.status, message.attempts, message.last_errcode) == ("pending", 1, -1)
    assert _deliver(app) == "sent=0 refused=0 skipped=0 failed=0 retried=0"  # not due for 30 s
    assert delivery.backlog()["due"] == 0 and delivery.backlog()["pending"] == 1
    clock.advance(seconds=31)
    assert _deliver(app).endswith("retried=1")  # the gateway's 502
    clock.advance(seconds=59)
    assert _deliver(app) == "sent=0 refused=0 skipped=0 failed=0 retried=0"  # backoff doubled to 60 s
    clock.advance(seconds=2)
    assert _deliver(app).startswith("sent=1")
    assert _grant(user, "tmpl-cancel").remaining == 0 and _outbox()[0].attempts == 3
    # a message nobody can receive any more is skipped, and a permanent errcode fails at once
    monkeypatch.setattr(delivery, "MAX_ATTEMPTS", 1)
    patrol2, user2, _ = _promote_once(client, app, monkeypatch, new_patrol, volunteer, "bad")
    client.post(f"/api/v1/patrols/{patrol2['id']}/cancel", json={}, headers=organiser[1])
    real_wechat_api.script["/cgi-bin/message/subscribe/send"] = [(200, {"errcode": 40003, "errmsg": "openid"})]
    assert _deliver(app) == "sent=0 refused=0 skipped=0 failed=1 retried=0"
    assert delivery.backlog()["failed"] == 1 and _grant(user2, "tmpl-cancel").remaining == 1


def test_colour_change_is_queued_for_the_holder(client, app, monkeypatch, login, templates, real_wechat_api):
    user, headers = login("resident")
    _on_wechat(client, app, monkeypatch, user, "holder")
    code = factories.health_code(owner=user)
    client.post("/api/v1/me/subscriptions", json={"results": {"tmpl-colour": "accept"}}, headers=headers)
    official = login("health_official")[1]
    r = client.patch(f"/api/v1/admin/health-codes/{code.id}/colour", json={"colour": "red", "reason": "密接"},
                     headers=official)
    assert r.status_code == 200, r.get_json()
    [message] = _outbox()
    assert message.kind == "colour_changed" and message.data["phrase1"] == {"value": "红码"}
    assert "张三明" not in str(message.data)  # no personal data in the message
    assert _deliver(app).startswith("sent=1")


def test_unknown_template_or_answer_is_422(client, login, templates):
    _, headers = login("resident")
    for bad in ({"results": {"tmpl-other": "accept"}}, {"results": {"tmpl-wait": "maybe"}}, {"results": {}}):
        r = client.post("/api/v1/me/subscriptions", json=bad, headers=headers)
        assert r.status_code == 422, bad
    assert db.session.execute(select(SubscribeGrant)).first() is None
