"""The 场所码 token: HMAC-signed (venue id, code version); bumping the version kills every old poster.

Two forms of the same pair. The short id `V…` (31 characters: a 10-byte MAC) fits a 小程序码's 32-character
`scene` and the link `VENUE_LINK_BASE + id`; the long `JFV1.…` (a 16-byte MAC) is what older posters carry. Both
are accepted until the venue's code is rotated; a link under VENUE_LINK_BASE is accepted as its short id."""
from dataclasses import dataclass

from flask import current_app

from app.common import signing
from app.errors import ValidationFailed

PREFIX = "JFV1."
SHORT_PREFIX = "V"
_SHORT = {"prefix": SHORT_PREFIX, "context": b"short", "mac_bytes": 10}
_INVALID = ("venue_code_invalid", "场所码无效，请扫描场所张贴的最新场所码")


@dataclass(frozen=True)
class CodeForms:
    """Every form of a venue's current code, as its staff print or share it."""

    venue_code: str
    short_id: str
    link: str
    poster_url: str
    code_version: int


def sign(venue_id: int, version: int) -> str:
    """The long token printed on posters made before short ids."""
    return signing.seal(prefix=PREFIX, key=current_app.config["VENUE_CODE_KEY"], context=b"",
                        first=venue_id, second=version)


def short_id(venue_id: int, version: int) -> str:
    """The short id (≤ 32 characters, URL- and scene-safe) of the venue's code."""
    return signing.seal(key=current_app.config["VENUE_CODE_KEY"], first=venue_id, second=version, **_SHORT)


def link(short: str) -> str:
    """The ordinary URL a poster's QR carries for 扫普通链接二维码打开小程序."""
    return current_app.config["VENUE_LINK_BASE"] + short


def _unseal(token) -> tuple[int, int] | None:
    key = current_app.config["VENUE_CODE_KEY"]
    if not isinstance(token, str):
        return None
    base = current_app.config["VENUE_LINK_BASE"]
    if token.startswith(base):
        token = token[len(base):]
    if token.startswith(PREFIX):
        return signing.unseal(prefix=PREFIX, key=key, context=b"", token=token)
    return signing.unseal(key=key, token=token, **_SHORT)


def parse(token: str) -> tuple[int, int]:
    """(venue id, version) from a token, or ValidationFailed(venue_code_invalid); the version is checked by the
    caller."""
    pair = _unseal(token)
    if pair is None:
        raise ValidationFailed(*_INVALID)
    return pair


def peek_venue_id(token) -> int | None:
    """The venue id of a valid token, else None; never raises (it names cache keys before the request is checked)."""
    pair = _unseal(token)
    return pair[0] if pair else None
