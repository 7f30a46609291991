"""INSERT … ON CONFLICT for whichever database the app uses (PostgreSQL or SQLite), and COPY."""
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db


def insert(table):
    """An insert statement that has on_conflict_do_nothing / on_conflict_do_update on this database."""
    return (pg_insert if is_postgres() else sqlite_insert)(table)


def is_postgres() -> bool:
    """Whether the app's database is PostgreSQL (for COPY, FOR UPDATE and other server-side speed-ups). Read from
    the engine: asking the session would make one, which a hot view the cache answered never needs."""
    return db.engine.dialect.name == "postgresql"


def copy_rows(table: str, columns, rows, types=None) -> None:
    """PostgreSQL COPY of row tuples into a table, inside the session's transaction (bulk paths only). Given the
    columns' PostgreSQL types, in binary: about half the CPU of text on both sides (no bytea hex, no parsing)."""
    raw = db.session.connection().connection.driver_connection
    binary = " (FORMAT BINARY)" if types else ""
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN{binary}") as copy:
        if types:
            copy.set_types(types)
        for row in rows:
            copy.write_row(row)
