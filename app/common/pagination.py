"""Keyset pagination: an opaque cursor holds the last row's sort key; never OFFSET."""
import base64
import json

import marshmallow as ma

from app.errors import ValidationFailed


class PageArgs(ma.Schema):
    """Query arguments every paginated list takes."""

    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=512),
                              metadata={"description": "上一页返回的 next_cursor"})
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 100))


def encode_cursor(key: list) -> str:
    """Opaque cursor for a sort key."""
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list | None:
    """The sort key in a cursor, or ValidationFailed(cursor_invalid)."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != arity or not all(isinstance(k, (str, int)) for k in key):
        raise ValidationFailed("cursor_invalid", "分页游标无效，请从第一页重新加载",
                               errors={"query": {"cursor": ["无效的游标"]}})
    return key


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
