"""Shared marshmallow fields."""
from marshmallow import ValidationError, fields

from app.common.converters import MAX_ID


class Id(fields.Field):
    """A random BIGINT id, written as a decimal string in JSON (JavaScript numbers cannot hold 63 bits)."""

    def __init__(self, **kwargs):
        metadata = {"type": "string", "pattern": r"^[1-9][0-9]{0,18}$", "example": "7120448265311742211",
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)

    def _deserialize(self, value, attr, data, **kwargs):
        number = id_value(value)
        if number is None:
            raise ValidationError("无效的编号")
        return number


def id_value(value) -> int | None:
    """The id a JSON value spells as `Id` reads it ("123" or 123), or None."""
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit()) or text.startswith("0") or int(text) > MAX_ID:
        return None
    return int(text)
