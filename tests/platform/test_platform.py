"""The service skeleton: health, the error envelope, request ids and logs, config checks."""
import logging

import pytest
from sqlalchemy.exc import OperationalError

from config import ProductionConfig


def _is_envelope(body, code, error=None):
    assert body["code"] == code
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])
    if error:
        assert body["error"] == error
    return body


def test_health_ok(client, db):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    body = r.get_json()
    assert {k: body[k] for k in ("status", "database")} == {"status": "ok", "database": "ok"}
    if db.engine.dialect.name == "postgresql":
        assert set(body["scan_partitions"]) == {"current_month", "months_ahead", "default_rows"}
    else:
        assert body["scan_partitions"] is None


def test_health_database_down(client, db, monkeypatch):
    def boom(*a, **k):
        raise OperationalError("SELECT 1", {}, Exception("down"))

    monkeypatch.setattr(db.session, "execute", boom)
    r = client.get("/api/v1/health")
    assert r.status_code == 503
    assert r.get_json()["database"] == "down"


def test_no_cookie_session_is_kept(app, client):
    """Tokens travel in headers: no route sets a cookie, and writing Flask's session fails loudly."""
    import flask

    for path in ("/api/v1/health", "/api/v1/openapi.json", "/api/v1/nowhere"):
        assert "Set-Cookie" not in client.get(path, headers={"Cookie": "session=forged"}).headers
    with app.test_request_context(headers={"Cookie": "session=forged"}):
        assert len(flask.session) == 0
        with pytest.raises(RuntimeError):
            flask.session["user_id"] = 1


def test_unknown_route_is_json_404(client):
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.is_json
    _is_envelope(r.get_json(), 404, "not_found")


def test_wrong_method_is_json_405(client):
    r = client.delete("/api/v1/health")
    assert r.status_code == 405
    _is_envelope(r.get_json(), 405, "method_not_allowed")
    assert "GET" in r.headers["Allow"]


def test_malformed_json_is_400(client):
    r = client.post("/api/v1/auth/sms-codes", data='{"phone": ', content_type="application/json")
    assert r.status_code == 400
    _is_envelope(r.get_json(), 400, "malformed_json")


def test_validation_is_422_with_field_errors(client):
    r = client.post("/api/v1/auth/login/sms", json={"phone": "13800138000", "code": "12"})
    assert r.status_code == 422
    body = _is_envelope(r.get_json(), 422, "validation_failed")
    assert "code" in body["errors"]["json"]


def test_unknown_field_rejected(client):
    r = client.post("/api/v1/auth/sms-codes", json={"phone": "13800138000", "admin": True})
    assert r.status_code == 422
    assert "admin" in r.get_json()["errors"]["json"]


def test_unknown_query_parameter_rejected(client):
    r = client.get("/api/v1/areas?level=district&\x91=null&admin=1")
    assert r.status_code == 422 and r.get_json()["error"] == "validation_failed"
    assert set(r.get_json()["errors"]["query"]) == {"\x91", "admin"}
    assert client.get("/api/v1/areas?level=district").status_code == 200


def test_body_too_large_is_413(client, app):
    r = client.post("/api/v1/auth/sms-codes", data="x" * (app.config["MAX_CONTENT_LENGTH"] + 1),
                    content_type="application/json")
    assert r.status_code == 413
    _is_envelope(r.get_json(), 413, "payload_too_large")


def test_unexpected_error_is_500_without_traceback(client, app, monkeypatch, caplog):
    from app.areas import service

    monkeypatch.setattr(service, "get", lambda code: 1 / 0)
    r = client.get("/api/v1/areas/440106")
    assert r.status_code == 500
    body = _is_envelope(r.get_json(), 500, "internal_error")
    assert "ZeroDivision" not in r.get_data(as_text=True) and "Traceback" not in r.get_data(as_text=True)
    assert set(body) == {"code", "status", "error", "message"}


def test_request_id_echoed_and_logged(client, caplog):
    with caplog.at_level(logging.INFO, logger="jiefang.request"):
        r = client.get("/api/v1/health", headers={"X-Request-ID": "req-12345678"})
    assert r.headers["X-Request-ID"] == "req-12345678"
    line = [rec.getMessage() for rec in caplog.records if rec.name == "jiefang.request"][-1]
    assert "rid=req-12345678" in line and "method=GET" in line and "status=200" in line and "duration_ms=" in line


def test_hostile_request_id_replaced(client):
    r = client.get("/api/v1/health", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert r.headers["X-Request-ID"] != "<script>alert(1)</script>" and len(r.headers["X-Request-ID"]) == 32


def test_openapi_and_docs_served(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/auth/sms-codes" in spec["paths"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"swagger" in docs.data.lower()


def test_every_operation_documents_its_errors(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            assert "default" in op["responses"], f"{method} {path} has no error response"
            if op.get("security"):
                assert "401" in op["responses"], f"{method} {path} does not document 401"


_GOOD_ENV = {"SECRET_KEY": "s" * 40, "JWT_SECRET_KEY": "j" * 40, "DATABASE_URL": "postgresql+psycopg://x@y/z",
             "DATA_ENCRYPTION_KEYS": "k1:" + "A" * 43 + "=", "BLIND_INDEX_KEY": "b" * 40,
             "HEALTH_CODE_SIGNING_KEYS": "s1:" + "B" * 43 + "=", "VENUE_CODE_KEY": "v" * 40,
             "PATROL_CHECKIN_KEY": "p" * 40,
             "SMS_BACKEND": "http", "WECHAT_BACKEND": "real", "IDENTITY_BACKEND": "http"}


_GOOD_BACKENDS = {"SMS_BACKEND": "http", "SMS_GATEWAY_URL": "https://sms.example/send", "SMS_GATEWAY_TOKEN": "t",
                  "WECHAT_BACKEND": "real", "WECHAT_APPID": "wx1", "WECHAT_SECRET": "s",
                  "IDENTITY_BACKEND": "http", "IDENTITY_GATEWAY_URL": "https://realname.example/v1",
                  "IDENTITY_GATEWAY_TOKEN": "t"}


@pytest.mark.parametrize("change, needle", [
    ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
    ({"JWT_SECRET_KEY": "short"}, "at least 32 bytes"),
    ({"JWT_SECRET_KEY": "s" * 40}, "must differ"),
    ({"DATABASE_URL": None}, "DATABASE_URL is not set"),
    ({"DATA_ENCRYPTION_KEYS": None}, "DATA_ENCRYPTION_KEYS is not set"),
    ({"PATROL_CHECKIN_KEY": None}, "PATROL_CHECKIN_KEY is not set"),
    ({"SMS_BACKEND": "console"}, "SMS_BACKEND=console is for development only"),
    ({"WECHAT_BACKEND": "fake"}, "WECHAT_BACKEND=fake is for development only"),
    ({"SMS_BACKEND": "htp"}, "SMS_BACKEND=htp is not a known backend"),
    ({"WECHAT_BACKEND": None}, "WECHAT_BACKEND=None is not a known backend"),
    ({"SMS_GATEWAY_URL": None}, "SMS_GATEWAY_URL is not set (needed by SMS_BACKEND=http)"),
    ({"WECHAT_APPID": ""}, "WECHAT_APPID is not set (needed by WECHAT_BACKEND=real)"),
    ({"WECHAT_SECRET": None}, "WECHAT_SECRET is not set (needed by WECHAT_BACKEND=real)"),
    ({"IDENTITY_BACKEND": "fake"}, "IDENTITY_BACKEND=fake is for development only"),
    ({"IDENTITY_GATEWAY_URL": ""}, "IDENTITY_GATEWAY_URL is not set (needed by IDENTITY_BACKEND=http)"),
])
def test_production_refuses_unsafe_config(monkeypatch, change, needle):
    for key, value in {**_GOOD_ENV, **change}.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    config = {**_GOOD_BACKENDS, **{k: v for k, v in change.items() if k in _GOOD_BACKENDS}}
    with pytest.raises(RuntimeError) as info:
        ProductionConfig.validate(config)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_production_accepts_complete_config(monkeypatch):
    for key, value in _GOOD_ENV.items():
        monkeypatch.setenv(key, value)
    ProductionConfig.validate(_GOOD_BACKENDS)


def test_schema_names_are_unique(client):
    # apispec renames a clashing schema to Name1: the mini-program developers would see two of them.
    names = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert [n for n in names if n[-1].isdigit()] == []
