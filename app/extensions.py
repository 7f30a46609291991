"""Extensions, created unbound and bound in create_app()."""
import flask.sessions
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Engine, MetaData
from sqlalchemy.orm import DeclarativeBase

from app.common.migrations import include_object
from app.common.sql import AUTOCOMMIT, autocommit_engine, autocommit_view
from app.errors import Api

# Stable constraint names, so that migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Session(FlaskSession):
    """Flask-SQLAlchemy's session; inside an `app.common.sql.autocommit` view it connects through the engine's
    AUTOCOMMIT variant (same pool; SQLAlchemy sets the level on check-out and resets it on return)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if autocommit_view.get():  # made inside an autocommit view that had no session yet
            self.info[AUTOCOMMIT] = True

    def get_bind(self, *args, **kwargs):
        bind = super().get_bind(*args, **kwargs)
        if self.info.get(AUTOCOMMIT) and isinstance(bind, Engine):
            return autocommit_engine(bind)
        return bind


# expire_on_commit=False: a committed row stays readable without a reload (no extra SELECT on hot paths).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False, "class_": Session})
migrate = Migrate(compare_type=True, render_as_batch=True, include_object=include_object)


class NoCookieSessions(flask.sessions.SessionInterface):
    """The API keeps no cookie session (tokens travel in the Authorization header): every request gets Flask's
    null session, which refuses writes, instead of a signed-cookie session whose signer is built per request
    (itsdangerous, on every route, for a cookie nobody sends)."""

    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response) -> None:  # never called for a null session
        return None


jwt = JWTManager()
api = Api()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
