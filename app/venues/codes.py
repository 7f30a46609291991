"""The 场所码 token: HMAC-signed (venue id, code version); bumping the version kills every old poster."""
from flask import current_app

from app.common import signing
from app.errors import ValidationFailed

PREFIX = "JFV1."
_INVALID = ("venue_code_invalid", "场所码无效，请扫描场所张贴的最新场所码")


def sign(venue_id: int, version: int) -> str:
    """The token printed on a venue's poster."""
    return signing.seal(prefix=PREFIX, key=current_app.config["VENUE_CODE_KEY"], context=b"",
                        first=venue_id, second=version)


def parse(token: str) -> tuple[int, int]:
    """(venue id, version) from a token, or ValidationFailed(venue_code_invalid); the version is checked by the caller."""
    pair = signing.unseal(prefix=PREFIX, key=current_app.config["VENUE_CODE_KEY"], context=b"", token=token)
    if pair is None:
        raise ValidationFailed(*_INVALID)
    return pair


def peek_venue_id(token) -> int | None:
    """The venue id of a valid token, else None; never raises (it names cache keys before the request is checked)."""
    pair = signing.unseal(prefix=PREFIX, key=current_app.config["VENUE_CODE_KEY"], context=b"", token=token)
    return pair[0] if pair else None
