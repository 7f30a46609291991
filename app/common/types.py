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
