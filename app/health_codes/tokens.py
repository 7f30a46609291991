"""The dynamic code's token (亮码), and its offline check: a pure module a scanner app can use as is.

Layout (big-endian), then base64url without padding:

    version u8 (=1) | kid_len u8 | kid (ASCII, 1-8) | ref (8 random bytes) | colour u8 (0 green,
    1 yellow, 2 red) | issued_at u32 (Unix s) | ttl u8 (s, ≤ 120) | Ed25519 signature (64 bytes)

The signature covers CONTEXT + everything before it. `ref` is the code's random pseudonym: the token holds
no name, phone or document number. With an 8-character key id it is 118 characters, so it always fits a
QR code of version 7 at error correction M (122 bytes). The colour is a hint for display only: a verifier
online asks the server for the current colour.

    keys = keys_from_jwks(requests.get(".../api/v1/health-codes/keys").json())
    claims = verify(token, keys, now=time.time())   # raises TokenInvalid / TokenExpired"""
import base64
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = 1
CONTEXT = b"jiefang/health-code-token/v1\x00"
COLOURS = ("green", "yellow", "red")
REF_BYTES = 8
MAX_TTL_SECONDS = 120
MAX_KID_LENGTH = 8
CLOCK_SKEW_SECONDS = 30
_TAIL = struct.Struct(f">{REF_BYTES}sBIB")
_SIG_BYTES = 64
_B64URL = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


class TokenError(Exception):
    """A token that must not be accepted; `error` is the API's error code."""

    error = "token_invalid"


class TokenInvalid(TokenError):
    error = "token_invalid"


class TokenExpired(TokenError):
    error = "token_expired"


@dataclass(frozen=True)
class Claims:
    kid: str
    ref: bytes
    colour: str
    issued_at: int
    expires_at: int


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def sign(*, key: Ed25519PrivateKey, kid: str, ref: bytes, colour: str, issued_at: int, ttl: int) -> str:
    """A signed token valid for ttl seconds (at most MAX_TTL_SECONDS) from issued_at. key: cryptography's private
    key, or any object whose sign(data) gives the same 64-byte Ed25519 signature (the server's libsodium signer)."""
    kid_bytes = kid.encode("ascii")
    if not 0 < len(kid_bytes) <= MAX_KID_LENGTH or len(ref) != REF_BYTES or not 0 < ttl <= MAX_TTL_SECONDS:
        raise ValueError("kid, ref or ttl out of range")
    body = bytes([VERSION, len(kid_bytes)]) + kid_bytes + _TAIL.pack(ref, COLOURS.index(colour), issued_at, ttl)
    return _b64encode(body + key.sign(CONTEXT + body))


def _public(key) -> Ed25519PublicKey:
    """A key object (cryptography's, or any with its verify(signature, data) raising InvalidSignature), or the
    object for 32 raw bytes."""
    return key if callable(getattr(key, "verify", None)) else Ed25519PublicKey.from_public_bytes(bytes(key))


def _decode(token) -> bytes:
    if not isinstance(token, str) or not _B64URL.match(token):
        raise TokenInvalid("not base64url")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:  # binascii.Error: a length no encoder produces
        raise TokenInvalid("bad base64") from None
    if _b64encode(raw) != token:  # a non-canonical spelling of the same bytes: refuse malleable tokens
        raise TokenInvalid("non-canonical encoding")
    return raw


def parse(token: str) -> tuple[Claims, bytes, bytes]:
    """(claims, signed body, signature), checking only the layout: NOT a verification."""
    raw = _decode(token)
    if len(raw) < 2 or raw[0] != VERSION or len(raw) != 2 + raw[1] + _TAIL.size + _SIG_BYTES:
        raise TokenInvalid("bad layout")
    n = raw[1]
    body, signature = raw[:-_SIG_BYTES], raw[-_SIG_BYTES:]
    ref, colour, issued_at, ttl = _TAIL.unpack(body[2 + n:])
    try:
        kid = body[2:2 + n].decode("ascii")
        colour_name = COLOURS[colour]
    except (UnicodeDecodeError, IndexError):
        raise TokenInvalid("bad field") from None
    return Claims(kid, ref, colour_name, issued_at, issued_at + ttl), body, signature


def verify(token: str, keys: Mapping[str, Ed25519PublicKey | bytes], now: datetime | float,
           *, leeway: int = 0) -> Claims:
    """The token's claims if it is well formed, signed by the key its kid names, and not expired at `now`.

    keys maps kid → public key (an object with cryptography's verify(signature, data), or 32 raw bytes); a retired
    key is simply left out of it."""
    claims, body, signature = parse(token)
    key = keys.get(claims.kid)
    if key is None:
        raise TokenInvalid("unknown key id")
    try:
        _public(key).verify(signature, CONTEXT + body)
    except (InvalidSignature, ValueError):
        raise TokenInvalid("bad signature") from None
    at = now.timestamp() if isinstance(now, datetime) else float(now)
    if not 0 < claims.expires_at - claims.issued_at <= MAX_TTL_SECONDS:
        raise TokenInvalid("validity too long")
    if claims.issued_at > at + CLOCK_SKEW_SECONDS + leeway:
        raise TokenInvalid("issued in the future")
    if at >= claims.expires_at + leeway:
        raise TokenExpired("expired")
    return claims


def keys_from_jwks(jwks: Mapping) -> dict[str, bytes]:
    """{kid: raw public key} from the JSON that GET /api/v1/health-codes/keys publishes."""
    return {k["kid"]: base64.urlsafe_b64decode(k["x"] + "=" * (-len(k["x"]) % 4))
            for k in jwks.get("keys", []) if k.get("kty") == "OKP" and k.get("crv") == "Ed25519"}
