"""SMS sign-in: codes (hashed, 5 minutes, 5 tries, once), phone normalisation, resend and daily limits."""
import pytest
from sqlalchemy import select

from app.auth import service, sms
from app.auth.models import RefreshToken, RoleGrant, SmsCode, User
from app.common.crypto import cipher
from app.errors import ServiceUnavailable
from tests.auth_flows import LOGIN_SMS, SEND, count, envelope, send_code, wrong

PHONE = "13912345678"


def _codes(db) -> list[SmsCode]:
    db.session.expire_all()
    return db.session.execute(select(SmsCode).order_by(SmsCode.id)).scalars().all()


def test_send_code_202_with_debug_code_stored_hashed(client, db):
    r = client.post(SEND, json={"phone": PHONE})
    assert r.status_code == 202
    body = r.get_json()
    assert set(body) == {"expires_in", "resend_after", "debug_code"}
    assert body["expires_in"] == 300 and body["resend_after"] == 60
    code = body["debug_code"]
    assert len(code) == 6 and code.isdigit()
    [row] = _codes(db)
    assert row.phone_hash == service.phone_hash(PHONE)
    assert len(row.code_hash) == 64 and code not in row.code_hash
    for text in (row.phone_hash, row.code_hash, row.ip):
        assert code not in text and PHONE not in text
    assert (row.expires_at - row.created_at).total_seconds() == 300
    assert row.attempts == 0 and row.consumed_at is None


@pytest.mark.parametrize("spelling", ["+86 139 1234 5678", "86 13912345678", "8613912345678", "+8613912345678",
                                      "139 1234 5678", "139-1234-5678", " 13912345678 "])
def test_prefixes_and_spaces_normalised_to_one_phone(client, db, spelling):
    send_code(client, spelling)
    assert _codes(db)[0].phone_hash == service.phone_hash(PHONE)
    # the same phone for the 60 s limit, however it is written
    envelope(client.post(SEND, json={"phone": PHONE}), 429, "sms_too_frequent")
    assert len(_codes(db)) == 1


def test_every_spelling_signs_in_to_the_same_account(client, db, clock):
    first = client.post(LOGIN_SMS, json={"phone": "+86 139 1234 5678",
                                         "code": send_code(client, "+86 139 1234 5678")})
    assert first.status_code == 200
    clock.advance(seconds=61)
    second = client.post(LOGIN_SMS, json={"phone": "8613912345678", "code": send_code(client, "139 1234 5678")})
    assert second.status_code == 200
    assert first.get_json()["user"]["id"] == second.get_json()["user"]["id"]
    assert count(db, User) == 1


@pytest.mark.parametrize("phone", [
    "+85291234567",          # Hong Kong
    "+1 202 555 0143",       # not China
    "+886 912 345 678",      # Taiwan
    "12345", "1391234567", "139123456789", "23912345678", "10012345678",
    "020 8888 8888",         # Guangzhou landline
    "139CALL5678", "13912345678x", "tel:13912345678", "13912345678;ext=1", "139 1234 5678 ext 9",
    "+86 (0)139 1234 5678", "１３９１２３４５６７８", "   ",
])
def test_non_mainland_or_malformed_phone_is_422(client, db, phone):
    body = envelope(client.post(SEND, json={"phone": phone}), 422, "phone_invalid")
    assert "phone" in body["errors"]["json"]
    assert count(db, SmsCode) == 0


def test_login_with_invalid_phone_is_422(client, db):
    envelope(client.post(LOGIN_SMS, json={"phone": "+85291234567", "code": "123456"}), 422, "phone_invalid")
    assert count(db, User) == 0


def test_one_code_per_phone_per_60_seconds(client, db, clock):
    send_code(client, PHONE)
    r = client.post(SEND, json={"phone": PHONE})
    body = envelope(r, 429, "sms_too_frequent")
    wait = int(r.headers["Retry-After"])
    # flask-limiter rewrites Retry-After as whole seconds left from its own clock reading: ours, or 1 s less
    assert 1 <= wait <= 60 and body["retry_after"] - 1 <= wait <= body["retry_after"] <= 60
    assert len(_codes(db)) == 1
    clock.advance(seconds=59)
    envelope(client.post(SEND, json={"phone": PHONE}), 429, "sms_too_frequent")
    clock.advance(seconds=2)
    send_code(client, PHONE)
    assert len(_codes(db)) == 2
    # another phone is not held up by this one
    send_code(client, "13912345679")
    assert len(_codes(db)) == 3


def test_per_phone_daily_cap(client, db, app, clock, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_PHONE_DAILY_LIMIT", 2)
    for _ in range(2):
        send_code(client, PHONE)
        clock.advance(seconds=61)
    r = client.post(SEND, json={"phone": PHONE})
    envelope(r, 429, "sms_phone_daily_limit")
    assert 0 < int(r.headers["Retry-After"]) <= 86400
    assert len(_codes(db)) == 2
    send_code(client, "13912345679")  # the cap is per phone
    clock.advance(days=1)
    send_code(client, PHONE)
    assert len(_codes(db)) == 4


def test_per_ip_daily_cap(client, db, app, clock, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_IP_DAILY_LIMIT", 2)
    send_code(client, "13912345601", ip="10.1.1.1")
    send_code(client, "13912345602", ip="10.1.1.1")
    r = client.post(SEND, json={"phone": "13912345603"}, environ_base={"REMOTE_ADDR": "10.1.1.1"})
    envelope(r, 429, "sms_ip_daily_limit")
    assert 0 < int(r.headers["Retry-After"]) <= 86400
    assert len(_codes(db)) == 2
    send_code(client, "13912345603", ip="10.1.1.2")  # the cap is per IP
    clock.advance(days=1, seconds=1)
    send_code(client, "13912345604", ip="10.1.1.1")
    assert len(_codes(db)) == 4


def test_first_login_creates_resident_second_finds_them(client, db, clock):
    r = client.post(LOGIN_SMS, json={"phone": PHONE, "code": send_code(client, PHONE)})
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    user = body["user"]
    assert user["phone"] == "139****5678" and user["username"] is None
    assert user["roles"] == [{"role": "resident", "area": "4401"}]
    assert isinstance(user["id"], str) and PHONE not in r.get_data(as_text=True)
    [row] = db.session.execute(select(User)).scalars().all()
    assert str(row.id) == user["id"] and row.is_active and row.last_login_at is not None
    assert row.phone_hash == service.phone_hash(PHONE)
    assert PHONE.encode() not in row.phone_enc and cipher().decrypt(row.phone_enc, b"phone") == PHONE
    grants = db.session.execute(select(RoleGrant.role, RoleGrant.area_code)).all()
    assert grants == [("resident", "4401")]
    assert _codes(db)[0].consumed_at is not None
    first_login = row.last_login_at

    clock.advance(seconds=61)
    again = client.post(LOGIN_SMS, json={"phone": PHONE, "code": send_code(client, PHONE)})
    assert again.status_code == 200 and again.get_json()["user"]["id"] == user["id"]
    assert count(db, User) == 1 and count(db, RoleGrant) == 1
    db.session.expire_all()
    assert db.session.get(User, row.id).last_login_at > first_login
    assert count(db, RefreshToken) == 2


def test_code_valid_until_five_minutes(client, db, clock):
    code = send_code(client, PHONE)
    clock.advance(seconds=299)
    assert client.post(LOGIN_SMS, json={"phone": PHONE, "code": code}).status_code == 200
    assert count(db, User) == 1


def test_code_expires_after_five_minutes(client, db, clock):
    code = send_code(client, PHONE)
    clock.advance(seconds=301)
    envelope(client.post(LOGIN_SMS, json={"phone": PHONE, "code": code}), 401, "sms_code_expired")
    assert count(db, User) == 0 and count(db, RefreshToken) == 0
    assert _codes(db)[0].consumed_at is None


def test_five_wrong_tries_then_dead_even_with_right_code(client, db):
    code = send_code(client, PHONE)
    for left in (4, 3, 2, 1, 0):
        body = envelope(client.post(LOGIN_SMS, json={"phone": PHONE, "code": wrong(code)}), 401, "sms_code_invalid")
        assert body["attempts_left"] == left
        assert _codes(db)[0].attempts == 5 - left
    envelope(client.post(LOGIN_SMS, json={"phone": PHONE, "code": code}), 401, "sms_code_exhausted")
    [row] = _codes(db)
    assert row.attempts == 5 and row.consumed_at is None
    assert count(db, User) == 0 and count(db, RefreshToken) == 0


def test_right_code_after_four_wrong_tries_still_works(client, db):
    code = send_code(client, PHONE)
    for _ in range(4):
        envelope(client.post(LOGIN_SMS, json={"phone": PHONE, "code": wrong(code)}), 401, "sms_code_invalid")
    assert client.post(LOGIN_SMS, json={"phone": PHONE, "code": code}).status_code == 200
    assert count(db, User) == 1 and _codes(db)[0].consumed_at is not None


def test_used_code_cannot_be_reused(client, db):
    code = send_code(client, PHONE)
    assert client.post(LOGIN_SMS, json={"phone": PHONE, "code": code}).status_code == 200
    envelope(client.post(LOGIN_SMS, json={"phone": PHONE, "code": code}), 401, "sms_code_invalid")
    assert count(db, User) == 1 and count(db, RefreshToken) == 1


def test_code_is_bound_to_its_phone(client, db):
    code = send_code(client, PHONE)
    send_code(client, "13912345679")
    envelope(client.post(LOGIN_SMS, json={"phone": "13912345679", "code": code}), 401, "sms_code_invalid")
    envelope(client.post(LOGIN_SMS, json={"phone": "13800000000", "code": code}), 401, "sms_code_invalid")
    assert count(db, User) == 0


def test_only_the_latest_code_counts(client, db, clock):
    old = send_code(client, PHONE)
    clock.advance(seconds=61)
    new = send_code(client, PHONE)
    if old != new:
        envelope(client.post(LOGIN_SMS, json={"phone": PHONE, "code": old}), 401, "sms_code_invalid")
    assert client.post(LOGIN_SMS, json={"phone": PHONE, "code": new}).status_code == 200


def test_disabled_account_cannot_sign_in_and_keeps_its_code(client, db, clock):
    r = client.post(LOGIN_SMS, json={"phone": PHONE, "code": send_code(client, PHONE)})
    user = db.session.get(User, int(r.get_json()["user"]["id"]))
    user.is_active = False
    db.session.commit()
    clock.advance(seconds=61)
    code = send_code(client, PHONE)
    envelope(client.post(LOGIN_SMS, json={"phone": PHONE, "code": code}), 401, "account_disabled")
    assert count(db, RefreshToken) == 1  # only the first sign-in's
    assert _codes(db)[-1].consumed_at is None


def test_sender_failure_is_503_and_frees_the_phone(client, db, monkeypatch):
    class Broken(sms.SmsSender):
        def send_code(self, phone, code):
            raise ServiceUnavailable("sms_unavailable", "短信发送失败，请稍后再试")

    monkeypatch.setattr(sms, "sender", lambda: Broken())
    envelope(client.post(SEND, json={"phone": PHONE}), 503, "sms_unavailable")
    assert count(db, SmsCode) == 0
    monkeypatch.undo()
    send_code(client, PHONE)  # not held up by the 60 s limit: no code was sent
    assert count(db, SmsCode) == 1


def test_gateway_sender_posts_code_and_does_not_echo_it(client, db, app, monkeypatch):
    sent = []

    class Reply:
        def raise_for_status(self):
            pass

    import requests

    monkeypatch.setattr(requests, "post", lambda url, **kw: sent.append((url, kw)) or Reply())
    monkeypatch.setitem(app.config, "SMS_BACKEND", "http")
    monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", "http://sms.invalid/send")
    r = client.post(SEND, json={"phone": PHONE})
    assert r.status_code == 202 and "debug_code" not in r.get_json()
    [(url, kw)] = sent
    assert url == "http://sms.invalid/send" and kw["json"]["phone"] == PHONE
    code = kw["json"]["params"]["code"]
    assert len(code) == 6 and _codes(db)[0].code_hash != code


@pytest.mark.postgres
def test_concurrent_requests_send_one_code(app, db, concurrently):
    def ask(_):
        return app.test_client().post(SEND, json={"phone": PHONE}).status_code

    statuses = concurrently(ask, 6)
    assert sorted(statuses) == [202] + [429] * 5
    assert count(db, SmsCode) == 1


@pytest.mark.postgres
def test_concurrent_wrong_guesses_get_five_tries_in_all(app, db, client, concurrently):
    code = send_code(client, PHONE)

    def guess(_):
        return app.test_client().post(LOGIN_SMS, json={"phone": PHONE, "code": wrong(code)}).get_json()["error"]

    errors = concurrently(guess, 10)
    assert errors.count("sms_code_invalid") == 5 and errors.count("sms_code_exhausted") == 5
    assert _codes(db)[0].attempts == 5
    envelope(client.post(LOGIN_SMS, json={"phone": PHONE, "code": code}), 401, "sms_code_exhausted")


@pytest.mark.postgres
def test_concurrent_logins_consume_the_code_once(app, db, client, concurrently):
    code = send_code(client, PHONE)

    def login(_):
        return app.test_client().post(LOGIN_SMS, json={"phone": PHONE, "code": code}).status_code

    assert sorted(concurrently(login, 4)) == [200, 401, 401, 401]
    assert count(db, User) == 1 and count(db, RefreshToken) == 1


def test_unknown_sms_backend_never_falls_back_to_echoing_the_code(client, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_BACKEND", "htp")
    r = client.post(SEND, json={"phone": PHONE})
    envelope(r, 500, "internal_error")
    assert "debug_code" not in r.get_json() and count(db, SmsCode) == 0


def test_per_ip_cap_counts_clients_behind_a_trusted_proxy(client, db, app, monkeypatch):
    from app.common.proxy import init_proxy

    monkeypatch.setitem(app.config, "TRUSTED_PROXIES", 1)
    monkeypatch.setitem(app.config, "SMS_IP_DAILY_LIMIT", 1)
    monkeypatch.setattr(app, "wsgi_app", app.wsgi_app)  # restored after the test
    init_proxy(app)
    via_proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n, client_ip in enumerate(["203.0.113.7", "203.0.113.8"]):
        r = client.post(SEND, json={"phone": f"1391234560{n}"}, environ_base=via_proxy,
                        headers={"X-Forwarded-For": f"198.51.100.1, {client_ip}"})
        assert r.status_code == 202
    assert [c.ip for c in _codes(db)] == ["203.0.113.7", "203.0.113.8"]
    r = client.post(SEND, json={"phone": "13912345609"}, environ_base=via_proxy,
                    headers={"X-Forwarded-For": "203.0.113.7"})
    envelope(r, 429, "sms_ip_daily_limit")


def test_full_width_code_is_rejected_by_the_schema(client, db):
    send_code(client, PHONE)
    envelope(client.post(LOGIN_SMS, json={"phone": PHONE, "code": "１２３４５６"}), 422, "validation_failed")
    assert _codes(db)[0].attempts == 0
