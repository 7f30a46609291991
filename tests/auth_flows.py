"""HTTP helpers for the sign-in tests: send a code, sign in, read tokens, check the error envelope."""
import jwt as pyjwt
from flask import current_app
from sqlalchemy import func, select

SEND = "/api/v1/auth/sms-codes"
LOGIN_SMS = "/api/v1/auth/login/sms"
LOGIN_PASSWORD = "/api/v1/auth/login/password"
LOGIN_WECHAT = "/api/v1/auth/login/wechat"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/me"


def envelope(response, status: int, error: str) -> dict:
    """Assert that response is the error envelope with this status and error code; return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert body["code"] == status and body["error"] == error, body
    assert isinstance(body["status"], str) and body["status"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]
    return body


def send_code(client, phone: str, ip: str = "127.0.0.1") -> str:
    """Ask for a code (console sender) and return it."""
    r = client.post(SEND, json={"phone": phone}, environ_base={"REMOTE_ADDR": ip})
    assert r.status_code == 202, r.get_data(as_text=True)
    return r.get_json()["debug_code"]


def sign_in(client, phone: str) -> dict:
    """Sign in by SMS; returns the login body (access_token, refresh_token, user)."""
    code = send_code(client, phone)
    r = client.post(LOGIN_SMS, json={"phone": phone, "code": code})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def claims(token: str) -> dict:
    """A token's verified claims, decoded independently of flask-jwt-extended."""
    return pyjwt.decode(token, current_app.config["JWT_SECRET_KEY"], algorithms=["HS256"])


def wrong(code: str) -> str:
    """A six-digit code that is not `code`."""
    return f"{(int(code) + 1) % 10**6:06d}"


def count(db, model) -> int:
    """Rows in model's table."""
    return db.session.execute(select(func.count()).select_from(model)).scalar()
