"""Keyset pagination: an opaque cursor holds the last row's sort key; never OFFSET."""
import base64
import json
from datetime import datetime, timedelta, timezone

import marshmallow as ma

from app.common.fields import id_value
from app.errors import ValidationFailed


class PageArgs(ma.Schema):
    """Query arguments every paginated list takes."""

    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=512),
                              metadata={"description": "上一页返回的 next_cursor"})
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 100))


def encode_cursor(key: list) -> str:
    """Opaque cursor for a sort key."""
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def _invalid() -> ValidationFailed:
    return ValidationFailed("cursor_invalid", "分页游标无效，请从第一页重新加载",
                            errors={"query": {"cursor": ["无效的游标"]}})


def decode_cursor(cursor: str | None, *kinds) -> list | None:
    """The sort key in a cursor, each part read by its kind (`key_id`, `key_text`, `key_code`, `key_time`,
    `key_iso`), or ValidationFailed(cursor_invalid): a forged cursor never reaches the database."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError, RecursionError):
        key = None
    if not isinstance(key, list) or len(key) != len(kinds):
        raise _invalid()
    return [kind(value) for kind, value in zip(kinds, key)]


def key_text(value) -> str:
    """A short text a cursor holds (a name, a code), or ValidationFailed(cursor_invalid)."""
    if not isinstance(value, str) or len(value) > 200 or "\x00" in value:
        raise _invalid()
    return value


def key_code(value) -> str:
    """An area code a cursor holds (2 to 14 digits), or ValidationFailed(cursor_invalid)."""
    if not isinstance(value, str) or not (value.isascii() and value.isdigit() and 2 <= len(value) <= 14):
        raise _invalid()
    return value


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


# Cursor times lie between these (microseconds since 1970): the years 1970 to 2999.
_TIME_KEY_RANGE = range(0, 32503680000 * 10**6)


def time_key(value: datetime) -> int:
    """A timestamp as an exact integer (microseconds since 1970) for a cursor."""
    return (value.astimezone(timezone.utc) - _EPOCH) // _MICROSECOND


def key_time(value) -> datetime:
    """The timestamp a cursor's time_key holds, or ValidationFailed(cursor_invalid)."""
    if not isinstance(value, int) or isinstance(value, bool) or value not in _TIME_KEY_RANGE:
        raise _invalid()
    return _EPOCH + value * _MICROSECOND


def key_iso(value) -> datetime:
    """A timezone-aware ISO 8601 timestamp a cursor holds, or ValidationFailed(cursor_invalid)."""
    try:
        moment = datetime.fromisoformat(key_text(value))
    except ValueError:
        raise _invalid() from None
    if moment.tzinfo is None or not 1970 <= moment.year < 3000:
        raise _invalid()
    return moment


def key_id(value) -> int:
    """A BIGINT id a cursor holds (ids travel as strings), or ValidationFailed(cursor_invalid)."""
    number = id_value(value)
    if number is None:
        raise _invalid()
    return number


def page(rows: list, limit: int, key) -> dict:
    """{"items", "next_cursor"} from limit+1 fetched rows and a function giving a row's sort key."""
    items = rows[:limit]
    next_cursor = encode_cursor(key(items[-1])) if len(rows) > limit and items else None
    return {"items": items, "next_cursor": next_cursor}


_page_schemas: dict = {}


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """A page of item_schema: {"items": [...], "next_cursor": str|null} (one class per item schema)."""
    name = item_schema.__name__.removesuffix("Read") + "Page"
    if name not in _page_schemas:
        _page_schemas[name] = type(name, (ma.Schema,), {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "next_cursor": ma.fields.String(allow_none=True, required=True),
        })
    return _page_schemas[name]


def time_page(query, time_column, id_column, *, cursor: str | None, limit: int, newest_first: bool = False) -> dict:
    """A keyset page of `query` in (time, id) order, oldest or newest first, after the cursor's row.

    For a query of one entity the items are entities; otherwise rows whose first element carries the columns."""
    from sqlalchemy import tuple_

    from app.extensions import db

    position = tuple_(time_column, id_column)
    after = decode_cursor(cursor, key_time, key_id)
    if after:
        query = query.where(position < tuple(after) if newest_first else position > tuple(after))
    order = (time_column.desc(), id_column.desc()) if newest_first else (time_column, id_column)
    result = db.session.execute(query.order_by(*order).limit(limit + 1))
    single = len(query.column_descriptions) == 1
    rows = result.scalars().all() if single else result.all()

    def key(row):
        item = row if single else row[0]
        return [time_key(getattr(item, time_column.key)), str(getattr(item, id_column.key))]

    return page(rows, limit, key)
