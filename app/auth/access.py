"""Who may call what: a decorator checks the token, loads the caller (`app.auth.principal`: roles cached in Redis
at most 60 s and deleted on change), checks roles. The request layer of auth: flask-jwt-extended's callbacks
(revocation, the caller's lookup, the error envelopes) live here, connected by create_app."""
from functools import wraps

from flask import current_app, g
from flask_jwt_extended import JWTManager, current_user, verify_jwt_in_request

from app.auth import principal, tokens
from app.errors import Forbidden, doc_errors, envelope


def require(*roles: str, fresh: bool = False):
    """Decorate a view: a valid access token is needed and, when roles are given, one of them."""

    def decorator(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            authenticate(fresh=fresh)
            if roles and not current_user.has_role(*roles):
                raise Forbidden("role_forbidden", "您的账号无权执行此操作")
            return func(*args, **kwargs)

        return doc_errors(401, 403, security=True)(wrapper) if roles else doc_errors(401, security=True)(wrapper)

    return decorator


def authenticate(*, fresh: bool = False) -> None:
    """Check the access token in the Authorization header (flask-jwt-extended's `verify_jwt_in_request`).

    The library calls back for the revocation check (`_blocklisted`, which also reads the caller's cached
    principal in the same Redis round trip) and for loading the caller as `current_user` (`_load_user`)."""
    verify_jwt_in_request(fresh=fresh)


def ensure_acts_on(area_code: str, *roles: str) -> None:
    """Raise Forbidden(area_forbidden) unless the current user holds one of roles over area_code."""
    if not current_user.acts_on(area_code, *roles):
        raise Forbidden("area_forbidden", "该区域不在您的管辖范围内")


def _missing(reason):
    return envelope(401, "token_missing", "请先登录")


def _invalid(reason):
    return envelope(401, "token_invalid", "登录凭证无效，请重新登录")


def _expired(_header, _payload):
    return envelope(401, "token_expired", "登录已过期，请重新登录")


def _revoked(_header, _payload):
    return envelope(401, "token_revoked", "登录凭证已失效，请重新登录")


def _not_fresh(_header, _payload):
    # 403, not 401: a "401 → refresh and retry" interceptor would refresh (a non-fresh pair) and loop.
    return envelope(403, "fresh_token_required", "此操作需要重新登录验证身份")


def _user_gone(_header, _payload):
    if g.get("auth_failure") == "account_disabled":
        return envelope(401, "account_disabled", "账号已停用，如有疑问请联系社区工作人员")
    return envelope(401, "user_not_found", "账号不存在，请重新登录")


def _blocklisted(_header, payload) -> bool:
    """Whether an access token is revoked (refresh tokens are checked by `tokens.rotate`)."""
    if payload.get("type") == "refresh":
        return False  # refresh tokens are checked (and reuse detected) by rotate()
    principal.want_for(payload)
    return tokens.is_access_revoked(payload["jti"], payload.get("fam"))


def _load_user(_header, payload):
    """The caller as a `principal.Principal` (id, state, grants: cached with Redis), or None (401)."""
    try:
        user_id = int(payload["sub"])
    except (TypeError, ValueError):
        return None
    user = principal.load(user_id)
    if user is None:
        return None
    if not user.is_active:
        g.auth_failure = "account_disabled"
        return None
    g.user_id = user.id
    if not payload.get("mfa"):  # signed in without a second factor: the roles that need one are not used
        return user.without(current_app.config["TOTP_ROLES"])
    return user


def init_jwt_callbacks(manager: JWTManager) -> None:
    """Connect flask-jwt-extended's public callbacks: the revocation check, the caller's lookup, and the error
    envelope of every way a token can fail."""
    manager.token_in_blocklist_loader(_blocklisted)
    manager.user_lookup_loader(_load_user)
    manager.unauthorized_loader(_missing)
    manager.invalid_token_loader(_invalid)
    manager.expired_token_loader(_expired)
    manager.revoked_token_loader(_revoked)
    manager.needs_fresh_token_loader(_not_fresh)
    manager.user_lookup_error_loader(_user_gone)
