"""Short signed tokens for codes on posters and screens: PREFIX + base64url(two integers + a 16-byte HMAC).

The 场所码 (venue id, version) and the patrol check-in code (patrol id, window) share this format; each
passes its own prefix, key and context, so one kind of token can never pass for the other."""
import base64
import hashlib
import hmac
import struct

_BODY = struct.Struct(">QI")
_MAC_BYTES = 16
MAX_LENGTH = 64


def _mac(key: str, context: bytes, body: bytes, size: int = _MAC_BYTES) -> bytes:
    return hmac.new(key.encode(), context + body, hashlib.sha256).digest()[:size]


def seal(*, prefix: str, key: str, context: bytes, first: int, second: int, mac_bytes: int = _MAC_BYTES) -> str:
    """A token carrying (first: 64-bit, second: 32-bit), signed with key (a MAC of mac_bytes)."""
    body = _BODY.pack(first, second)
    return prefix + base64.urlsafe_b64encode(body + _mac(key, context, body, mac_bytes)).decode().rstrip("=")


def unseal(*, prefix: str, key: str, context: bytes, token, mac_bytes: int = _MAC_BYTES) -> tuple[int, int] | None:
    """(first, second) from a genuine token, or None for anything forged, garbled or of another kind."""
    if not isinstance(token, str) or not token.startswith(prefix) or len(token) > MAX_LENGTH:
        return None
    raw = token[len(prefix):]
    try:
        blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (ValueError, TypeError):
        return None
    body = blob[:_BODY.size]
    if len(blob) != _BODY.size + mac_bytes or not hmac.compare_digest(blob[_BODY.size:],
                                                                      _mac(key, context, body, mac_bytes)):
        return None
    return _BODY.unpack(body)
