"""Shared marshmallow fields."""
import unicodedata

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


# Characters a name may never hold once NFKC-normalised: controls (Cc: NUL, CR, LF, tab …) and format characters
# (Cf: bidi embeddings, overrides and isolates, zero-width space/joiners, BOM), which make one name look like another.
_HIDDEN = ("Cc", "Cf")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as the start of a formula


class Name(fields.String):
    """A free-text name (person, venue, group, trade …): NFKC-normalised, without invisible or bidi characters;
    with `no_formula`, also refused when it starts like a spreadsheet formula."""

    def __init__(self, *, no_formula: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.no_formula = no_formula

    def _deserialize(self, value, attr, data, **kwargs):
        text = unicodedata.normalize("NFKC", super()._deserialize(value, attr, data, **kwargs))
        if any(unicodedata.category(ch) in _HIDDEN for ch in text):
            raise ValidationError("不能包含控制字符、零宽字符或文字方向控制符")
        if self.no_formula and text.startswith(FORMULA_START):
            raise ValidationError("不能以 = + - @ 开头")
        return text


class Text(fields.String):
    """Free text: a string without NUL characters (PostgreSQL text cannot hold them)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("不能包含空字符")
        return text
# The years a date or time sent to the API may fall in: wide enough for any real use, narrow enough that shifting
# a value by a time zone or a day can never leave what Python and the databases hold.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999


def _in_years(value) -> None:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(f"应在 {EARLIEST_YEAR} 年到 {LATEST_YEAR} 年之间")


class BoundedDate(fields.Date):
    """A calendar date between EARLIEST_YEAR and LATEST_YEAR."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        _in_years(day)
        return day


class BoundedAwareDateTime(fields.AwareDateTime):
    """A timezone-aware ISO 8601 time whose local date lies between EARLIEST_YEAR and LATEST_YEAR."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        _in_years(moment)
        return moment
