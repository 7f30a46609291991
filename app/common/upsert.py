"""INSERT … ON CONFLICT for whichever database the session is bound to (PostgreSQL or SQLite)."""
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db


def insert(table):
    """An insert statement that has on_conflict_do_nothing / on_conflict_do_update on this database."""
    return (pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)


def is_postgres() -> bool:
    """Whether the session talks to PostgreSQL (for COPY, FOR UPDATE and other server-side speed-ups)."""
    return db.session.get_bind().dialect.name == "postgresql"
