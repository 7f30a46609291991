"""Fixtures: one app per session (schema built by the migrations, areas seeded), clean tables per test.

SQLite by default; PostgreSQL when TEST_DATABASE_URL is set, Redis when TEST_REDIS_URL is set."""
import os

import flask_migrate
import pytest
from sqlalchemy import text

from app import create_app
from app.areas.seed import seed_areas
from app.extensions import db as _db
from app.extensions import limiter
from config import TestingConfig
from tests import factories
from tests.clock import NOW, freeze

# Reference data that the session loads once and tests never change; every other table is emptied after each test.
# cache_sync too: its generation only ever grows, as in production (each process remembers the highest it saw).
PRESERVED_TABLES = {"areas", "alembic_version", "trades", "interests", "cache_sync"}
# Preserved tables that tests may add to: what a test added is deleted after it (table -> condition to keep).
RESTORED_TABLES = {"trades": "builtin", "interests": "builtin"}


def _reset_schema(app) -> None:
    engine = _db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        _db.drop_all()
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(Config)
    if os.environ.get("REQUIRE_POSTGRES") and not url.startswith("postgresql"):
        raise RuntimeError("REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not PostgreSQL")
    with app.app_context():
        _reset_schema(app)
        flask_migrate.upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
        seed_areas()
        _flush_redis(app)
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("needs PostgreSQL: run with TEST_DATABASE_URL (as .ci/run does)")


def _flush_redis(app) -> None:
    client = app.extensions.get("redis")
    if client is not None:
        client.flushdb()


def clean_tables(app) -> None:
    """Empty every table but the preserved reference data (children first)."""
    _db.session.remove()
    with _db.engine.begin() as conn:
        for table in reversed(_db.metadata.sorted_tables):
            if table.name not in PRESERVED_TABLES:
                conn.execute(table.delete())
            elif table.name in RESTORED_TABLES:
                conn.execute(table.delete().where(text(f"NOT {RESTORED_TABLES[table.name]}")))


@pytest.fixture(autouse=True)
def _context(app):
    """Each test runs in its own app context and leaves empty tables and limits behind."""
    with app.app_context():
        yield
        _db.session.rollback()
        clean_tables(app)
        limiter.reset()
        _flush_redis(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def login():
    """login(role, area="4401") -> (user, headers): a user holding that one role, with a fresh token."""

    def _login(role: str = "resident", area: str = "4401", **kwargs):
        user = factories.user(roles=[(role, area)], **kwargs)
        return user, factories.auth_headers(user)

    return _login


@pytest.fixture
def resident(login):
    return login("resident")


@pytest.fixture
def admin(login):
    return login("admin")


@pytest.fixture
def concurrently(app):
    """concurrently(fn, n) -> results: run fn(i) in n threads at once, each in its own app context and session."""
    import threading

    def run(fn, n):
        barrier, results, errors = threading.Barrier(n), [None] * n, []

        def worker(i):
            with app.app_context():
                try:
                    barrier.wait()
                    results[i] = fn(i)
                except Exception as exc:  # noqa: BLE001 — reported to the test below
                    errors.append(exc)
                finally:
                    _db.session.remove()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return results

    return run


@pytest.fixture
def frozen_at():
    """The time `clock` starts at; a folder's conftest (or a module) overrides it to freeze elsewhere."""
    return NOW


@pytest.fixture
def clock(monkeypatch, frozen_at):
    """The services' time, frozen at `frozen_at` and moved by hand: clock.now, clock.set(when),
    clock.advance(**delta) (tests/clock.py)."""
    return freeze(monkeypatch, frozen_at)


@pytest.fixture(scope="module")
def bench_writes(app):
    """The bench's one-write table, borrowed by a module's tests and dropped after them (not an app table)."""
    from bench import yardsticks

    with app.app_context():
        yardsticks.create_table(_db.engine)
    yield yardsticks.BenchWrite
    with app.app_context():
        _db.session.remove()
        yardsticks.drop_table(_db.engine)
