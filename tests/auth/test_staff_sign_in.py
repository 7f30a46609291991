"""Staff sign-in: a per-username lockout with backoff on top of the per-IP limit, and a TOTP second factor that
admins and health officials enrol and then give at every sign-in (time frozen)."""
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from app.auth.models import RefreshToken, SignInFailure, User
from tests import factories
from tests.auth_flows import LOGIN_PASSWORD, count, envelope, send_code
from tests.clock import NOW

PASSWORD = "correct-horse-battery"
ENROL, CONFIRM = "/api/v1/auth/totp/enrolment", "/api/v1/auth/totp/enrolment/confirm"


def _login(client, username="wang", password=PASSWORD, **extra):
    return client.post(LOGIN_PASSWORD, json={"username": username, "password": password, **extra})


def _failures(db, username="wang"):
    from app.auth import lockout

    db.session.expire_all()
    return db.session.get(SignInFailure, lockout._key(username))


@pytest.mark.parametrize("username", ["wang", "nobody-at-all"])
def test_a_username_is_locked_after_five_failures_with_doubling_backoff(client, db, clock, username):
    factories.user(roles=[("organiser", "440106")], username="wang", password=PASSWORD)
    for _ in range(5):
        envelope(_login(client, username, "wrong-password-1"), 401, "credentials_invalid")
    locked = envelope(_login(client, username), 429, "sign_in_locked")  # even the right password
    assert locked["retry_after"] == 60 and _failures(db, username).failures == 5
    clock.advance(seconds=61)
    envelope(_login(client, username, "wrong-password-1"), 401, "credentials_invalid")  # the 6th: two minutes
    clock.advance(seconds=61)
    assert envelope(_login(client, username), 429, "sign_in_locked")["retry_after"] == 59
    clock.advance(seconds=60)
    if username == "wang":
        assert _login(client).status_code == 200
        assert _failures(db) is None  # a good sign-in forgets the failures
    assert count(db, RefreshToken) == (1 if username == "wang" else 0)


def test_other_usernames_are_not_locked(client, db, clock):
    factories.user(roles=[("organiser", "440106")], username="wang", password=PASSWORD)
    for _ in range(6):
        _login(client, "mallory", "guess-guess-1")
    assert _login(client).status_code == 200


def test_failures_older_than_a_day_are_forgotten(client, db, clock):
    factories.user(roles=[("organiser", "440106")], username="wang", password=PASSWORD)
    for _ in range(4):
        _login(client, "wang", "wrong-password-1")
    clock.advance(days=1, seconds=1)
    _login(client, "wang", "wrong-password-1")
    assert _failures(db).failures == 1 and _failures(db).locked_until is None


@pytest.fixture
def official():
    return factories.user(roles=[("health_official", "4401")], username="zhao", password=PASSWORD)


def _enrol(client, db, clock, username="zhao") -> pyotp.TOTP:
    r = client.post(ENROL, json={"username": username, "password": PASSWORD})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    totp = pyotp.TOTP(body["secret"])
    assert body["otpauth_uri"].startswith("otpauth://totp/") and body["secret"] in body["otpauth_uri"]
    r = client.post(CONFIRM, json={"username": username, "password": PASSWORD, "totp": totp.at(clock.now)})
    assert r.status_code == 200 and r.get_json() == {"status": "enrolled"}
    return totp


@pytest.mark.parametrize("role", ["admin", "health_official"])
def test_admins_and_officials_cannot_sign_in_before_enrolling(client, db, clock, role):
    factories.user(roles=[(role, "4401")], username="zhao", password=PASSWORD)
    envelope(_login(client, "zhao"), 401, "totp_enrolment_required")
    assert count(db, RefreshToken) == 0


def test_enrolment_then_every_sign_in_needs_a_fresh_code(client, db, clock, official):
    totp = _enrol(client, db, clock)
    db.session.expire_all()
    row = db.session.get(User, official.id)
    assert row.totp_enabled_at == NOW and totp.secret.encode() not in row.totp_secret_enc  # encrypted at rest
    envelope(_login(client, "zhao"), 401, "totp_required")
    clock.advance(seconds=30)
    envelope(_login(client, "zhao", totp=f"{(int(totp.at(clock.now)) + 1) % 10**6:06d}"), 401, "totp_invalid")
    good = totp.at(clock.now)
    r = _login(client, "zhao", totp=good)
    assert r.status_code == 200 and r.get_json()["user"]["username"] == "zhao"
    envelope(_login(client, "zhao", totp=good), 401, "totp_invalid")  # a code is good once
    clock.advance(seconds=30)
    assert _login(client, "zhao", totp=totp.at(clock.now)).status_code == 200
    assert _login(client, "zhao", totp=totp.at(clock.now + timedelta(seconds=30))).status_code == 200  # drift
    assert count(db, RefreshToken) == 3


def test_enrolment_needs_the_password_and_happens_once(client, db, clock, official):
    envelope(client.post(ENROL, json={"username": "zhao", "password": "wrong-password-1"}), 401,
             "credentials_invalid")
    _enrol(client, db, clock)
    envelope(client.post(ENROL, json={"username": "zhao", "password": PASSWORD}), 409, "totp_already_enrolled")
    envelope(client.post(CONFIRM, json={"username": "zhao", "password": PASSWORD, "totp": "123456"}), 409,
             "totp_not_pending")


def test_wrong_codes_count_towards_the_lockout(client, db, clock, official):
    _enrol(client, db, clock)
    for _ in range(5):
        envelope(_login(client, "zhao", totp="000000"), 401, "totp_invalid")
    envelope(_login(client, "zhao", totp=pyotp.TOTP("A" * 32).now()), 429, "sign_in_locked")


def test_organisers_sign_in_without_a_second_factor(client, db, clock):
    factories.user(roles=[("organiser", "440106")], username="wang", password=PASSWORD)
    assert _login(client).status_code == 200


def test_a_phone_account_holding_an_official_role_needs_the_factor_too(client, db, clock):
    phone = factories.phone()
    factories.user(roles=[("resident", "4401"), ("health_official", "4401")], phone_number=phone)
    code = send_code(client, phone)
    envelope(client.post("/api/v1/auth/login/sms", json={"phone": phone, "code": code}), 401,
             "totp_enrolment_required")
    assert count(db, RefreshToken) == 0


def test_reset_totp_makes_the_account_enrol_again(app, client, db, clock, official):
    _enrol(client, db, clock)
    result = app.test_cli_runner().invoke(args=["users", "reset-totp", "zhao"])
    assert result.exit_code == 0, result.output
    envelope(_login(client, "zhao"), 401, "totp_enrolment_required")
    db.session.expire_all()
    assert db.session.execute(select(User.totp_secret_enc).where(User.id == official.id)).scalar() is None


@pytest.mark.postgres
def test_concurrent_failures_are_all_counted(app, db, clock, concurrently):
    def fail(_i):
        r = app.test_client().post(LOGIN_PASSWORD, json={"username": "race", "password": "wrong-password-1"})
        return r.status_code

    assert concurrently(fail, 4) == [401] * 4
    assert _failures(db, "race").failures == 4
