"""No phone, SMS code, token or token id in any log line of a whole sign-in flow (DEBUG level)."""
import logging

from app.common.masking import mask_phone
from tests.auth_flows import LOGIN_SMS, LOGOUT, ME, REFRESH, SEND, bearer, claims, envelope, wrong

PHONE = "13912345678"


def _lines(caplog) -> list[tuple[str, str]]:
    """(logger, text) of every record, exception text included."""
    out = []
    for rec in caplog.records:
        text = rec.getMessage()
        if rec.exc_info:
            text += logging.Formatter().formatException(rec.exc_info)
        out.append((rec.name, text))
    return out


def test_sign_in_flow_logs_no_secrets(client, caplog, clock):
    with caplog.at_level(logging.DEBUG):
        code = client.post(SEND, json={"phone": "+86 139 1234 5678"}).get_json()["debug_code"]
        envelope(client.post(SEND, json={"phone": PHONE}), 429, "sms_too_frequent")
        envelope(client.post(LOGIN_SMS, json={"phone": PHONE, "code": wrong(code)}), 401, "sms_code_invalid")
        login = client.post(LOGIN_SMS, json={"phone": PHONE, "code": code}).get_json()
        envelope(client.post(LOGIN_SMS, json={"phone": PHONE, "code": code}), 401, "sms_code_invalid")
        assert client.get(ME, headers=bearer(login["access_token"])).status_code == 200
        pair = client.post(REFRESH, headers=bearer(login["refresh_token"])).get_json()
        clock.advance(seconds=11)  # past the grace window for parallel refreshes
        envelope(client.post(REFRESH, headers=bearer(login["refresh_token"])), 401, "token_reused")
        clock.advance(seconds=50)
        code2 = client.post(SEND, json={"phone": PHONE}).get_json()["debug_code"]
        again = client.post(LOGIN_SMS, json={"phone": PHONE, "code": code2}).get_json()
        assert client.post(LOGOUT, headers=bearer(again["access_token"])).status_code == 200
        envelope(client.get(ME, headers=bearer(again["access_token"])), 401, "token_revoked")

    lines = _lines(caplog)
    assert any(name == "jiefang.request" for name, _ in lines), "the request log is silent"
    console = [text for name, text in lines if name == "jiefang.sms"]
    assert len(console) == 2 and all(mask_phone(PHONE) in text for text in console)
    assert code in console[0] and code2 in console[1]

    tokens = [login["access_token"], login["refresh_token"], pair["access_token"], pair["refresh_token"],
              again["access_token"], again["refresh_token"]]
    secrets = {PHONE, "1391234", "12345678", *tokens}
    for token in tokens:
        secrets |= {claims(token)["jti"], claims(token)["fam"], token.split(".")[2]}
    for name, text in lines:
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{name}: {text}"
        if name != "jiefang.sms":
            assert code not in text and code2 not in text, f"{name}: {text}"
