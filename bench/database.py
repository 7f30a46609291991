"""The bench database: created when missing, migrated, seeded; and Fixtures, the data scenarios ask for."""
import uuid
import zlib
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"


class BenchError(RuntimeError):
    """Something the bench cannot work around; the message says what to do."""


def _admin_engine(url: str):
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def ensure_database(url: str, *, fresh: bool) -> None:
    """Create the bench database when missing (drop it first when fresh)."""
    name = make_url(url).database
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            if fresh:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 — the message below says what to do
        raise BenchError(f"PostgreSQL is not reachable at {make_url(url).render_as_string(hide_password=True)} "
                         f"({type(exc).__name__}); start it (e.g. pg_ctlcluster 15 main start) or set "
                         f"BENCH_DATABASE_URL") from None
    finally:
        engine.dispose()


def migrate_and_seed(app, url: str) -> list[str]:
    """Bring the schema to head (recreating the database if its history is foreign) and load the areas."""
    import flask_migrate
    from alembic.util import CommandError

    from app.areas.seed import seed_areas
    from app.extensions import db
    from bench import yardsticks

    lines = []
    with app.app_context():
        try:
            flask_migrate.upgrade(directory=str(MIGRATIONS))
            stale = not set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
        except CommandError:
            stale = True
        if stale:  # revisions re-chained since the last run (branches merged): this database is disposable
            db.session.remove()
            db.engine.dispose()
            ensure_database(url, fresh=True)
            lines.append("bench database recreated (its migration history no longer matches the code)")
            flask_migrate.upgrade(directory=str(MIGRATIONS))
        added = seed_areas()
        yardsticks.create_table(db.engine)
        db.session.execute(text("TRUNCATE bench_writes"))
        db.session.commit()
        lines.append(f"schema at head; areas: {added} added")
    return lines


class Fixtures:
    """Data that scenarios ask for, made once per run and reused across runs (looked up by username)."""

    def __init__(self, app):
        self.app = app
        self._tokens: dict = {}

    def users(self, n: int, role: str = "resident", area: str = "4401") -> list:
        """n users holding role over area (created on first use; each has an encrypted phone)."""
        from sqlalchemy import select

        from app.auth import service as auth_service
        from app.auth.models import RoleGrant, User
        from app.common.crypto import cipher
        from app.extensions import db

        names = [f"bench-{role}-{area}-{i:05d}" for i in range(n)]
        have = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names)))}
        for name in names:
            if name not in have:
                phone = f"199{zlib.crc32(name.encode()) % 10**8:08d}"  # stable per user, made up
                user = User(username=name, phone_hash=auth_service.phone_hash(phone),
                            phone_enc=cipher().encrypt(phone, b"phone"))
                user.grants = [RoleGrant(role=role, area_code=area)]
                db.session.add(user)
                have[name] = user
        db.session.commit()
        return [have[name] for name in names]

    def tokens(self, n: int = 100, role: str = "resident", area: str = "4401") -> list[str]:
        """Fresh access tokens (valid for the whole run, as from a sign-in with its second factor) of n users
        holding role over area."""
        key = (n, role, area)
        if key not in self._tokens:
            self._tokens[key] = [self.token_for(u) for u in self.users(n, role, area)]
        return self._tokens[key]

    @staticmethod
    def token_for(user) -> str:
        from flask_jwt_extended import create_access_token

        return create_access_token(identity=str(user.id), fresh=True, expires_delta=timedelta(hours=12),
                                   additional_claims={"fam": str(uuid.uuid4()), "mfa": True})

    @staticmethod
    def area_codes(level: str, n: int) -> list[str]:
        """n area codes of a level, spread evenly over the city."""
        from sqlalchemy import select

        from app.areas.models import Area
        from app.extensions import db

        codes = db.session.scalars(select(Area.code).where(Area.level == level).order_by(Area.code)).all()
        step = max(1, len(codes) // n)
        return codes[::step][:n]
