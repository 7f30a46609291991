"""The caller's notifications: newest first, paged, unread count, marking read (only one's own)."""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.patrols import notifications
from app.patrols.models import Notification
from tests.patrols.helpers import NOW


def _send(user, n, clock):
    for i in range(n):
        notifications.send([user.id], kind="patrol_cancelled", patrol_id=None, title=f"通知{i}", body=f"内容{i}")
        db.session.commit()
        clock.advance(seconds=1)


def test_newest_first_in_pages(client, resident, clock):
    user, headers = resident
    _send(user, 3, clock)
    first = client.get("/api/v1/me/notifications?limit=2", headers=headers).get_json()
    assert [n["title"] for n in first["items"]] == ["通知2", "通知1"] and first["unread"] == 3
    rest = client.get(f"/api/v1/me/notifications?limit=2&cursor={first['next_cursor']}", headers=headers).get_json()
    assert [n["title"] for n in rest["items"]] == ["通知0"] and rest["next_cursor"] is None
    assert first["items"][0]["read_at"] is None and first["items"][0]["patrol_id"] is None


def test_mark_some_or_all_read(client, resident, login, clock):
    user, headers = resident
    other, other_headers = login("resident")
    _send(user, 3, clock)
    _send(other, 1, clock)
    ids = [n["id"] for n in client.get("/api/v1/me/notifications", headers=headers).get_json()["items"]]
    theirs = client.get("/api/v1/me/notifications", headers=other_headers).get_json()["items"][0]["id"]
    r = client.post("/api/v1/me/notifications/read", json={"ids": [ids[0], theirs]}, headers=headers)
    assert r.status_code == 200 and r.get_json() == {"updated": 1}
    unread = client.get("/api/v1/me/notifications?unread=true", headers=headers).get_json()
    assert [n["id"] for n in unread["items"]] == ids[1:] and unread["unread"] == 2
    assert client.post("/api/v1/me/notifications/read", headers=headers).get_json() == {"updated": 2}
    db.session.expire_all()
    rows = db.session.execute(select(Notification.user_id, Notification.read_at)).all()
    assert all(read_at == NOW + timedelta(seconds=4) for uid, read_at in rows if uid == user.id)
    assert [read_at for uid, read_at in rows if uid == other.id] == [None]


def test_bad_input(client, resident):
    _, headers = resident
    r = client.post("/api/v1/me/notifications/read", json={"ids": ["abc"]}, headers=headers)
    assert r.status_code == 422 and "ids" in r.get_json()["errors"]["json"]
    assert client.get("/api/v1/me/notifications?cursor=zzz", headers=headers).get_json()["error"] == "cursor_invalid"
    assert client.get("/api/v1/me/notifications").status_code == 401
