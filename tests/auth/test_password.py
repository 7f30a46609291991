"""Staff: `flask users create` and password sign-in."""
import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from app.auth import service
from app.auth.models import RefreshToken, RoleGrant, User
from tests import factories
from tests.auth_flows import LOGIN_PASSWORD, ME, bearer, claims, count, envelope

PASSWORD = "correct-horse-battery"


def _create(app, *args):
    return app.test_cli_runner().invoke(args=["users", "create", *args])


def _staff(db) -> list[User]:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.username.is_not(None))).scalars().all()


def test_cli_creates_staff_with_a_slow_kdf(app, db):
    result = _create(app, "--username", "wang", "--password", PASSWORD, "--role", "organiser", "--area", "440106")
    assert result.exit_code == 0, result.output
    assert "wang" in result.output and PASSWORD not in result.output
    [user] = _staff(db)
    assert user.phone_hash is None and user.is_active
    assert PASSWORD not in user.password_hash and check_password_hash(user.password_hash, PASSWORD)
    method, salt, digest = user.password_hash.split("$")
    kdf, *params = method.split(":")
    assert kdf == "scrypt" and int(params[0]) >= 2**15  # memory-hard, not a fast hash
    assert len(salt) >= 16 and len(digest) >= 64
    grants = db.session.execute(select(RoleGrant.role, RoleGrant.area_code).where(RoleGrant.user_id == user.id)).all()
    assert grants == [("organiser", "440106")]


def test_cli_adds_a_role_to_existing_staff(app, db):
    _create(app, "--username", "wang", "--password", PASSWORD, "--role", "organiser", "--area", "440106")
    result = _create(app, "--username", "wang", "--password", PASSWORD, "--role", "venue_staff", "--area", "4401")
    assert result.exit_code == 0, result.output
    [user] = _staff(db)
    grants = db.session.execute(select(RoleGrant.role, RoleGrant.area_code).where(RoleGrant.user_id == user.id)
                                .order_by(RoleGrant.role)).all()
    assert grants == [("organiser", "440106"), ("venue_staff", "4401")]


@pytest.mark.parametrize("args, needle", [
    (["--role", "emperor", "--area", "4401"], "角色"),
    (["--role", "resident", "--area", "4401"], "角色"),
    (["--role", "organiser", "--area", "440199"], "区域"),
    (["--role", "organiser", "--area", "abc"], "区域"),
])
def test_cli_refuses_bad_role_or_area_and_creates_nothing(app, db, args, needle):
    result = _create(app, "--username", "wang", "--password", PASSWORD, *args)
    assert result.exit_code != 0 and needle in result.output
    assert _staff(db) == [] and count(db, RoleGrant) == 0


def test_cli_refuses_short_password(app, db):
    result = _create(app, "--username", "wang", "--password", "short", "--role", "admin")
    assert result.exit_code != 0 and "密码" in result.output
    assert _staff(db) == []


def test_cli_requires_its_options(app, db):
    result = _create(app, "--username", "wang", "--role", "admin")
    assert result.exit_code != 0 and "--password" in result.output
    assert _staff(db) == []


def test_password_login(app, client, db):
    _create(app, "--username", "wang", "--password", PASSWORD, "--role", "organiser", "--area", "440106")
    r = client.post(LOGIN_PASSWORD, json={"username": "wang", "password": PASSWORD})
    assert r.status_code == 200
    body = r.get_json()
    assert body["user"]["username"] == "wang" and body["user"]["phone"] is None
    assert body["user"]["roles"] == [{"role": "organiser", "area": "440106"}]
    assert "password" not in r.get_data(as_text=True)
    access = claims(body["access_token"])
    assert access["fresh"] is True and access["sub"] == body["user"]["id"]
    [user] = _staff(db)
    assert user.last_login_at is not None and count(db, RefreshToken) == 1
    assert client.get(ME, headers=bearer(body["access_token"])).get_json()["username"] == "wang"


@pytest.mark.parametrize("username, password", [("wang", "wrong-password-123"), ("nobody", PASSWORD),
                                                ("WANG", PASSWORD)])
def test_wrong_credentials_get_one_answer(app, client, db, username, password):
    _create(app, "--username", "wang", "--password", PASSWORD, "--role", "admin")
    body = envelope(client.post(LOGIN_PASSWORD, json={"username": username, "password": password}), 401,
                    "credentials_invalid")
    assert set(body) == {"code", "status", "error", "message"}
    assert count(db, RefreshToken) == 0 and _staff(db)[0].last_login_at is None


def test_unknown_user_still_pays_for_a_hash(client, db, monkeypatch):
    checked = []
    real = service.check_password_hash
    monkeypatch.setattr(service, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    envelope(client.post(LOGIN_PASSWORD, json={"username": "nobody", "password": PASSWORD}), 401,
             "credentials_invalid")
    assert len(checked) == 1  # same work as a wrong password: the answer's timing does not reveal usernames


def test_account_without_a_staff_role_cannot_use_a_password(client, db):
    factories.user(roles=[("resident", "4401")], username="li", password=PASSWORD)
    envelope(client.post(LOGIN_PASSWORD, json={"username": "li", "password": PASSWORD}), 401,
             "credentials_invalid")
    assert count(db, RefreshToken) == 0


def test_disabled_staff_cannot_sign_in(app, client, db):
    _create(app, "--username", "wang", "--password", PASSWORD, "--role", "admin")
    _staff(db)[0].is_active = False
    db.session.commit()
    envelope(client.post(LOGIN_PASSWORD, json={"username": "wang", "password": PASSWORD}), 401, "account_disabled")
    assert count(db, RefreshToken) == 0 and _staff(db)[0].last_login_at is None


@pytest.mark.parametrize("body", [{}, {"username": "wang"}, {"username": "", "password": "x"},
                                  {"username": "wang", "password": "x", "role": "admin"}])
def test_malformed_password_login_is_422(client, db, body):
    envelope(client.post(LOGIN_PASSWORD, json=body), 422, "validation_failed")
    assert count(db, RefreshToken) == 0
