"""URL converters: `<int:…>` ids stop at BIGINT, so a huge number is a 404, never a database overflow."""
from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """A non-negative integer id that fits a BIGINT."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def install(app, api) -> None:
    """Make `<int:…>` the bounded converter, documented as int64."""
    app.url_map.converters["int"] = IdConverter
    api.register_converter(IdConverter, lambda _c: {"type": "integer", "format": "int64", "minimum": 0,
                                                    "maximum": MAX_ID})
