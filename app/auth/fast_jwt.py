"""A fast path for verifying the app's own access tokens (HS256/384/512, as flask-jwt-extended issues them), in
front of PyJWT's `decode_complete`: it only ever accepts.

PyJWT spends most of a token's check on a per-character base64url check of every segment, key preparation and
option merging, on every signed-in request. This path does the same checks in a quarter of the time for a token
that is plainly valid: the exact header this app's tokens carry, canonical base64url segments,
a constant-time HMAC comparison, a JSON object of claims with integer times inside their window and string `sub`
and `jti`. Anything else (a bad signature, an expired token, another header, a float `exp`, an audience or issuer
to check) returns None, and the caller asks PyJWT, which then accepts or raises its own error: the errors stay
PyJWT's, and what this path accepts PyJWT accepts with the same header and claims (tests/test_fast_jwt.py checks
both ways, by property)."""
import base64
import hashlib
import hmac
import json
import re
import time
from datetime import timedelta
from functools import lru_cache

from jwt.algorithms import HMACAlgorithm

_DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


def _b64decode(segment: str) -> bytes | None:
    """The bytes of a canonical unpadded base64url segment, else None (PyJWT refuses what is not canonical)."""
    if len(segment) % 4 == 1 or not _SEGMENT.fullmatch(segment):
        return None
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    return raw if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") == segment else None


class HmacVerifier:
    """Verifies tokens signed with one HMAC algorithm and key, with no audience or issuer to check."""

    def __init__(self, algorithm: str, key: str | bytes, leeway: float = 0):
        self.digest = _DIGESTS[algorithm]
        # PyJWT's own key preparation (bytes; refuses a PEM or SSH public key given as an HMAC secret)
        self.key = HMACAlgorithm(self.digest).prepare_key(key)
        self.header = {"alg": algorithm, "typ": "JWT"}  # PyJWT's header, keys sorted, no spaces, when encoding
        self.head = base64.urlsafe_b64encode(json.dumps(self.header, separators=(",", ":"), sort_keys=True)
                                             .encode()).rstrip(b"=").decode("ascii")
        self.leeway = leeway.total_seconds() if isinstance(leeway, timedelta) else float(leeway)

    def verify(self, token, *, verify_exp: bool = True) -> tuple[dict, dict] | None:
        """(header, claims) of a token this verifier can accept outright, else None (ask PyJWT)."""
        if type(token) is not str:
            return None
        head, _, rest = token.partition(".")
        body, _, signature_text = rest.partition(".")
        if head != self.head or not signature_text or "." in signature_text:
            return None
        signature, payload = _b64decode(signature_text), _b64decode(body)
        if signature is None or payload is None:
            return None
        expected = hmac.new(self.key, f"{head}.{body}".encode("ascii"), self.digest).digest()
        if not hmac.compare_digest(expected, signature):
            return None
        try:
            claims = json.loads(payload)
        except (ValueError, RecursionError):
            return None
        if type(claims) is not dict or not self._claims_ok(claims, verify_exp):
            return None
        return dict(self.header), claims

    def _claims_ok(self, claims: dict, verify_exp: bool) -> bool:
        now = time.time()
        for name in ("iat", "nbf"):
            value = claims.get(name, 0)
            if type(value) is not int or value > now + self.leeway:
                return False
        exp = claims.get("exp", 0)
        if type(exp) is not int or ("exp" in claims and verify_exp and exp <= now - self.leeway):
            return False
        return all(type(claims[name]) is str for name in ("sub", "jti") if name in claims)


@lru_cache(maxsize=8)
def verifier(algorithm: str, key: str | bytes, leeway: float | timedelta) -> HmacVerifier:
    """A verifier per configuration (built once: the key is prepared and the header encoded once)."""
    return HmacVerifier(algorithm, key, leeway)


def applies(algorithms, audience, issuer, key) -> bool:
    """Whether the fast path can stand in for PyJWT under this configuration: one HMAC algorithm, a text or bytes
    key, and no audience or issuer to check."""
    return (len(algorithms) == 1 and algorithms[0] in _DIGESTS and audience is None and issuer is None
            and isinstance(key, (str, bytes)))
