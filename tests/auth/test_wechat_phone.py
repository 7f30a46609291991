"""One person, one account: WeChat sign-in binds the phone (getPhoneNumber) and merges with the SMS account."""
import pytest
from sqlalchemy import select

from app.auth.models import RefreshToken, RoleGrant, User
from app.health_codes.models import HealthCode
from app.volunteers.models import Volunteer
from tests import factories
from tests.auth_flows import LOGIN_WECHAT, ME, REFRESH, bearer, envelope, sign_in
from tests.health_codes.conftest import application, resident_id
from tests.venues.test_venues import VENUE
from tests.volunteer_helpers import profile_body
from tests.wechat_fake import real_wechat_api, wechat_api_server  # noqa: F401 — fixtures

PHONE = "13800138001"


def _users(db) -> list[User]:
    db.session.expire_all()
    return db.session.execute(select(User).order_by(User.id)).scalars().all()


def _wechat(client, code, phone_code=None, status=200):
    body = {"code": code, **({"phone_code": phone_code} if phone_code else {})}
    r = client.post(LOGIN_WECHAT, json=body)
    assert r.status_code == status, r.get_json()
    return r.get_json()


def test_fake_provider_keeps_one_user_across_devtools_launches(client, db):
    first = _wechat(client, "0a3Xk1000Hn3QT1Yq0300r6XwM3Xk10J")
    second = _wechat(client, "0f1Pq2000mLkQT1bE8200eJ9nw0Pq20W")  # another wx.login(): a new random code
    assert first["user"]["id"] == second["user"]["id"]
    alice, again, bob = _wechat(client, "alice~1"), _wechat(client, "alice~2"), _wechat(client, "bob~1")
    assert alice["user"]["id"] == again["user"]["id"] != bob["user"]["id"] != first["user"]["id"]
    assert len(_users(db)) == 3


def test_phone_binding_lets_sms_and_venue_staff_find_the_wechat_user(client, db, login):
    body = _wechat(client, "carol~1", phone_code=f"phone-{PHONE}")
    assert body["user"]["phone"] == "138****8001"
    [user] = _users(db)
    assert user.wechat_openid_hash and user.phone_hash
    assert sign_in(client, PHONE)["user"]["id"] == body["user"]["id"] == str(user.id)  # SMS: the same account
    owner, headers = login("resident")
    venue = factories.venue(owner=owner)
    r = client.post(f"/api/v1/venues/{venue.id}/staff", json={"phone": PHONE}, headers=headers)
    assert r.status_code == 202  # an invitation, found by the phone the WeChat sign-in bound
    invited = client.get("/api/v1/me/invitations", headers=bearer(body["access_token"])).get_json()["items"]
    assert [i["kind"] for i in invited] == ["venue_staff"]


def test_sms_account_and_wechat_account_become_one(client, db):
    sms = sign_in(client, PHONE)
    sms_headers = bearer(sms["access_token"])
    assert client.post("/api/v1/health-codes", json=application(), headers=sms_headers).status_code == 201
    assert client.post("/api/v1/volunteers", json=profile_body(), headers=sms_headers).status_code == 201
    assert client.post("/api/v1/venues", json=VENUE, headers=sms_headers).status_code == 201
    wx = _wechat(client, "dave~1")
    wx_headers = bearer(wx["access_token"])
    family = application(id_number=resident_id(seq="456"), relation="family", name="陈小文")
    assert client.post("/api/v1/health-codes", json=family, headers=wx_headers).status_code == 201
    merged = _wechat(client, "dave~2", phone_code=f"p-{PHONE}")
    assert merged["user"]["id"] == sms["user"]["id"]
    [kept] = _users(db)
    assert str(kept.id) == sms["user"]["id"] and kept.wechat_openid_hash and kept.phone_hash
    codes = db.session.execute(select(HealthCode).where(HealthCode.owner_id == kept.id)).scalars().all()
    assert sorted(c.relation for c in codes) == ["family", "self"] and len({c.slot for c in codes}) == 2
    volunteer = db.session.execute(select(Volunteer).where(Volunteer.user_id == kept.id)).scalar_one()
    assert volunteer.left_at is None
    grants = {(g.role, g.area_code) for g in db.session.execute(select(RoleGrant)).scalars()}
    assert {g[0] for g in grants} == {"resident", "volunteer", "venue_staff"}
    assert {g.user_id for g in db.session.execute(select(RoleGrant)).scalars()} == {kept.id}
    # the merged-away sign-in is over; the kept account answers from now on, by WeChat alone too
    envelope(client.get(ME, headers=wx_headers), 401, "user_not_found")
    envelope(client.post(REFRESH, headers=bearer(wx["refresh_token"])), 401, "user_not_found")
    me = client.get(ME, headers=bearer(merged["access_token"])).get_json()
    assert me["id"] == sms["user"]["id"] and {r["role"] for r in me["roles"]} >= {"volunteer", "venue_staff"}
    assert _wechat(client, "dave~3")["user"]["id"] == sms["user"]["id"]
    listed = client.get("/api/v1/health-codes", headers=bearer(merged["access_token"])).get_json()
    assert len(listed["items"]) == 2


def test_merge_refused_when_the_codes_do_not_fit_changes_nothing(client, db):
    sms = sign_in(client, PHONE)
    assert client.post("/api/v1/health-codes", json=application(),
                       headers=bearer(sms["access_token"])).status_code == 201
    for seq in range(9):  # the SMS account's ten slots full
        family = application(id_number=resident_id(seq=f"{300 + seq}"), relation="family", name="陈小文")
        assert client.post("/api/v1/health-codes", json=family, headers=bearer(sms["access_token"])).status_code == 201
    wx = _wechat(client, "erin~1")
    # a WeChat-only account has no proven phone: no self code for it
    envelope(client.post("/api/v1/health-codes", json=application(id_number=resident_id(seq="789")),
                         headers=bearer(wx["access_token"])), 403, "phone_unverified")
    family = application(id_number=resident_id(seq="789"), relation="family", name="陈小文")
    assert client.post("/api/v1/health-codes", json=family, headers=bearer(wx["access_token"])).status_code == 201
    envelope(client.post(LOGIN_WECHAT, json={"code": "erin~2", "phone_code": PHONE}), 409, "accounts_conflict")
    users = _users(db)
    assert len(users) == 2 and sum(1 for u in users if u.wechat_openid_hash) == 1
    assert sum(1 for u in users if u.phone_hash) == 1
    assert client.get(ME, headers=bearer(wx["access_token"])).status_code == 200
    owners = db.session.execute(select(HealthCode.owner_id)).scalars().all()
    assert sorted(set(owners)) == sorted(u.id for u in users) and len(owners) == 11


def test_phone_of_another_wechat_user_is_refused(client, db):
    _wechat(client, "frank~1", phone_code=PHONE)
    envelope(client.post(LOGIN_WECHAT, json={"code": "gina~1", "phone_code": PHONE}), 409, "wechat_already_bound")
    envelope(client.post(LOGIN_WECHAT, json={"code": "frank~2", "phone_code": "13900139002"}), 409,
             "phone_already_bound")
    assert len(_users(db)) == 1


def test_invalid_phone_code_changes_nothing(client, db):
    envelope(client.post(LOGIN_WECHAT, json={"code": "hank~1", "phone_code": "invalid"}), 422,
             "wechat_phone_code_invalid")
    assert _users(db) == [] and db.session.execute(select(RefreshToken)).first() is None


def test_real_getuserphonenumber(client, db, real_wechat_api):
    body = _wechat(client, "ivy", phone_code="phone-code-1")
    assert body["user"]["phone"] == "138****8001"
    calls = [(path, payload) for path, _, payload in real_wechat_api.calls]
    assert calls[0][0] == "/sns/jscode2session" and calls[1][0] == "/cgi-bin/stable_token"
    assert calls[2] == ("/wxa/business/getuserphonenumber", {"code": "phone-code-1"})
    assert real_wechat_api.calls[2][1] == {"access_token": real_wechat_api.token}


@pytest.mark.parametrize("reply, status, error", [
    ((200, {"errcode": 40029, "errmsg": "invalid code"}), 422, "wechat_phone_code_invalid"),
    ((200, {"errcode": 0, "errmsg": "ok", "phone_info": {"phoneNumber": "+85261234567", "purePhoneNumber":
                                                         "61234567", "countryCode": "852"}}), 422,
     "phone_not_mainland"),
    ((200, {"errcode": 0, "errmsg": "ok"}), 503, "wechat_bad_reply"),
    ((200, {"errcode": -1, "errmsg": "system error"}), 503, "wechat_busy"),
])
def test_real_getuserphonenumber_errors(client, db, real_wechat_api, reply, status, error):
    real_wechat_api.script["/wxa/business/getuserphonenumber"] = [reply]
    envelope(client.post(LOGIN_WECHAT, json={"code": "jack", "phone_code": "phone-code-2"}), status, error)
    assert _users(db) == []
