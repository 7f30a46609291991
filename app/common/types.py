"""Column types that behave the same on SQLite and PostgreSQL."""
from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.types import TypeDecorator

from app.common.time import as_utc


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime; SQLite's naive values come back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        value = as_utc(value)
        if value is not None and dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return as_utc(value)


def code_string(length: int) -> String:
    """A string of area-style codes, byte-ordered on PostgreSQL so that prefix range scans use the index."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def byte_string(length: int) -> String:
    """A keyed hash or a fixed code, only ever compared for equality: compared byte by byte on PostgreSQL (collation
    "C"), so that its unique index skips the locale's rules (a fifth of an account insert's cost in bulk imports)."""
    return code_string(length)
