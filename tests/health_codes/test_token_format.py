"""docs/token-format.md is enough to verify a token offline: its verifier, taken from the page and run with the
`cryptography` package alone, accepts the tokens the API issues, checked against the API's key document, and the
page's worked example; and it refuses what the page says to refuse."""
import base64
import re
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature

from tests.health_codes.conftest import URL

DOC = (Path(__file__).resolve().parents[2] / "docs" / "token-format.md").read_text()
EXAMPLE_ISSUED_AT = 1796529600


def _doc_verifier():
    """The page's Python block, executed on its own: nothing of the app is imported by it."""
    source = re.search(r"```python\n(.*?)```", DOC, re.S).group(1)
    assert "from app" not in source and "import app" not in source
    namespace: dict = {}
    exec(compile(source, "docs/token-format.md", "exec"), namespace)  # noqa: S102 (the page's own example)
    return namespace["verify"], namespace["CONTEXT"]


def _example():
    token = re.search(r"^    (AQ[A-Za-z0-9_-]{100,})$", DOC, re.M).group(1)
    x = re.search(r'"kid": "s1",\s+"x": "([A-Za-z0-9_-]+)"', DOC).group(1)
    return token, {"s1": x}


def test_the_context_in_the_prose_is_the_one_in_the_code():
    verify, context = _doc_verifier()
    assert '"jiefang/health-code-token/v1" || 0x00 || body' in DOC
    assert context == b"jiefang/health-code-token/v1\x00" and len(context) == 29


def test_the_worked_example_verifies_and_its_fields_read_as_the_page_says():
    verify, _ = _doc_verifier()
    token, keys = _example()
    claims = verify(token, keys, now=EXAMPLE_ISSUED_AT + 60)
    assert claims == {"kid": "s1", "ref": "8f3a5c7e19b2d460", "colour": "yellow", "issued_at": EXAMPLE_ISSUED_AT,
                      "expires_at": EXAMPLE_ISSUED_AT + 120}
    raw = base64.urlsafe_b64decode(token + "==")
    assert len(raw) == 82 and raw[:18].hex() == "010273318f3a5c7e19b2d460016b14ddc078"  # the body, as tabulated


def test_the_page_refuses_expired_forged_and_non_canonical_tokens():
    verify, _ = _doc_verifier()
    token, keys = _example()
    with pytest.raises(AssertionError, match="expired"):
        verify(token, keys, now=EXAMPLE_ISSUED_AT + 120)
    with pytest.raises(AssertionError, match="invalid"):
        verify(token, keys, now=EXAMPLE_ISSUED_AT - 31)  # issued more than 30 s in the scanner's future
    raw = bytearray(base64.urlsafe_b64decode(token + "=="))
    raw[12] = 2  # yellow made red: the signature no longer matches
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(InvalidSignature):
        verify(forged, keys, now=EXAMPLE_ISSUED_AT + 60)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    other = alphabet[alphabet.index(token[-1]) ^ 1]  # an unused low bit of the last character set
    assert base64.urlsafe_b64decode(token[:-1] + other + "==") == bytes(raw[:12]) + b"\x01" + bytes(raw[13:])
    with pytest.raises(AssertionError, match="not canonical"):  # the same bytes, spelt another way
        verify(token[:-1] + other, keys, now=EXAMPLE_ISSUED_AT + 60)


def test_a_token_from_the_api_verifies_with_the_published_key_document(client, clock, resident, apply_code):
    verify, _ = _doc_verifier()
    code = apply_code(resident[1])
    issued = client.get(f"{URL}/{code['id']}/token", headers=resident[1]).get_json()
    document = client.get(f"{URL}/keys").get_json()
    keys = {k["kid"]: k["x"] for k in document["keys"] if k["kty"] == "OKP" and k["crv"] == "Ed25519"}
    now = clock.now.timestamp()
    claims = verify(issued["token"], keys, now=now)
    assert claims["kid"] == document["signing_kid"] and claims["colour"] == issued["colour"] == "green"
    assert claims["expires_at"] - claims["issued_at"] == 120
    assert len(issued["token"]) == -(-(80 + len(claims["kid"])) * 4 // 3)  # 80 + kid_len bytes, unpadded
    with pytest.raises(AssertionError, match="expired"):
        verify(issued["token"], keys, now=now + 120)
