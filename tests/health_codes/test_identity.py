"""The real-name gateway client against a local fake gateway: matches, mismatches, retries, timeouts."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from app.health_codes.models import HealthCode, Person
from tests.health_codes.conftest import URL, application, resident_id


class Gateway:
    """A fake real-name gateway: answers from `replies` (status, body, delay) in turn, records what it was asked."""

    def __init__(self):
        self.asked, self.replies = [], []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 — http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.asked.append((self.path, body, self.headers["Authorization"]))
                status, answer, delay = gateway.replies.pop(0) if gateway.replies else (200, {"result": "match"}, 0)
                if delay:
                    threading.Event().wait(delay)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(answer).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/realname"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(app, monkeypatch):
    fake = Gateway()
    for key, value in {"IDENTITY_BACKEND": "http", "IDENTITY_GATEWAY_URL": fake.url,
                       "IDENTITY_GATEWAY_TOKEN": "secret", "IDENTITY_TIMEOUT_SECONDS": 0.3,
                       "IDENTITY_RETRIES": 1}.items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setattr("app.health_codes.identity.time.sleep", lambda _: None)
    yield fake
    fake.stop()


def _nothing_saved(db):
    assert db.session.execute(select(func.count()).select_from(Person)).scalar() == 0
    assert db.session.execute(select(func.count()).select_from(HealthCode)).scalar() == 0


def test_self_code_asks_three_elements_family_two(client, db, clock, resident, login, gateway):
    from app.auth import service as auth_service

    assert client.post(URL, json=application(), headers=resident[1]).status_code == 201
    r = client.post(URL, json=application(relation="family", phone=None, id_number=resident_id(seq="456")),
                    headers=login("resident")[1])
    assert r.status_code == 201
    (path3, body3, auth), (path2, body2, _) = gateway.asked
    assert path3 == "/realname/three-element" and auth == "Bearer secret"
    assert body3 == {"name": "张三明", "id_type": "cn_resident_id", "id_number": resident_id(),
                     "mobile": auth_service.phone_of(resident[0])}
    assert path2 == "/realname/two-element" and "mobile" not in body2


def test_mismatch_is_422_and_saves_nothing(client, db, clock, resident, gateway):
    gateway.replies = [(200, {"result": "mismatch"}, 0)]
    r = client.post(URL, json=application(), headers=resident[1])
    assert r.status_code == 422 and r.get_json()["error"] == "identity_mismatch"
    _nothing_saved(db)


@pytest.mark.parametrize("replies", [
    [(200, {"result": "match"}, 1.0), (200, {"result": "match"}, 1.0)],  # both attempts time out
    [(502, {}, 0), (503, {}, 0)],
    [(200, {"result": "maybe"}, 0)],
    [(200, ["match"], 0)],
    [(401, {"error": "bad token"}, 0)],
])
def test_gateway_trouble_is_503_and_saves_nothing(client, db, clock, resident, gateway, replies):
    gateway.replies = list(replies)
    r = client.post(URL, json=application(), headers=resident[1])
    assert r.status_code == 503 and r.get_json()["error"] == "identity_unavailable"
    _nothing_saved(db)


def test_one_failure_is_retried(client, db, clock, resident, gateway):
    gateway.replies = [(500, {}, 0), (200, {"result": "match"}, 0)]
    assert client.post(URL, json=application(), headers=resident[1]).status_code == 201
    assert len(gateway.asked) == 2


def test_fake_backend_mismatches_its_documented_set(client, db, clock, resident):
    r = client.post(URL, json=application(id_number=resident_id(seq="000")), headers=resident[1])
    assert r.status_code == 422 and r.get_json()["error"] == "identity_mismatch"
    _nothing_saved(db)
