"""What a data section loaded, kept as a JSON COMMENT on the table it filled: a re-run that finds the same plan
skips the load (and repeats the first load's figures), and the marker goes with the database, not with a file."""
import json

from sqlalchemy import text


def read(db, table: str) -> dict:
    comment = db.session.execute(text("SELECT obj_description(CAST(:t AS regclass), 'pg_class')"),
                                 {"t": table}).scalar()
    try:
        return json.loads(comment or "{}")
    except ValueError:
        return {}


def write(db, table: str, data: dict) -> None:
    quoted = json.dumps(data, ensure_ascii=False).replace("'", "''")
    db.session.execute(text(f"COMMENT ON TABLE {table} IS '{quoted}'"))
    db.session.commit()


def matches(have: dict, want: dict) -> bool:
    """Whether the marker records the same plan (every key of `want` equal)."""
    return all(have.get(k) == v for k, v in want.items())
