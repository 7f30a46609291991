"""Small SQL constructs that compile differently per dialect, and the autocommit mode of the hot paths."""
from functools import wraps

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class epoch(FunctionElement):
    """Seconds since 1970 of a timestamp column, as an integer, on PostgreSQL and SQLite alike."""

    type = Integer()
    inherit_cache = True


@compiles(epoch, "postgresql")
def _epoch_pg(element, compiler, **kw):
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS BIGINT)"


@compiles(epoch, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


AUTOCOMMIT = "jiefang_autocommit"  # the session.info flag app.extensions.Session.get_bind reads


def autocommit(view):
    """Run a hot view's statements without BEGIN / COMMIT / ROLLBACK round trips (driver autocommit).

    Only for views whose every write is ONE statement (atomic on its own) and whose reads need no common
    snapshot: token issue, staff verify + scan, check-in, tracing (one read, one audit row). Anything that needs
    a real transaction (a row lock, two writes that stand or fall together) calls `transaction()` first. Put it directly under `@blp.route`.
    Nothing is checked out here: the session takes an autocommit connection only if the view reaches the
    database at all (token issue from the cache does not)."""
    from app.extensions import db

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not db.session().in_transaction():  # a caller holding the session open (a test) keeps its transaction
            db.session.info[AUTOCOMMIT] = True
        return view(*args, **kwargs)

    return wrapper


def transaction() -> None:
    """Make the next statements run in a real transaction, even inside an `autocommit` view."""
    from app.extensions import db

    if db.session.info.pop(AUTOCOMMIT, False) and db.session().in_transaction():
        db.session.commit()  # ends the autocommit connection's use; the next statement begins a transaction
