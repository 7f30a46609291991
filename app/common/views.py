"""A row with the values a response shows beside its columns, for a marshmallow schema to dump."""


class View:
    """A model row read through, plus values a service worked out for it (names and counts read in
    bulk for a whole page, a phone read from another domain). A schema dumps it like the row: an
    attribute given here wins, any other is the row's own."""

    def __init__(self, row, **values):
        self.row = row
        self.__dict__.update(values)

    def __getattr__(self, name: str):
        # Only reached for names not given above: read them from the row.
        if name == "row":  # not set yet (a copy being made): no row to read through
            raise AttributeError(name)
        return getattr(self.row, name)

    def __repr__(self) -> str:
        return f"<View of {self.row!r}>"
