"""The caller's principal (state + grants) cached in Redis, read with the revocation check, forgotten on change."""
import pytest
from sqlalchemy import select

from app.auth import principal
from app.auth import service as auth_service
from app.auth.access import require
from app.auth.models import RoleGrant, User
from app.common import cache
from app.errors import Forbidden
from tests import factories
from tests.auth_flows import ME, bearer, envelope, sign_in
from tests.redis_fixtures import Statements, dead, live, redis_server, use_redis  # noqa: F401 — fixtures

KEY = cache.PREFIX + "principal:{}"


def _call(app, headers, role="organiser"):
    with app.test_request_context(headers=headers):
        return require(role)(lambda: "ok")()


def test_second_request_reads_no_account_row_or_grant(app, db, live):
    user = factories.user(roles=[("organiser", "440106"), ("resident", "4401")])
    headers = factories.auth_headers(user)
    assert _call(app, headers) == "ok"  # a miss: read from the database, then cached
    assert live.get(KEY.format(user.id)) == b"1|organiser@440106,resident@4401"
    assert 0 < live.ttl(KEY.format(user.id)) <= principal.PRINCIPAL_TTL
    with Statements(db.engine) as seen:
        assert _call(app, headers) == "ok"
    assert seen.touching("role_grants") == [] and seen.touching("users") == []


def test_revoked_role_through_the_service_is_denied_at_once(app, db, live):
    user = factories.user(roles=[("organiser", "440106"), ("resident", "4401")])
    headers = factories.auth_headers(user)
    assert _call(app, headers) == "ok"
    auth_service.revoke_role(user=db.session.get(User, user.id), role="organiser")
    db.session.commit()
    assert live.get(KEY.format(user.id)) is None  # forgotten after the commit
    with pytest.raises(Forbidden):
        _call(app, headers)


def test_added_grant_is_allowed_at_once(app, db, live):
    user = factories.user(roles=[("resident", "4401")])
    headers = factories.auth_headers(user)
    with pytest.raises(Forbidden):
        _call(app, headers, "admin")
    db.session.add(RoleGrant(user_id=user.id, role="admin", area_code="4401"))
    db.session.commit()
    assert _call(app, headers, "admin") == "ok"


def test_rolled_back_change_forgets_nothing(app, db, live):
    user = factories.user(roles=[("organiser", "440106")])
    headers = factories.auth_headers(user)
    _call(app, headers)
    db.session.add(RoleGrant(user_id=user.id, role="admin", area_code="4401"))
    db.session.flush()
    db.session.rollback()
    assert live.get(KEY.format(user.id)) is not None
    with pytest.raises(Forbidden):
        _call(app, headers, "admin")


def test_disabled_account_is_refused_even_when_cached(client, db, live):
    body = sign_in(client, "13912345678")
    assert client.get(ME, headers=bearer(body["access_token"])).status_code == 200
    db.session.scalars(select(User)).one().is_active = False
    db.session.commit()
    envelope(client.get(ME, headers=bearer(body["access_token"])), 401, "account_disabled")


def test_unreadable_entry_is_replaced_from_the_database(app, db, live):
    user = factories.user(roles=[("organiser", "440106")])
    live.set(KEY.format(user.id), "garbage")
    assert _call(app, factories.auth_headers(user)) == "ok"
    assert live.get(KEY.format(user.id)) == b"1|organiser@440106"


def test_redis_down_reads_the_database_and_still_answers(app, db, dead):
    user = factories.user(roles=[("organiser", "440106")])
    assert _call(app, factories.auth_headers(user)) == "ok"


def test_principal_reads_other_attributes_from_the_account(app, db):
    user = factories.user(roles=[("resident", "4401")], username="staff-1")
    loaded = principal.load(user.id)
    assert (loaded.id, loaded.is_active, loaded.roles) == (user.id, True, {"resident"})
    assert loaded.username == "staff-1"  # not cached: loaded from the row
    assert principal.load(10**12) is None


@pytest.mark.parametrize("raw", ["", "1", "2|resident@4401", "1|resident", b"\x31|x"])
def test_decode_refuses_malformed_entries(raw):
    assert principal.decode(1, raw) is None


def test_encode_decode_round_trip():
    p = principal.Principal(7, False, (("admin", "4401"), ("organiser", "440106001")))
    back = principal.decode(7, principal.encode(p))
    assert (back.id, back.is_active, back.grants_held) == (7, False, p.grants_held)
    assert back.acts_on("44010600101", "organiser") and not back.acts_on("440105", "organiser")
