"""The roles that need a second factor (admin, health official) act only through a sign-in that passed one: a
token from a sign-in without TOTP, or refreshed from one, keeps the account's other roles but never those, even
when they are granted after it signed in. Time frozen."""
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from app.auth import second_factor
from app.auth.models import RoleGrant, User
from tests import factories

PASSWORD = "correct-horse-battery"
OFFICIALS_ONLY = "/api/v1/admin/health-codes/999999/history"  # for health officials: 404, no such code


pytestmark = pytest.mark.usefixtures("clock")


def _sign_in(client, username, totp=None):
    body = {"username": username, "password": PASSWORD} | ({"totp": totp} if totp else {})
    r = client.post("/api/v1/auth/login/password", json=body)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _organiser(db, *more_roles, username="chen"):
    user = factories.user(roles=[("organiser", "440106"), *more_roles], username=username, password=PASSWORD)
    db.session.commit()
    return user


def _grant_official(db, user):
    db.session.add(RoleGrant(user_id=user.id, role="health_official", area_code="4401"))
    db.session.commit()


def test_official_role_granted_after_sign_in_is_not_used_by_that_sign_in_or_its_refreshes(client, db):
    user = _organiser(db)
    pair = _sign_in(client, "chen")
    stats = "/api/v1/stats/volunteers?area=440106&by=street"
    assert client.get(stats, headers=_bearer(pair["access_token"])).status_code == 200
    _grant_official(db, user)

    r = client.get(OFFICIALS_ONLY, headers=_bearer(pair["access_token"]))
    assert (r.status_code, r.get_json()["error"]) == (403, "role_forbidden")
    refreshed = client.post("/api/v1/auth/refresh", headers=_bearer(pair["refresh_token"])).get_json()
    r = client.get(OFFICIALS_ONLY, headers=_bearer(refreshed["access_token"]))
    assert (r.status_code, r.get_json()["error"]) == (403, "role_forbidden")
    assert client.get(stats, headers=_bearer(refreshed["access_token"])).status_code == 200  # the rest still works

    r = client.post("/api/v1/auth/login/password", json={"username": "chen", "password": PASSWORD})
    assert (r.status_code, r.get_json()["error"]) == (401, "totp_enrolment_required")


def test_a_sign_in_with_the_second_factor_acts_as_official_and_so_do_its_refreshes(client, db, clock):
    _organiser(db, ("health_official", "4401"))
    account = db.session.execute(select(User).where(User.username == "chen")).scalar_one()
    totp = pyotp.TOTP(second_factor.start_enrolment(account)["secret"])
    now = clock.now  # the authenticator's codes at the time the server sees
    second_factor.confirm_enrolment(account, totp.at(now))
    db.session.commit()

    pair = _sign_in(client, "chen", totp.at(now + timedelta(seconds=30)))  # the confirming code is spent
    assert client.get(OFFICIALS_ONLY, headers=_bearer(pair["access_token"])).status_code == 404
    refreshed = client.post("/api/v1/auth/refresh", headers=_bearer(pair["refresh_token"])).get_json()
    assert client.get(OFFICIALS_ONLY, headers=_bearer(refreshed["access_token"])).status_code == 404
