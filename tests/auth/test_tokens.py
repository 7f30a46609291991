"""Tokens: lifetimes, pinned algorithm, rotation with reuse detection, logout, a change of roles counts on the next
request."""
from datetime import timedelta

import jwt as pyjwt
import pytest
from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from flask_jwt_extended.exceptions import FreshTokenRequired
from sqlalchemy import select

from app.auth import service as auth_service
from app.auth.access import ensure_acts_on, require
from app.auth.models import RefreshToken, RevokedToken, RoleGrant, SmsCode, User
from app.common.time import utcnow
from app.errors import Forbidden
from tests import factories
from tests.auth_flows import LOGIN_PASSWORD, LOGOUT, ME, REFRESH, bearer, claims, count, envelope, sign_in

PHONE = "13912345678"


def _refresh_rows(db) -> list[RefreshToken]:
    db.session.expire_all()
    return db.session.execute(select(RefreshToken).order_by(RefreshToken.expires_at)).scalars().all()


def _forge(payload: dict, key: str | None = None, algorithm: str = "HS256") -> str:
    return pyjwt.encode(payload, key if key is not None else current_app.config["JWT_SECRET_KEY"], algorithm=algorithm)


def test_lifetimes_algorithm_and_claims(client):
    body = sign_in(client, PHONE)
    access, refresh = body["access_token"], body["refresh_token"]
    assert pyjwt.get_unverified_header(access)["alg"] == "HS256"
    assert pyjwt.get_unverified_header(refresh)["alg"] == "HS256"
    a, r = claims(access), claims(refresh)
    assert a["exp"] - a["iat"] == 15 * 60 and r["exp"] - r["iat"] == 30 * 86400
    assert a["sub"] == r["sub"] == body["user"]["id"] and isinstance(a["sub"], str)
    assert a["type"] == "access" and r["type"] == "refresh"
    assert a["fresh"] is True and a["fam"] == r["fam"] and a["jti"] != r["jti"]
    assert client.get(ME, headers=bearer(access)).get_json()["id"] == body["user"]["id"]


def test_me_shows_the_user(client, db):
    user = factories.user(roles=[("organiser", "440106"), ("resident", "4401")], phone_number=PHONE)
    r = client.get(ME, headers=factories.auth_headers(user))
    assert r.status_code == 200
    assert r.get_json()["id"] == str(user.id) and r.get_json()["phone"] == "139****5678"
    assert r.get_json()["roles"] == [{"role": "organiser", "area": "440106"}, {"role": "resident", "area": "4401"}]


@pytest.mark.parametrize("make", [
    pytest.param(lambda p: _forge(p, key="", algorithm="none"), id="alg-none"),
    pytest.param(lambda p: _forge(p, key="another-key-that-is-long-enough-0123456789"), id="other-key"),
    pytest.param(lambda p: _forge(p, algorithm="HS512"), id="HS512-right-key",
                 marks=pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")),
    pytest.param(lambda p: _forge({**p, "sub": int(p["sub"])}), id="sub-not-a-string"),
    pytest.param(lambda p: _forge({k: v for k, v in p.items() if k != "exp"}) + "x", id="bad-signature"),
    pytest.param(lambda p: "not.a.jwt", id="garbage"),
    pytest.param(lambda p: "", id="bearer-without-token"),
])
def test_forged_tokens_are_401_token_invalid(client, db, make):
    user = factories.user()
    good = claims(create_access_token(identity=str(user.id), fresh=True, additional_claims={"fam": "f"}))
    r = client.get(ME, headers=bearer(make(good)))
    envelope(r, 401, "token_invalid")
    assert r.get_json()["code"] == 401


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": ""}])
def test_missing_token_is_401_token_missing(client, headers):
    envelope(client.get(ME, headers=headers), 401, "token_missing")
    envelope(client.post(LOGOUT, headers=headers), 401, "token_missing")
    envelope(client.post(REFRESH, headers=headers), 401, "token_missing")


def test_expired_token_is_401_token_expired_beyond_small_leeway(client, db):
    user = factories.user()
    just = create_access_token(identity=str(user.id), expires_delta=timedelta(seconds=-3))
    assert client.get(ME, headers=bearer(just)).status_code == 200  # within the clock leeway
    old = create_access_token(identity=str(user.id), expires_delta=timedelta(seconds=-60))
    envelope(client.get(ME, headers=bearer(old)), 401, "token_expired")
    old_refresh = create_refresh_token(identity=str(user.id), expires_delta=timedelta(seconds=-60))
    envelope(client.post(REFRESH, headers=bearer(old_refresh)), 401, "token_expired")


def test_token_types_are_not_interchangeable(client, db):
    body = sign_in(client, PHONE)
    envelope(client.get(ME, headers=bearer(body["refresh_token"])), 401, "token_invalid")
    envelope(client.post(LOGOUT, headers=bearer(body["refresh_token"])), 401, "token_invalid")
    envelope(client.post(REFRESH, headers=bearer(body["access_token"])), 401, "token_invalid")
    [row] = _refresh_rows(db)
    assert row.used_at is None and row.revoked_at is None and count(db, RevokedToken) == 0


def test_refresh_rotates(client, db):
    body = sign_in(client, PHONE)
    r = client.post(REFRESH, headers=bearer(body["refresh_token"]))
    assert r.status_code == 200
    pair = r.get_json()
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert pair["refresh_token"] != body["refresh_token"] and pair["access_token"] != body["access_token"]
    old, new = claims(body["refresh_token"]), claims(pair["refresh_token"])
    assert new["fam"] == old["fam"] and new["sub"] == old["sub"]
    assert new["exp"] - new["iat"] == 30 * 86400
    access = claims(pair["access_token"])
    assert access["fresh"] is False and access["exp"] - access["iat"] == 15 * 60
    rows = {row.jti: row for row in _refresh_rows(db)}
    assert rows[old["jti"]].used_at is not None and rows[new["jti"]].used_at is None
    assert rows[new["jti"]].family == old["fam"] and not any(row.revoked_at for row in rows.values())
    assert client.get(ME, headers=bearer(pair["access_token"])).status_code == 200
    # and the new refresh token rotates in turn
    assert client.post(REFRESH, headers=bearer(pair["refresh_token"])).status_code == 200


def test_reused_refresh_token_kills_its_family(client, db, clock):
    body = sign_in(client, PHONE)
    pair = client.post(REFRESH, headers=bearer(body["refresh_token"])).get_json()
    clock.advance(seconds=11)  # past the grace window for parallel refreshes
    envelope(client.post(REFRESH, headers=bearer(body["refresh_token"])), 401, "token_reused")
    rows = _refresh_rows(db)
    assert len(rows) == 2 and all(row.revoked_at is not None for row in rows)
    # the thief's (or the owner's) newer tokens from that sign-in are dead too
    envelope(client.post(REFRESH, headers=bearer(pair["refresh_token"])), 401, "token_revoked")
    envelope(client.get(ME, headers=bearer(pair["access_token"])), 401, "token_revoked")
    envelope(client.get(ME, headers=bearer(body["access_token"])), 401, "token_revoked")
    assert len(_refresh_rows(db)) == 2


def test_other_sign_ins_survive_a_family_revocation(client, db, clock):
    first = sign_in(client, PHONE)
    clock.advance(seconds=61)
    second = sign_in(client, PHONE)
    client.post(REFRESH, headers=bearer(first["refresh_token"]))
    clock.advance(seconds=11)
    envelope(client.post(REFRESH, headers=bearer(first["refresh_token"])), 401, "token_reused")
    assert client.get(ME, headers=bearer(second["access_token"])).status_code == 200
    assert client.post(REFRESH, headers=bearer(second["refresh_token"])).status_code == 200


def test_logout_revokes_access_and_refresh(client, db):
    body = sign_in(client, PHONE)
    r = client.post(LOGOUT, headers=bearer(body["access_token"]))
    assert r.status_code == 200 and r.get_json() == {"status": "logged_out"}
    access = claims(body["access_token"])
    assert db.session.get(RevokedToken, access["jti"]) is not None
    assert all(row.revoked_at is not None for row in _refresh_rows(db))
    envelope(client.get(ME, headers=bearer(body["access_token"])), 401, "token_revoked")
    envelope(client.post(LOGOUT, headers=bearer(body["access_token"])), 401, "token_revoked")
    envelope(client.post(REFRESH, headers=bearer(body["refresh_token"])), 401, "token_revoked")
    assert len(_refresh_rows(db)) == 1


def test_logout_after_refresh_revokes_the_whole_sign_in(client, db):
    body = sign_in(client, PHONE)
    pair = client.post(REFRESH, headers=bearer(body["refresh_token"])).get_json()
    assert client.post(LOGOUT, headers=bearer(pair["access_token"])).status_code == 200
    envelope(client.get(ME, headers=bearer(body["access_token"])), 401, "token_revoked")
    envelope(client.post(REFRESH, headers=bearer(pair["refresh_token"])), 401, "token_revoked")
    assert all(row.revoked_at is not None for row in _refresh_rows(db))


def test_refresh_token_without_a_record_is_rejected(client, db):
    user = factories.user()
    stray = create_refresh_token(identity=str(user.id), additional_claims={"fam": "no-such-family"})
    envelope(client.post(REFRESH, headers=bearer(stray)), 401, "token_invalid")
    assert count(db, RefreshToken) == 0


def test_removed_grant_is_denied_on_the_next_request(app, client, db):
    user = factories.user(roles=[("organiser", "440106"), ("resident", "4401")])
    headers = factories.auth_headers(user)
    guarded = require("organiser")(lambda: "ok")
    with app.test_request_context(headers=headers):
        assert guarded() == "ok"
    auth_service.revoke_role(user=db.session.get(User, user.id), role="organiser")
    db.session.commit()
    with app.test_request_context(headers=headers):
        with pytest.raises(Forbidden) as denied:
            guarded()
    assert denied.value.error == "role_forbidden"
    assert client.get(ME, headers=headers).get_json()["roles"] == [{"role": "resident", "area": "4401"}]


def test_added_grant_counts_on_the_next_request(app, client, db):
    user = factories.user(roles=[("resident", "4401")])
    headers = factories.auth_headers(user)
    db.session.add(RoleGrant(user_id=user.id, role="admin", area_code="4401"))
    db.session.commit()
    with app.test_request_context(headers=headers):
        assert require("admin")(lambda: "ok")() == "ok"


def test_disabled_user_is_401_with_a_valid_token(client, db):
    body = sign_in(client, PHONE)
    db.session.scalars(select(User)).one().is_active = False
    db.session.commit()
    envelope(client.get(ME, headers=bearer(body["access_token"])), 401, "account_disabled")
    envelope(client.post(REFRESH, headers=bearer(body["refresh_token"])), 401, "account_disabled")
    [row] = _refresh_rows(db)
    assert row.used_at is None


def test_deleted_user_is_401(client, db):
    body = sign_in(client, PHONE)
    db.session.delete(db.session.scalars(select(User)).one())
    db.session.commit()
    envelope(client.get(ME, headers=bearer(body["access_token"])), 401, "user_not_found")


def test_auth_routes_are_rate_limited_with_the_envelope(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_AUTH", "2 per minute")
    for _ in range(2):
        envelope(client.post(LOGIN_PASSWORD, json={"username": "nobody", "password": "x"}), 401,
                 "credentials_invalid")
    r = client.post(LOGIN_PASSWORD, json={"username": "nobody", "password": "x"})
    envelope(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0
    # per client address: another one is not held up
    other = client.post(LOGIN_PASSWORD, json={"username": "nobody", "password": "x"},
                        environ_base={"REMOTE_ADDR": "10.9.9.9"})
    envelope(other, 401, "credentials_invalid")


@pytest.mark.postgres
def test_concurrent_refreshes_with_one_token_issue_one_pair(app, client, db, concurrently):
    body = sign_in(client, PHONE)

    def refresh(_):
        r = app.test_client().post(REFRESH, headers=bearer(body["refresh_token"]))
        return r.status_code, r.get_json()

    results = concurrently(refresh, 4)
    assert [status for status, _ in results] == [200] * 4
    assert len({pair["refresh_token"] for _, pair in results}) == 1  # one new pair, handed to every caller
    rows = _refresh_rows(db)
    assert len(rows) == 2 and not any(row.revoked_at for row in rows)


def test_second_refresh_within_grace_gets_the_same_pair(client, db, clock):
    body = sign_in(client, PHONE)
    first = client.post(REFRESH, headers=bearer(body["refresh_token"]))
    clock.advance(seconds=3)
    second = client.post(REFRESH, headers=bearer(body["refresh_token"]))
    assert first.status_code == second.status_code == 200 and second.get_json() == first.get_json()
    rows = _refresh_rows(db)
    assert len(rows) == 2 and not any(row.revoked_at for row in rows)
    assert all(b"refresh_token" not in (row.successor_enc or b"") for row in rows)  # stored encrypted
    pair = second.get_json()
    assert client.get(ME, headers=bearer(pair["access_token"])).status_code == 200
    assert client.post(REFRESH, headers=bearer(pair["refresh_token"])).status_code == 200
    # outside the window, the same old token is reuse: the whole sign-in is revoked
    clock.advance(seconds=10)
    envelope(client.post(REFRESH, headers=bearer(body["refresh_token"])), 401, "token_reused")
    envelope(client.get(ME, headers=bearer(pair["access_token"])), 401, "token_revoked")


def test_fresh_token_required_is_not_a_401(app, client, db):
    body = sign_in(client, PHONE)
    pair = client.post(REFRESH, headers=bearer(body["refresh_token"])).get_json()
    r = client.delete("/api/v1/volunteers/me", headers=bearer(pair["access_token"]))
    envelope(r, 403, "fresh_token_required")  # an interceptor that refreshes on 401 would loop here


def test_purge_deletes_only_what_expired(app, db):
    user, now = factories.user(), utcnow()
    past, future = now - timedelta(seconds=1), now + timedelta(minutes=5)
    db.session.add_all([RevokedToken(jti="gone", expires_at=past), RevokedToken(jti="kept", expires_at=future),
                        RefreshToken(jti="r-gone", family="f", user_id=user.id, expires_at=past),
                        RefreshToken(jti="r-kept", family="f", user_id=user.id, expires_at=future)])
    for age in (timedelta(days=1, seconds=1), timedelta(hours=23)):
        db.session.add(SmsCode(phone_hash="p", code_hash="c", ip="10.0.0.1", created_at=now - age,
                               expires_at=now - age + timedelta(minutes=5)))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["auth", "purge"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "revoked_tokens: 1 deleted, refresh_tokens: 1 deleted, sms_codes: 1 deleted"
    db.session.expire_all()
    assert db.session.execute(select(RevokedToken.jti)).scalars().all() == ["kept"]
    assert [row.jti for row in _refresh_rows(db)] == ["r-kept"]
    assert [row.created_at > now - timedelta(days=1) for row in db.session.execute(select(SmsCode)).scalars()] == [True]


@pytest.mark.parametrize("area, allowed", [("440106", True), ("440106001", True), ("44010600100101", True),
                                           ("440103", False), ("4401", False), ("44010", False)])
def test_a_grant_covers_its_area_and_everything_below(app, db, area, allowed):
    user = factories.user(roles=[("organiser", "440106"), ("resident", "4401")])
    with app.test_request_context(headers=factories.auth_headers(user)):
        guarded = require("organiser")(lambda: ensure_acts_on(area, "organiser") or "ok")
        if allowed:
            assert guarded() == "ok"
        else:
            with pytest.raises(Forbidden) as denied:
                guarded()
            assert denied.value.error == "area_forbidden"
        # the resident grant over the whole city gives no organiser rights
        assert not user.acts_on(area, "admin", "health_official")


def test_refreshed_token_is_not_fresh_enough_for_sensitive_actions(app, client, db):
    body = sign_in(client, PHONE)
    pair = client.post(REFRESH, headers=bearer(body["refresh_token"])).get_json()
    sensitive = require(fresh=True)(lambda: "ok")
    with app.test_request_context(headers=bearer(body["access_token"])):
        assert sensitive() == "ok"
    with app.test_request_context(headers=bearer(pair["access_token"])):
        with pytest.raises(FreshTokenRequired) as info:
            sensitive()
        envelope(app.handle_user_exception(info.value), 403, "fresh_token_required")
