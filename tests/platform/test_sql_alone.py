"""`execute_alone`, the hot paths' single write: alone in driver autocommit when the session holds no real
transaction (never two connections for one request), inside the caller's transaction when it holds one. And the
`autocommit` view decorator: no session made for a view that never reaches the database, driver autocommit for
one made inside the view, and only there."""
import pytest
from sqlalchemy import event, func, insert, select

from app.common.ids import random_id
from app.common.sql import AUTOCOMMIT, autocommit, commit_held, execute_alone
from app.common.time import utcnow
from app.extensions import db as _db
from bench.yardsticks import BenchWrite

_INSERT = insert(BenchWrite.__table__)
pytestmark = pytest.mark.usefixtures("bench_writes")  # the bench's table: a plain write on no app table


def _row(note: str) -> dict:
    return {"id": random_id(), "note": note, "created_at": utcnow()}


def _count(note: str) -> int:
    with _db.engine.connect() as conn:  # another connection: sees committed rows only
        return conn.execute(select(func.count()).select_from(BenchWrite).where(BenchWrite.note == note)).scalar()


def test_alone_commits_by_itself(db):
    assert execute_alone(_INSERT, _row("alone")) == []
    db.session.rollback()  # nothing of the session's to undo
    assert _count("alone") == 1


def test_inside_a_callers_transaction_it_joins_it(db):
    db.session.execute(select(1))  # the caller's transaction is open
    execute_alone(_INSERT, _row("joined"))
    assert _count("joined") == 0  # not committed yet: it is the caller's
    db.session.rollback()
    assert _count("joined") == 0
    db.session.execute(select(1))
    execute_alone(_INSERT, _row("joined"))
    db.session.commit()
    assert _count("joined") == 1


def test_an_autocommit_session_gives_its_connection_back_first(db):
    db.session.info[AUTOCOMMIT] = True
    db.session.execute(select(1))  # an autocommit view read something: the session holds a connection
    held = []

    def seen(conn, *_args):
        held.append(_db.engine.pool.checkedout())

    event.listen(_db.engine, "before_cursor_execute", seen)
    try:
        rows = execute_alone(insert(BenchWrite.__table__).returning(BenchWrite.id), _row("autocommit"))
    finally:
        event.remove(_db.engine, "before_cursor_execute", seen)
    assert len(rows) == 1 and held == [1]  # one connection at a time, and the row's id came back
    assert not db.session().in_transaction() and _count("autocommit") == 1


def test_an_autocommit_view_that_never_reaches_the_database_makes_no_session(app):
    with app.app_context():  # a request's own context: no session yet
        assert autocommit(lambda: "from the cache")() == "from the cache"
        assert not _db.session.registry.has()


def test_a_session_made_inside_an_autocommit_view_writes_in_driver_autocommit(app):
    def view():
        _db.session.execute(_INSERT, _row("inside"))
        return _count("inside")  # another connection sees it at once: committed by itself

    with app.app_context():
        assert not _db.session.registry.has()
        assert autocommit(view)() == 1
        _db.session.remove()  # the request ends
        _db.session.execute(_INSERT, _row("inside"))  # a session made after the view: a real transaction again
        assert _count("inside") == 1
        _db.session.rollback()
        assert _count("inside") == 1


def test_an_autocommit_view_keeps_a_callers_open_transaction(db):
    db.session.execute(select(1))  # the caller (a test, a CLI command) holds a transaction

    def view():
        db.session.execute(_INSERT, _row("held"))
        return _count("held")

    assert autocommit(view)() == 0  # joined the caller's transaction: not committed
    assert AUTOCOMMIT not in db.session.info
    db.session.rollback()
    assert _count("held") == 0


def test_alone_and_commit_held_make_no_session_when_there_is_none(app):
    with app.app_context():  # a request whose view read everything from the cache
        assert execute_alone(_INSERT, _row("sessionless")) == []
        commit_held()
        assert not _db.session.registry.has()
        assert _count("sessionless") == 1
