"""The 场所码 token: HMAC-signed (venue id, code version); bumping the version kills every old poster."""
import base64
import hashlib
import hmac
import struct

from flask import current_app

from app.errors import ValidationFailed

PREFIX = "JFV1."
_INVALID = ("venue_code_invalid", "场所码无效，请扫描场所张贴的最新场所码")


def _mac(body: bytes) -> bytes:
    key = current_app.config["VENUE_CODE_KEY"].encode()
    return hmac.new(key, body, hashlib.sha256).digest()[:16]


def sign(venue_id: int, version: int) -> str:
    """The token printed on a venue's poster."""
    body = struct.pack(">QI", venue_id, version)
    return PREFIX + base64.urlsafe_b64encode(body + _mac(body)).decode().rstrip("=")


def parse(token: str) -> tuple[int, int]:
    """(venue id, version) from a token, or ValidationFailed(venue_code_invalid); the version is checked by the caller."""
    if not isinstance(token, str) or not token.startswith(PREFIX) or len(token) > 64:
        raise ValidationFailed(*_INVALID)
    raw = token[len(PREFIX):]
    try:
        blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (ValueError, TypeError):
        raise ValidationFailed(*_INVALID) from None
    if len(blob) != 28 or not hmac.compare_digest(blob[12:], _mac(blob[:12])):
        raise ValidationFailed(*_INVALID)
    return struct.unpack(">QI", blob[:12])
