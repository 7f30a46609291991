"""WeChat mini-program sign-in: the fake provider, and the real one against a local jscode2session server."""
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from app.auth.models import RefreshToken, RoleGrant, User
from app.common.crypto import cipher
from tests.auth_flows import LOGIN_WECHAT, ME, bearer, count, envelope
from tests.wechat_fake import serving

APPID, SECRET = "wx0123456789abcdef", "s3cr3t-app-secret-value-0001"

# js_code -> (HTTP status, body, seconds to wait before answering)
REPLIES = {
    "e40029": (200, {"errcode": 40029, "errmsg": "invalid code"}, 0),
    "e40163": (200, {"errcode": 40163, "errmsg": "code been used"}, 0),
    "e45011": (200, {"errcode": 45011, "errmsg": "api minute-quota reach limit"}, 0),
    "e40226": (200, {"errcode": 40226, "errmsg": "invalid user, high risk"}, 0),
    "e-1": (200, {"errcode": -1, "errmsg": "system error"}, 0),
    "e99999": (200, {"errcode": 99999, "errmsg": "something new"}, 0),
    "e-string": (200, {"errcode": "40029", "errmsg": "invalid code"}, 0),
    "garbage": (200, "<html>502 Bad Gateway</html>", 0),
    "json-list": (200, [1, 2, 3], 0),
    "json-null": (200, None, 0),
    "no-session-key": (200, {"openid": "o-partial"}, 0),
    "openid-not-text": (200, {"openid": {"x": 1}, "session_key": "k"}, 0),
    "http-500": (500, {"errcode": -1}, 0),
    "hang": (200, {"openid": "o-late", "session_key": "k-late"}, 1.0),
}


class _JsCode2Session(BaseHTTPRequestHandler):
    """Speaks WeChat's GET /sns/jscode2session; records each query."""

    def do_GET(self):  # noqa: N802 — http.server's naming
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.seen.append(query)
        code = query.get("js_code", "")
        if url.path != "/sns/jscode2session":
            status, body, delay = 404, {"errcode": 404}, 0
        elif query.get("appid") != APPID or query.get("secret") != SECRET:
            status, body, delay = 200, {"errcode": 40013, "errmsg": "invalid appid"}, 0
        else:
            status, body, delay = REPLIES.get(code, (200, {"openid": f"o-{code}", "session_key": f"sk-{code}-K3y",
                                                           "unionid": f"u-{code}"}, 0))
        time.sleep(delay)
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")  # as WeChat does
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def wechat_server():
    with serving(_JsCode2Session) as server:
        server.seen = []
        yield server


@pytest.fixture
def real_wechat(app, monkeypatch, wechat_server):
    """The app configured with the real provider, pointed at the local server."""
    wechat_server.seen.clear()
    for key, value in {"WECHAT_BACKEND": "real", "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET,
                       "WECHAT_API_BASE": f"http://127.0.0.1:{wechat_server.server_port}",
                       "WECHAT_TIMEOUT_SECONDS": 0.3}.items():
        monkeypatch.setitem(app.config, key, value)
    return wechat_server


def _users(db) -> list[User]:
    db.session.expire_all()
    return db.session.execute(select(User)).scalars().all()


def test_fake_provider_signs_in_and_keeps_the_session_key_server_side(client, db):
    r = client.post(LOGIN_WECHAT, json={"code": "dev-code-1"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["user"]["roles"] == [{"role": "resident", "area": "4401"}] and body["user"]["phone"] is None
    assert "session_key" not in r.get_data(as_text=True) and "openid" not in r.get_data(as_text=True)
    [user] = _users(db)
    assert user.wechat_openid_hash and user.wechat_session_key_enc
    assert client.get(ME, headers=bearer(body["access_token"])).get_json()["id"] == str(user.id)
    again = client.post(LOGIN_WECHAT, json={"code": "dev-code-1"})
    assert again.get_json()["user"]["id"] == body["user"]["id"] and len(_users(db)) == 1
    envelope(client.post(LOGIN_WECHAT, json={"code": "invalid"}), 401, "wechat_code_invalid")
    assert len(_users(db)) == 1


@pytest.mark.postgres
def test_two_first_sign_ins_at_once_make_one_account_and_both_succeed(app, db, concurrently, monkeypatch):
    """A mini-program that calls wx.login twice on launch: both requests find no account, both insert one. The
    unique openid index stops the second, which then signs in to the first's account instead of answering 409."""
    from app.auth import service as auth_service

    both_looked, real = threading.Barrier(2), auth_service._new_resident

    def after_both_looked(user, find):
        both_looked.wait(timeout=10)
        return real(user, find)

    monkeypatch.setattr(auth_service, "_new_resident", after_both_looked)

    def sign_in(_):
        r = app.test_client().post(LOGIN_WECHAT, json={"code": "launched-twice"})
        return r.status_code, r.get_json()

    results = concurrently(sign_in, 2)
    assert [status for status, _ in results] == [200, 200]
    assert results[0][1]["user"]["id"] == results[1][1]["user"]["id"]
    [user] = _users(db)
    assert [(g.role, g.area_code) for g in user.grants] == [("resident", "4401")]
    assert count(db, RefreshToken) == 2
    for _, body in results:
        assert app.test_client().get(ME, headers=bearer(body["access_token"])).get_json()["id"] == str(user.id)


def test_real_provider_success(client, db, real_wechat):
    r = client.post(LOGIN_WECHAT, json={"code": "abc123"})
    assert r.status_code == 200, r.get_data(as_text=True)
    [query] = real_wechat.seen
    assert query == {"appid": APPID, "secret": SECRET, "js_code": "abc123", "grant_type": "authorization_code"}
    text = r.get_data(as_text=True)
    assert "sk-abc123-K3y" not in text and "session_key" not in text and "o-abc123" not in text
    [user] = _users(db)
    assert user.wechat_openid_hash == cipher().blind_index("o-abc123", "wechat_openid")
    assert b"sk-abc123-K3y" not in user.wechat_session_key_enc
    assert cipher().decrypt(user.wechat_session_key_enc, b"wechat_session_key") == "sk-abc123-K3y"
    grants = db.session.execute(select(RoleGrant.role, RoleGrant.area_code)).all()
    assert grants == [("resident", "4401")] and count(db, RefreshToken) == 1


def test_real_provider_second_login_same_user_new_session_key(client, db, real_wechat, monkeypatch):
    first = client.post(LOGIN_WECHAT, json={"code": "abc123"}).get_json()
    # wx.login() gives a new code each time; the openid stays, the session key changes
    monkeypatch.setitem(REPLIES, "def456", (200, {"openid": "o-abc123", "session_key": "sk-new-K3y"}, 0))
    second = client.post(LOGIN_WECHAT, json={"code": "def456"}).get_json()
    assert second["user"]["id"] == first["user"]["id"]
    [user] = _users(db)
    assert cipher().decrypt(user.wechat_session_key_enc, b"wechat_session_key") == "sk-new-K3y"


@pytest.mark.parametrize("code, status, error", [
    ("e40029", 401, "wechat_code_invalid"),
    ("e40163", 401, "wechat_code_used"),
    ("e45011", 429, "wechat_rate_limited"),
    ("e40226", 403, "wechat_user_blocked"),
    ("e-1", 503, "wechat_busy"),
    ("e-string", 401, "wechat_code_invalid"),
    ("e99999", 503, "wechat_error"),
    ("garbage", 503, "wechat_bad_reply"),
    ("json-list", 503, "wechat_bad_reply"),
    ("json-null", 503, "wechat_bad_reply"),
    ("no-session-key", 503, "wechat_bad_reply"),
    ("openid-not-text", 503, "wechat_bad_reply"),
    ("http-500", 503, "wechat_unavailable"),
])
def test_real_provider_errors_are_clear(client, db, real_wechat, code, status, error):
    r = client.post(LOGIN_WECHAT, json={"code": code})
    body = envelope(r, status, error)
    assert set(body) == {"code", "status", "error", "message"}
    if status in (429, 503):
        assert int(r.headers["Retry-After"]) > 0
    assert len(real_wechat.seen) == 1
    assert _users(db) == [] and count(db, RefreshToken) == 0


def test_real_provider_wrong_app_credentials_is_503(client, db, app, real_wechat, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_SECRET", "wrong")
    envelope(client.post(LOGIN_WECHAT, json={"code": "abc123"}), 503, "wechat_error")
    assert _users(db) == []


def test_real_provider_hanging_server_times_out(client, db, real_wechat):
    # the server answers after 1 s (with a valid session); the provider gives up after 0.3 s
    envelope(client.post(LOGIN_WECHAT, json={"code": "hang"}), 503, "wechat_timeout")
    assert [q["js_code"] for q in real_wechat.seen] == ["hang"] and _users(db) == []


def test_real_provider_unreachable_is_503(client, db, app, real_wechat, monkeypatch):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", f"http://127.0.0.1:{dead_port}")
    envelope(client.post(LOGIN_WECHAT, json={"code": "abc123"}), 503, "wechat_unavailable")
    assert _users(db) == []


def test_wechat_login_logs_no_secret_code_or_session_key(client, db, real_wechat, caplog):
    with caplog.at_level(logging.DEBUG):
        assert client.post(LOGIN_WECHAT, json={"code": "abc123"}).status_code == 200
        client.post(LOGIN_WECHAT, json={"code": "e40029"})
    lines = [rec.getMessage() for rec in caplog.records]
    assert lines, "nothing was logged at all"
    for needle in (SECRET, "abc123", "sk-abc123-K3y", "o-abc123", "e40029"):
        assert not [line for line in lines if needle in line], needle


def test_disabled_wechat_user_cannot_sign_in(client, db, real_wechat):
    client.post(LOGIN_WECHAT, json={"code": "abc123"})
    _users(db)[0].is_active = False
    db.session.commit()
    envelope(client.post(LOGIN_WECHAT, json={"code": "abc123"}), 401, "account_disabled")
    assert count(db, RefreshToken) == 1


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": "x" * 129}, {"code": 5}])
def test_malformed_wechat_login_is_422_without_calling_wechat(client, db, real_wechat, body):
    envelope(client.post(LOGIN_WECHAT, json=body), 422, "validation_failed")
    assert real_wechat.seen == [] and _users(db) == []


def test_unknown_wechat_backend_never_falls_back_to_fake(client, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_BACKEND", "reel")
    envelope(client.post(LOGIN_WECHAT, json={"code": "dev-code-1"}), 500, "internal_error")
    assert _users(db) == []
