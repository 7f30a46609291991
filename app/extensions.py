"""Extensions, created unbound and bound in create_app()."""
import flask.sessions
import flask_jwt_extended
import jwt as pyjwt
from flask_jwt_extended.config import config as jwt_config
from flask_jwt_extended.default_callbacks import default_decode_key_callback
from flask_jwt_extended.exceptions import JWTDecodeError
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Engine, MetaData
from sqlalchemy.orm import DeclarativeBase

from app.auth import fast_jwt
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


class JWTManager(flask_jwt_extended.JWTManager):
    """flask-jwt-extended's manager (pinned 4.7.4), decoding a token once instead of three or four times.

    The stock method parses the token twice without verifying it, only to hand its header and claims to a
    decode-key callback, then a third time to verify it, and the request check parses its header a fourth time:
    about 15 % of a hot request's CPU. Jiefang registers no such callback (one key from JWT_SECRET_KEY), so the
    verifying decode alone gives the same header and claims and raises the same errors (the auth tests cover
    expired, tampered, foreign-key and wrong-type tokens). `app.auth.access.authenticate` uses `decode_verified`."""

    @property
    def decodes_alone(self) -> bool:
        """Whether the one verifying decode is enough: no decode-key callback wants the unverified token first."""
        return self._decode_key_callback is default_decode_key_callback

    def _decode_jwt_from_config(self, encoded_token: str, csrf_value=None, allow_expired: bool = False) -> dict:
        if not self.decodes_alone or csrf_value is not None:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        return self.decode_verified(encoded_token, allow_expired)[1]

    def decode_verified(self, encoded_token: str, allow_expired: bool = False) -> tuple[dict, dict]:
        """(header, claims) of a token verified with the configured key, in one parse; the claims completed as
        flask-jwt-extended's `_decode_jwt` completes them. An expired token's error carries both, as the stock
        method attaches them for the expired-token callback."""
        key, algorithms, audience, issuer, leeway = (jwt_config.decode_key, jwt_config.decode_algorithms,
                                                     jwt_config.decode_audience, jwt_config.decode_issuer,
                                                     jwt_config.leeway)
        done = None
        if fast_jwt.applies(algorithms, audience, issuer, key):  # a plainly valid token of ours: the fast path
            done = fast_jwt.verifier(algorithms[0], key, leeway).verify(encoded_token, verify_exp=not allow_expired)
        if done is None:  # anything else: PyJWT accepts it or raises its own error
            options = {"verify_aud": audience is not None, "verify_sub": jwt_config.verify_sub}
            if allow_expired:
                options["verify_exp"] = False
            try:
                verified = pyjwt.decode_complete(encoded_token, key, algorithms=algorithms, audience=audience,
                                                 issuer=issuer, leeway=leeway, options=options)
            except pyjwt.ExpiredSignatureError as error:
                error.jwt_header, error.jwt_data = self.decode_verified(encoded_token, allow_expired=True)
                raise
            done = verified["header"], verified["payload"]
        header, claims = done
        if jwt_config.identity_claim_key not in claims:
            raise JWTDecodeError(f"Missing claim: {jwt_config.identity_claim_key}")
        claims.setdefault("type", "access")
        claims.setdefault("fresh", False)
        claims.setdefault("jti", None)
        return header, claims


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
