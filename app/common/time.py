"""Time: timezone-aware UTC everywhere inside, Asia/Shanghai for people."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (tests freeze it by patching this function's users)."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """Attach UTC to a naive datetime (SQLite returns naive ones) or convert an aware one."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def to_shanghai(value: datetime | None) -> datetime | None:
    """For display: the same instant in Asia/Shanghai."""
    return None if value is None else as_utc(value).astimezone(SHANGHAI)
