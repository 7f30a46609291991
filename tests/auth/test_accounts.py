"""Account tools: `flask users disable|enable|revoke-role|reset-password` and /admin/users/…, each effective on the
account's very next request (cached principal dropped, every sign-in revoked); account ids are random."""
import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from app.auth.models import RefreshToken, RoleGrant, User
from tests import factories
from tests.auth_flows import LOGIN_PASSWORD, ME, REFRESH, bearer, envelope, sign_in

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "new-horse-battery-staple"
VOLUNTEERS = "/api/v1/volunteers?area=440106"


@pytest.fixture
def wang(client):
    """An organiser over 天河 signed in by password: (user, login body)."""
    user = factories.user(roles=[("organiser", "440106")], username="wang", password=PASSWORD)
    r = client.post(LOGIN_PASSWORD, json={"username": "wang", "password": PASSWORD})
    assert r.status_code == 200
    body = r.get_json()
    assert client.get(VOLUNTEERS, headers=bearer(body["access_token"])).status_code == 200  # principal cached
    return user, body


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["users", *args])


def _row(db, user_id) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def _all_revoked(db, user_id) -> bool:
    rows = db.session.execute(select(RefreshToken.revoked_at).where(RefreshToken.user_id == user_id)).scalars().all()
    return bool(rows) and all(rows)


def test_cli_disable_is_effective_on_the_next_request(app, client, db, wang):
    user, body = wang
    result = _cli(app, "disable", "wang")
    assert result.exit_code == 0 and "disabled" in result.output, result.output
    envelope(client.get(ME, headers=bearer(body["access_token"])), 401, "token_revoked")
    envelope(client.get(ME, headers=factories.auth_headers(user)), 401, "account_disabled")
    assert client.post(REFRESH, headers=bearer(body["refresh_token"])).status_code == 401
    envelope(client.post(LOGIN_PASSWORD, json={"username": "wang", "password": PASSWORD}), 401, "account_disabled")
    assert not _row(db, user.id).is_active and _all_revoked(db, user.id)


def test_cli_enable_lets_the_account_sign_in_again_but_old_sign_ins_stay_revoked(app, client, db, wang):
    user, body = wang
    _cli(app, "disable", f"id:{user.id}")
    result = _cli(app, "enable", f"id:{user.id}")
    assert result.exit_code == 0 and "active" in result.output, result.output
    envelope(client.get(ME, headers=bearer(body["access_token"])), 401, "token_revoked")
    assert client.post(LOGIN_PASSWORD, json={"username": "wang", "password": PASSWORD}).status_code == 200
    assert _row(db, user.id).is_active


def test_cli_revoke_role_is_effective_on_the_next_request(app, client, db, wang):
    user, body = wang
    other_token = factories.auth_headers(user)  # a token of no recorded sign-in: only the principal can stop it
    assert client.get(VOLUNTEERS, headers=other_token).status_code == 200
    result = _cli(app, "revoke-role", "wang", "--role", "organiser")
    assert result.exit_code == 0, result.output
    envelope(client.get(VOLUNTEERS, headers=factories.auth_headers(user)), 403, "role_forbidden")
    envelope(client.get(ME, headers=bearer(body["access_token"])), 401, "token_revoked")
    assert db.session.execute(select(RoleGrant).where(RoleGrant.user_id == user.id)).all() == []


def test_cli_revoke_role_of_a_role_not_held_fails(app, db, wang):
    result = _cli(app, "revoke-role", "wang", "--role", "admin")
    assert result.exit_code != 0 and "没有这个角色" in result.output
    assert _row(db, wang[0].id).grants[0].role == "organiser"


def test_cli_reset_password_signs_out_and_lifts_the_lockout(app, client, db, wang):
    user, body = wang
    for _ in range(5):
        client.post(LOGIN_PASSWORD, json={"username": "wang", "password": "wrong-password-1"})
    result = _cli(app, "reset-password", "wang", "--password", NEW_PASSWORD)
    assert result.exit_code == 0 and NEW_PASSWORD not in result.output, result.output
    envelope(client.get(ME, headers=bearer(body["access_token"])), 401, "token_revoked")
    envelope(client.post(LOGIN_PASSWORD, json={"username": "wang", "password": PASSWORD}), 401,
             "credentials_invalid")
    assert client.post(LOGIN_PASSWORD, json={"username": "wang", "password": NEW_PASSWORD}).status_code == 200
    assert check_password_hash(_row(db, user.id).password_hash, NEW_PASSWORD)


def test_cli_reset_password_prompts_and_refuses_short_ones(app, db, wang):
    result = _cli(app, "reset-password", "wang", "--password", "short")
    assert result.exit_code != 0 and "密码" in result.output
    result = app.test_cli_runner().invoke(args=["users", "reset-password", "wang"],
                                          input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0 and check_password_hash(_row(db, wang[0].id).password_hash, NEW_PASSWORD)


def test_cli_names_an_unknown_account(app):
    result = _cli(app, "disable", "nobody")
    assert result.exit_code != 0 and "用户不存在" in result.output


@pytest.fixture
def city_admin():
    user = factories.user(roles=[("admin", "4401")], username="boss", password=PASSWORD)
    return user, factories.auth_headers(user)


def test_admin_api_disable_enable(client, db, wang, city_admin):
    user, body = wang
    r = client.post(f"/api/v1/admin/users/{user.id}/disable", headers=city_admin[1])
    assert r.status_code == 200 and r.get_json()["is_active"] is False and r.get_json()["id"] == str(user.id)
    envelope(client.get(ME, headers=bearer(body["access_token"])), 401, "token_revoked")
    envelope(client.get(ME, headers=factories.auth_headers(user)), 401, "account_disabled")
    assert _all_revoked(db, user.id)
    r = client.post(f"/api/v1/admin/users/{user.id}/enable", headers=city_admin[1])
    assert r.status_code == 200 and r.get_json()["is_active"] is True and _row(db, user.id).is_active


def test_admin_api_revoke_role_and_reset_password(client, db, wang, city_admin):
    user, body = wang
    r = client.post(f"/api/v1/admin/users/{user.id}/roles/revoke", json={"role": "organiser", "area": "440106"},
                    headers=city_admin[1])
    assert r.status_code == 200 and r.get_json()["roles"] == []
    envelope(client.get(VOLUNTEERS, headers=factories.auth_headers(user)), 403, "role_forbidden")
    r = client.post(f"/api/v1/admin/users/{user.id}/password", json={"password": NEW_PASSWORD},
                    headers=city_admin[1])
    assert r.status_code == 200 and "password" not in r.get_data(as_text=True)
    assert check_password_hash(_row(db, user.id).password_hash, NEW_PASSWORD)


def test_admin_api_refuses_accounts_outside_the_admins_areas_and_itself(client, db, wang, city_admin, login):
    district_admin, headers = login("admin", "440103")  # 荔湾
    envelope(client.post(f"/api/v1/admin/users/{wang[0].id}/disable", headers=headers), 403, "area_forbidden")
    envelope(client.post(f"/api/v1/admin/users/{city_admin[0].id}/disable", headers=headers), 403,
             "area_forbidden")
    envelope(client.post(f"/api/v1/admin/users/{city_admin[0].id}/disable", headers=city_admin[1]), 403,
             "self_forbidden")
    envelope(client.post(f"/api/v1/admin/users/{wang[0].id}/disable",
                         headers=factories.auth_headers(city_admin[0], fresh=False)), 403, "fresh_token_required")
    envelope(client.post("/api/v1/admin/users/987654321/disable", headers=city_admin[1]), 404, "user_not_found")
    assert _row(db, wang[0].id).is_active and _row(db, city_admin[0].id).is_active


def test_account_ids_are_random(app, client, db):
    ids = [int(sign_in(client, factories.phone())["user"]["id"]) for _ in range(3)]
    result = _cli(app, "create", "--username", "li", "--password", PASSWORD, "--role", "organiser")
    assert result.exit_code == 0
    ids.append(db.session.execute(select(User.id).where(User.username == "li")).scalar())
    assert all(i > 2**32 for i in ids), ids
    assert sorted(ids) != list(range(min(ids), min(ids) + 4))


def test_imported_accounts_have_random_ids(db):
    import io

    from app.volunteers import importer
    from tests.volunteers.test_import import GOOD, csv_bytes

    importer.import_stream(io.BytesIO(csv_bytes(GOOD[:2])), batch_size=100)  # new people only: plain inserts
    factories.user(phone_number="13800000009")
    importer.import_stream(io.BytesIO(csv_bytes(GOOD[2:] + [["13800000009", *GOOD[0][1:]]])), batch_size=100)
    ids = db.session.execute(select(User.id)).scalars().all()
    assert len(ids) == 4 and all(i > 2**32 for i in ids), ids


def test_users_id_has_no_sequence_and_every_reference_has_its_type(db):
    from sqlalchemy import inspect

    inspector = inspect(db.engine)
    [id_column] = [c for c in inspector.get_columns("users") if c["name"] == "id"]
    assert "nextval" not in str(id_column.get("default") or "")
    references = [(table, fk["constrained_columns"][0]) for table in inspector.get_table_names()
                  for fk in inspector.get_foreign_keys(table) if fk["referred_table"] == "users"]
    assert len(references) >= 14
    for table, column in references:
        [ref] = [c for c in inspector.get_columns(table) if c["name"] == column]
        assert type(ref["type"]) is type(id_column["type"]), (table, column, ref["type"], id_column["type"])
