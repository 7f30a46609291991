"""Small SQL constructs that compile differently per dialect, and the autocommit mode of the hot paths."""
from contextvars import ContextVar
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
# set while an `autocommit` view runs that found no session: a session made meanwhile starts with the flag
autocommit_view: ContextVar[bool] = ContextVar("jiefang_autocommit_view", default=False)


def _existing_session():
    """This context's session if one was made already, else None (without making one just to ask)."""
    from app.extensions import db

    return db.session() if db.session.registry.has() else None


def autocommit(view):
    """Run a hot view's statements without BEGIN / COMMIT / ROLLBACK round trips (driver autocommit).

    Only for views whose every write is ONE statement (atomic on its own) and whose reads need no common
    snapshot: token issue, staff verify + scan, check-in, tracing (one read, one audit row). Anything that needs
    a real transaction (a row lock, two writes that stand or fall together) calls `transaction()` first.
    `app.api.hot_route` puts it directly under the route. Nothing is made here: a session, and its autocommit
    connection, exist only if the view reaches the database at all (token issue from the cache does not, and
    would pay for making and removing an unused session)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        session = _existing_session()
        if session is not None:
            if not session.in_transaction():  # a caller holding the session open (a test) keeps its transaction
                session.info[AUTOCOMMIT] = True
            return view(*args, **kwargs)
        token = autocommit_view.set(True)
        try:
            return view(*args, **kwargs)
        finally:
            autocommit_view.reset(token)

    return wrapper


def autocommit_engine(engine):
    """The engine's AUTOCOMMIT variant (same pool: the level is set on check-out and reset on return), made once."""
    variant = engine.__dict__.get("_jiefang_autocommit")
    if variant is None:
        variant = engine._jiefang_autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    return variant


def execute_alone(statement, params: dict) -> list:
    """Run ONE statement and return its rows (none for a write without RETURNING). For a hot path's single write:
    when the session holds no real transaction (an `autocommit` view, or none begun), the statement runs on a pooled
    connection of its own in driver autocommit and commits by itself, outside the session, whose bookkeeping around
    a statement costs more CPU than the statement; an autocommit session first hands its
    connection back, so a request never holds two. Inside a caller's real transaction it joins that transaction
    (the caller commits). Engine events (statement counts in tests) see it as any other statement."""
    from app.extensions import db

    session = _existing_session()
    if session is not None and session.in_transaction():
        if not session.info.get(AUTOCOMMIT):
            result = session.execute(statement, params)
            return result.all() if result.returns_rows else []
        session.commit()  # nothing is pending in driver autocommit: this only returns the connection to the pool
    with autocommit_engine(db.engine).connect() as conn:
        result = conn.execute(statement, params)
        return result.all() if result.returns_rows else []


def commit_held() -> None:
    """Commit the session's open transaction, if there is a session at all: after an `execute_alone` write that
    joined a caller's transaction. Makes no session when the view never needed one."""
    session = _existing_session()
    if session is not None:
        session.commit()


def transaction() -> None:
    """Make the next statements run in a real transaction, even inside an `autocommit` view."""
    from app.extensions import db

    if db.session.info.pop(AUTOCOMMIT, False) and db.session().in_transaction():
        db.session.commit()  # ends the autocommit connection's use; the next statement begins a transaction
