"""The patrol check-in code: an HMAC over (patrol id, 60-second window) with a server key. The screen shows a
new code every window; a code is accepted during its own window and the next, so 60 to 120 seconds."""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app

from app import qr
from app.common import signing
from app.errors import ValidationFailed

PREFIX = "JFP1."


def _seconds() -> int:
    return current_app.config["PATROL_CHECKIN_WINDOW_SECONDS"]


def window_of(at: datetime) -> int:
    """The window number an instant falls in."""
    return int(at.timestamp()) // _seconds()


def _seal_args() -> dict:
    return {"prefix": PREFIX, "key": current_app.config["PATROL_CHECKIN_KEY"], "context": b"patrol-checkin:"}


def sign(patrol_id: int, window: int) -> str:
    """The token for a patrol in a window."""
    return signing.seal(**_seal_args(), first=patrol_id, second=window)


def _error(code: str, message: str) -> ValidationFailed:
    return ValidationFailed(code, message, errors={"json": {"token": [message]}})


def invalid() -> ValidationFailed:
    """The error for a token that is not one of ours."""
    return _error("token_invalid", "无法识别的签到码，请扫描负责人手机上正在显示的签到码")


def verify(token: str, now: datetime) -> int:
    """The patrol id of a current token; ValidationFailed token_invalid (forged, garbled, not yet issued) or
    token_expired (a genuine code more than one window old)."""
    pair = signing.unseal(**_seal_args(), token=token)
    if pair is None:
        raise invalid()
    patrol_id, window = pair
    current = window_of(now)
    if window > current:
        raise invalid()
    if window < current - 1:
        raise _error("token_expired", "签到码已过期，请扫描负责人手机上刷新后的签到码")
    return patrol_id


@dataclass(frozen=True)
class Shown:
    """The code to show now, when it stops being accepted, and in how many seconds to fetch the
    next one."""

    token: str
    window_seconds: int
    expires_at: datetime
    refresh_in: int


def current(patrol_id: int, now: datetime) -> Shown:
    """The code to show now."""
    window, seconds = window_of(now), _seconds()
    start = datetime.fromtimestamp(window * seconds, timezone.utc)
    return Shown(sign(patrol_id, window), seconds, start + timedelta(seconds=2 * seconds),
                 max(1, int((start + timedelta(seconds=seconds) - now).total_seconds())))


def png(patrol_id: int, now: datetime) -> bytes:
    """The current code as a QR image for the organiser's screen."""
    return qr.render(current(patrol_id, now).token, "black", "png")
