"""URL converters: `<int:…>` ids stop at BIGINT, so a huge number is a 404, never a database overflow.

The document calls path ids strings of digits: they are 63-bit, more than a JavaScript number holds exactly, and
the JSON bodies carry them as strings too."""
from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """A non-negative integer id that fits a BIGINT."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def install(app, api) -> None:
    """Make `<int:…>` the bounded converter, documented as a string of digits."""
    app.url_map.converters["int"] = IdConverter
    api.register_converter(IdConverter, lambda _c: {"type": "string", "pattern": r"^[0-9]{1,19}$",
                                                    "example": "7120448265311742211"})
