"""Extensions, created unbound and bound in create_app()."""
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Engine, MetaData
from sqlalchemy.orm import DeclarativeBase

from app.common.migrations import include_object
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

    def get_bind(self, *args, **kwargs):
        bind = super().get_bind(*args, **kwargs)
        if self.info.get("jiefang_autocommit") and isinstance(bind, Engine):
            variant = bind.__dict__.get("_jiefang_autocommit")
            if variant is None:
                variant = bind._jiefang_autocommit = bind.execution_options(isolation_level="AUTOCOMMIT")
            return variant
        return bind


# expire_on_commit=False: a committed row stays readable without a reload (no extra SELECT on hot paths).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False, "class_": Session})
migrate = Migrate(compare_type=True, render_as_batch=True, include_object=include_object)
jwt = JWTManager()
api = Api()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
