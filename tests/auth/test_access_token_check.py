"""The access token's one-parse check (`app.auth.access.authenticate`) answers every token, good or bad, as
flask-jwt-extended's own `verify_jwt_in_request` does: the same caller, or the same error envelope."""
from datetime import timedelta

import jwt as pyjwt
import pytest
from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, get_current_user, verify_jwt_in_request

from app.auth.access import authenticate
from app.auth.models import User
from app.common import caller
from tests import factories
from tests.auth_flows import LOGOUT, bearer, claims

SECRET = "another-key-that-is-long-enough-0123456789"


def _forge(payload: dict, key: str | None = None, algorithm: str = "HS256") -> str:
    return pyjwt.encode(payload, key if key is not None else current_app.config["JWT_SECRET_KEY"], algorithm=algorithm)


def _answer(check, loaded, headers: dict) -> tuple:
    """("ok", caller id) when the check passes, else (status, error code) of the envelope the app answers with."""
    app = current_app._get_current_object()
    with app.test_request_context("/api/v1/me", headers=headers):
        try:
            check()
        except Exception as e:  # noqa: BLE001 - the app's own handlers turn it into the answer
            response = app.handle_user_exception(e)
            return response.status_code, response.get_json()["error"]
        return "ok", loaded().id


def _ours(fresh: bool):
    return (lambda: authenticate(fresh=fresh)), (lambda: caller.current_user)


def _library(fresh: bool):
    return (lambda: verify_jwt_in_request(fresh=fresh)), get_current_user


def _tokens(user_id: int) -> dict:
    sub = str(user_id)
    good = create_access_token(identity=sub, fresh=True, additional_claims={"fam": "f", "mfa": False})
    payload = claims(good)
    return {
        "good": good,
        "not fresh": create_access_token(identity=sub, fresh=False),
        "fresh until later": create_access_token(identity=sub, fresh=timedelta(minutes=5)),
        "fresh until earlier": create_access_token(identity=sub, fresh=timedelta(seconds=-1)),
        "expired within leeway": create_access_token(identity=sub, expires_delta=timedelta(seconds=-3)),
        "expired": create_access_token(identity=sub, expires_delta=timedelta(seconds=-60)),
        "refresh": create_refresh_token(identity=sub),
        "alg none": _forge(payload, key="", algorithm="none"),
        "other key": _forge(payload, key=SECRET),
        "no sub": _forge({k: v for k, v in payload.items() if k != "sub"}),
        "sub not a string": _forge({**payload, "sub": user_id}),
        "no type, fresh or jti": _forge({k: v for k, v in payload.items() if k not in ("type", "fresh", "jti")}),
        "not yet valid": _forge({**payload, "nbf": payload["iat"] + 3600}),
        "garbage": "not.a.jwt",
        "bad padding": good + "=",
        "unknown user": create_access_token(identity="12345", fresh=True),
    }


HEADERS = {
    "bearer": lambda token: bearer(token),
    "bearer among other fields": lambda token: {"Authorization": f"Basic dXNlcjpwYXNz, Bearer {token}"},
    "bearer with extra part": lambda token: {"Authorization": f"Bearer {token} extra"},
    "two bearers": lambda token: {"Authorization": f"Bearer {token}, Bearer {token}"},
    "basic only": lambda token: {"Authorization": "Basic dXNlcjpwYXNz"},
    "none": lambda token: {},
}


@pytest.mark.parametrize("fresh", [False, True])
def test_the_one_parse_check_answers_as_the_library_does(client, db, fresh):
    user = factories.user(roles=[("resident", "4401")])
    tokens = _tokens(user.id)
    answers = {}
    for name, token in tokens.items():
        for how, header in HEADERS.items():
            ours, library = _answer(*_ours(fresh), header(token)), _answer(*_library(fresh), header(token))
            assert ours == library, (name, how)
            answers[(name, how)] = ours
    assert answers[("good", "bearer")] == answers[("good", "bearer among other fields")] == ("ok", user.id)
    assert answers[("expired", "bearer")] == (401, "token_expired")
    assert answers[("refresh", "bearer")] == answers[("alg none", "bearer")] == (401, "token_invalid")
    assert answers[("no sub", "bearer")] == answers[("good", "bearer with extra part")] == (401, "token_invalid")
    assert answers[("good", "basic only")] == answers[("good", "none")] == (401, "token_missing")
    assert answers[("unknown user", "bearer")] == (401, "user_not_found")
    assert answers[("not fresh", "bearer")] == ((403, "fresh_token_required") if fresh else ("ok", user.id))

    client.post(LOGOUT, headers=bearer(tokens["good"]))  # revoked: both answer token_revoked
    assert _answer(*_ours(fresh), bearer(tokens["good"])) == _answer(*_library(fresh), bearer(tokens["good"])) \
        == (401, "token_revoked")
    db.session.get(User, user.id).is_active = False
    db.session.commit()
    other = create_access_token(identity=str(user.id), fresh=True)
    assert _answer(*_ours(fresh), bearer(other)) == _answer(*_library(fresh), bearer(other)) \
        == (401, "account_disabled")


def test_a_remembered_token_still_expires_and_still_needs_its_key(app, client, db, monkeypatch):
    user = factories.user(roles=[("resident", "4401")])
    late = create_access_token(identity=str(user.id), expires_delta=timedelta(seconds=-5))  # within the leeway
    assert _answer(*_ours(False), bearer(late)) == ("ok", user.id)
    assert any(token == late for _, token in app.extensions["verified_tokens"])  # remembered
    monkeypatch.setitem(app.config, "JWT_DECODE_LEEWAY", 0)  # now past its expiry: remembered or not
    assert _answer(*_ours(False), bearer(late)) == _answer(*_library(False), bearer(late)) == (401, "token_expired")
    monkeypatch.setitem(app.config, "JWT_DECODE_LEEWAY", 10)
    good = create_access_token(identity=str(user.id))
    assert _answer(*_ours(False), bearer(good)) == ("ok", user.id)
    monkeypatch.setitem(app.config, "JWT_SECRET_KEY", SECRET)  # another key: what was verified under the old one
    assert _answer(*_ours(False), bearer(good)) == _answer(*_library(False), bearer(good)) == (401, "token_invalid")


def test_remembered_tokens_are_bounded(app, db, monkeypatch):
    from app.auth import access

    monkeypatch.setattr(access, "VERIFIED_TOKENS", 3)
    app.extensions["verified_tokens"] = {}
    user = factories.user(roles=[("resident", "4401")])
    for _ in range(5):
        assert _answer(*_ours(False), bearer(create_access_token(identity=str(user.id))))[0] == "ok"
        assert len(app.extensions["verified_tokens"]) <= 3
