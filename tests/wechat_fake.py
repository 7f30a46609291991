"""A local stand-in for api.weixin.qq.com's server APIs: stable_token, getwxacodeunlimit, getuserphonenumber and
message/subscribe/send. It checks the appid/secret and the access_token as WeChat does and records each call.

`server.script[path]` holds replies to give before the normal ones: (HTTP status, JSON body or bytes)."""
import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from app import qr

APPID, SECRET = "wx0123456789abcdef", "s3cr3t-app-secret-value-0001"
# getPhoneNumber code -> the phone it stands for
PHONES = {"phone-code-1": "13800138001", "phone-code-2": "13900139002"}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 — jscode2session: js_code X is the user with openid o-X
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.calls.append((url.path, query, None))
        self._send(200, {"openid": f"o-{query.get('js_code')}", "session_key": "sk-K3y"})

    def do_POST(self):  # noqa: N802 — http.server's naming
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        self.server.calls.append((url.path, query, body))
        scripted = self.server.script.get(url.path)
        self._send(*(scripted.pop(0) if scripted else self._answer(url.path, query, body)))

    def _send(self, status, reply):
        data = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "image/png" if isinstance(reply, bytes) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, path, query, body):
        server = self.server
        if path == "/cgi-bin/stable_token":
            if body.get("appid") != APPID or body.get("secret") != SECRET:
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            if body.get("force_refresh") or not server.token:
                server.token = f"ACCESS-{len(server.calls)}"
            return 200, {"access_token": server.token, "expires_in": 7200}
        if query.get("access_token") != server.token:
            return 200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        if path == "/wxa/getwxacodeunlimit":
            if len(body.get("scene", "")) > 32:
                return 200, {"errcode": 40169, "errmsg": "invalid length for scene"}
            # a real 小程序码 is not a QR; this stand-in draws a QR of what the mini-program would receive
            return 200, qr.render(f"{body.get('page')}?scene={body['scene']}", "black", "png", scale=10)
        if path == "/wxa/business/getuserphonenumber":
            phone = PHONES.get(body.get("code"))
            if phone is None:
                return 200, {"errcode": 40029, "errmsg": "invalid code"}
            return 200, {"errcode": 0, "errmsg": "ok", "phone_info": {
                "phoneNumber": phone, "purePhoneNumber": phone, "countryCode": "86",
                "watermark": {"timestamp": 1637744274, "appid": APPID}}}
        if path == "/cgi-bin/message/subscribe/send":
            server.sent.append(body)
            return 200, {"errcode": 0, "errmsg": "ok"}
        return 404, {"errcode": 404}

    def log_message(self, *args):
        pass


@contextmanager
def serving(handler):
    """A threaded HTTP server on a free local port, always shut down."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def wechat_api_server():
    with serving(_Handler) as server:
        yield server


@pytest.fixture
def real_wechat_api(app, monkeypatch, wechat_api_server):
    """The app configured for the real WeChat, pointed at the local server (fresh state, no cached token)."""
    server = wechat_api_server
    server.calls, server.script, server.sent, server.token = [], {}, [], None
    for key, value in {"WECHAT_BACKEND": "real", "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET,
                       "WECHAT_API_BASE": f"http://127.0.0.1:{server.server_port}",
                       "WECHAT_TIMEOUT_SECONDS": 2.0}.items():
        monkeypatch.setitem(app.config, key, value)
    app.extensions.pop("wechat_token", None)
    from app.common import cache

    cache.delete("wechat:access_token")
    yield server
    app.extensions.pop("wechat_token", None)
