"""What Alembic's autogenerate compares: the models, not the monthly partitions made at run time."""
import re

_PARTITION = re.compile(r"^scans_(y\d{4}m\d{2}|default)$")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Skip partitions of the scans table (and their indexes), which maintenance creates and drops."""
    if type_ == "table" and _PARTITION.match(name or ""):
        return False
    table = getattr(obj, "table", None)
    return not (type_ in ("index", "unique_constraint") and table is not None and _PARTITION.match(table.name))
