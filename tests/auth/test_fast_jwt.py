"""The fast path in front of PyJWT (app.auth.fast_jwt): it accepts only what PyJWT accepts, with the same header
and claims, and leaves everything else (and every error) to PyJWT."""
import base64
import json
import time
from datetime import timedelta

import jwt as pyjwt
import jwt.exceptions as pyjwt_errors
import pytest
from flask import current_app
from flask_jwt_extended import create_access_token
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.auth import fast_jwt
from app.extensions import jwt
from tests import factories
from tests.auth_flows import ME, bearer

KEY = "k" * 64
LEEWAY = 10


def _pyjwt(token, key=KEY, verify_exp=True):
    """What PyJWT answers, as decode_verified asks it: (header, claims), or the error's class."""
    options = {"verify_aud": False, "verify_sub": True, "verify_exp": verify_exp}
    try:
        done = pyjwt.decode_complete(token, key, algorithms=["HS256"], leeway=LEEWAY, options=options)
    except pyjwt.PyJWTError as error:
        return type(error)
    return done["header"], done["payload"]


def _claims(**changes) -> dict:
    now = int(time.time())
    claims = {"sub": "42", "jti": "a-jti", "type": "access", "fresh": False, "iat": now, "nbf": now,
              "exp": now + 900, "fam": "a-family"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _token(key=KEY, algorithm="HS256", headers=None, **changes) -> str:
    return pyjwt.encode(_claims(**changes), key, algorithm=algorithm, headers=headers)


def _segment(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


VERIFIER = fast_jwt.HmacVerifier("HS256", KEY, LEEWAY)


def test_a_valid_token_is_accepted_with_pyjwts_header_and_claims():
    token = _token()
    assert VERIFIER.verify(token) == _pyjwt(token)
    assert VERIFIER.verify(token)[1]["sub"] == "42"


@pytest.mark.parametrize("token, pyjwt_error", [
    (lambda: _token(key="another key of sixty-four bytes, not the one this test signs with."), pyjwt.InvalidSignatureError),
    (lambda: _token(exp=int(time.time()) - LEEWAY - 1), pyjwt.ExpiredSignatureError),
    (lambda: _token(nbf=int(time.time()) + LEEWAY + 60), pyjwt.ImmatureSignatureError),
    (lambda: _token(iat=int(time.time()) + LEEWAY + 60), pyjwt.ImmatureSignatureError),
    (lambda: _token(exp="soon"), pyjwt.DecodeError),
    (lambda: _token(sub=42), pyjwt_errors.InvalidSubjectError),
    (lambda: _token(jti=7), pyjwt_errors.InvalidJTIError),
    (lambda: _token(algorithm="HS512"), pyjwt.InvalidAlgorithmError),
    (lambda: _token()[:-2], pyjwt.DecodeError),  # a cut signature
    (lambda: _token() + ".x", pyjwt.DecodeError),  # four segments
    (lambda: "%s.%s.%s" % (_token().split(".")[0], _segment(b"[1, 2]"), "x" * 43), pyjwt.DecodeError),
    (lambda: "not a token", pyjwt.DecodeError),
], ids=["other key", "expired", "not yet (nbf)", "issued in the future", "exp not a number", "sub not text",
        "jti not text", "another algorithm", "cut signature", "four segments", "claims not an object",
        "garbage"])
def test_what_pyjwt_refuses_is_left_to_pyjwt(token, pyjwt_error):
    token = token()
    assert _pyjwt(token) is pyjwt_error
    assert VERIFIER.verify(token) is None


def test_an_unsigned_token_is_left_to_pyjwt():
    head = _segment(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    token = f"{head}.{_segment(json.dumps(_claims()).encode())}."
    assert VERIFIER.verify(token) is None
    assert _pyjwt(token) is pyjwt.InvalidAlgorithmError


def test_a_non_canonical_signature_is_refused():
    """The last base64url character of a 32-byte MAC carries two unused bits: another spelling of the same MAC."""
    token = _token()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    other = alphabet[alphabet.index(token[-1]) | 1]  # the same four high bits: the same 32 bytes
    assert base64.urlsafe_b64decode(token.split(".")[2][:-1] + other + "=") == \
        base64.urlsafe_b64decode(token.split(".")[2] + "=")
    forged = token[:-1] + other
    assert VERIFIER.verify(forged) is None
    assert _pyjwt(forged) is pyjwt.DecodeError


def test_what_the_fast_path_declines_pyjwt_may_still_accept():
    """A float time, another header, a padded signature (some issuers pad) or an expired token read with
    verify_exp off: left to PyJWT, which decides."""
    float_exp = _token(exp=time.time() + 900)
    with_kid = _token(headers={"kid": "k1"})
    padded = _token() + "="
    for token in (float_exp, with_kid, padded):
        assert VERIFIER.verify(token) is None
        assert isinstance(_pyjwt(token), tuple)
    expired = _token(exp=int(time.time()) - 3600)
    assert VERIFIER.verify(expired, verify_exp=False) == _pyjwt(expired, verify_exp=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_change_to_a_token_is_accepted_only_as_pyjwt_accepts_it(data):
    token = _token(exp=int(time.time()) + data.draw(st.integers(-100, 100)))
    at = data.draw(st.integers(0, len(token)))
    cut = data.draw(st.integers(0, 3))
    insert = data.draw(st.text(alphabet="ABCabc019_-.=+/ ", max_size=3))
    changed = token[:at] + insert + token[at + cut:]
    fast = VERIFIER.verify(changed)
    if fast is not None:
        assert fast == _pyjwt(changed)
    if not isinstance(_pyjwt(changed), tuple):
        assert fast is None


def test_applies_only_to_one_hmac_algorithm_without_audience_or_issuer():
    assert fast_jwt.applies(["HS256"], None, None, KEY)
    assert not fast_jwt.applies(["HS256", "HS512"], None, None, KEY)
    assert not fast_jwt.applies(["RS256"], None, None, KEY)
    assert not fast_jwt.applies(["HS256"], "jiefang", None, KEY)
    assert not fast_jwt.applies(["HS256"], None, "jiefang", KEY)
    assert fast_jwt.HmacVerifier("HS256", KEY, timedelta(seconds=5)).leeway == 5


def test_an_hmac_secret_that_is_a_public_key_is_refused():
    with pytest.raises(pyjwt.InvalidKeyError):
        fast_jwt.HmacVerifier("HS256", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", 0)


def test_the_apps_own_tokens_take_the_fast_path(app, monkeypatch, db):
    """decode_verified answers an app token without PyJWT, and still falls back to it."""
    with app.test_request_context():
        token = create_access_token(identity="7", additional_claims={"fam": "f"})
        asked = []
        real = pyjwt.decode_complete
        monkeypatch.setattr(pyjwt, "decode_complete", lambda *a, **k: asked.append(a) or real(*a, **k))
        header, claims = jwt.decode_verified(token)
        assert (header["alg"], claims["sub"], claims["type"], claims["fam"]) == ("HS256", "7", "access", "f")
        assert asked == []
        floaty = pyjwt.encode({**claims, "exp": claims["exp"] + 0.5}, current_app.config["JWT_SECRET_KEY"],
                              algorithm="HS256")
        assert jwt.decode_verified(floaty)[1]["sub"] == "7"
        assert len(asked) == 1


def test_a_tampered_token_is_still_401_token_invalid(client, db):
    user = factories.user()
    with client.application.test_request_context():
        token = factories.auth_headers(user)["Authorization"].removeprefix("Bearer ")
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged = f"{head}.{_segment(json.dumps({**claims, 'sub': str(user.id + 1)}).encode())}.{signature}"
    response = client.get(ME, headers=bearer(forged))
    assert response.status_code == 401 and response.get_json()["error"] == "token_invalid"
    assert client.get(ME, headers=bearer(token)).status_code == 200
