"""Who may call what: a decorator checks the token, loads the caller (`app.auth.principal`: roles cached in Redis
at most 60 s and deleted on change), checks roles."""
from functools import wraps

from flask import g, request
from flask_jwt_extended import current_user, view_decorators
from flask_jwt_extended.config import config as jwt_config
from flask_jwt_extended.internal_utils import custom_verification_for_token, verify_token_not_blocklisted, verify_token_type

from app.errors import Forbidden, doc_errors, envelope
from app.extensions import jwt


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
    """flask-jwt-extended's `verify_jwt_in_request(fresh=fresh)` for an access token in the Authorization header
    (JWT_TOKEN_LOCATION is headers only), with the token parsed once (`JWTManager.decode_verified`) instead of
    twice more for its header. The same checks in the same order raise the same errors, and the same request
    globals are set, so `current_user` and `get_jwt()` work as before (pinned flask-jwt-extended 4.7.4)."""
    if list(jwt_config.token_location) != ["headers"] or not jwt.decodes_alone:  # configured otherwise: stock
        view_decorators.verify_jwt_in_request(fresh=fresh)
        return
    if request.method in jwt_config.exempt_methods:
        return
    encoded, _csrf = view_decorators._decode_jwt_from_headers()
    header, claims = jwt.decode_verified(encoded)
    verify_token_type(claims, refresh=False)
    if fresh:
        view_decorators._verify_token_is_fresh(header, claims)
    verify_token_not_blocklisted(header, claims)
    custom_verification_for_token(header, claims)
    g._jwt_extended_jwt_user = view_decorators._load_user(header, claims)
    g._jwt_extended_jwt_header = header
    g._jwt_extended_jwt = claims
    g._jwt_extended_jwt_location = "headers"


def ensure_acts_on(area_code: str, *roles: str) -> None:
    """Raise Forbidden(area_forbidden) unless the current user holds one of roles over area_code."""
    if not current_user.acts_on(area_code, *roles):
        raise Forbidden("area_forbidden", "该区域不在您的管辖范围内")


@jwt.unauthorized_loader
def _missing(reason):
    return envelope(401, "token_missing", "请先登录")


@jwt.invalid_token_loader
def _invalid(reason):
    return envelope(401, "token_invalid", "登录凭证无效，请重新登录")


@jwt.expired_token_loader
def _expired(_header, _payload):
    return envelope(401, "token_expired", "登录已过期，请重新登录")


@jwt.revoked_token_loader
def _revoked(_header, _payload):
    return envelope(401, "token_revoked", "登录凭证已失效，请重新登录")


@jwt.needs_fresh_token_loader
def _not_fresh(_header, _payload):
    # 403, not 401: a "401 → refresh and retry" interceptor would refresh (a non-fresh pair) and loop.
    return envelope(403, "fresh_token_required", "此操作需要重新登录验证身份")


@jwt.user_lookup_error_loader
def _user_gone(_header, _payload):
    if g.get("auth_failure") == "account_disabled":
        return envelope(401, "account_disabled", "账号已停用，如有疑问请联系社区工作人员")
    return envelope(401, "user_not_found", "账号不存在，请重新登录")
