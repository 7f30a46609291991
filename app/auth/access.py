"""Who may call what: a decorator checks the access token, loads the caller (`app.auth.principal`: roles cached in
Redis at most 60 s and deleted on change) as `app.common.caller.current_user`, checks roles. The request layer of
auth: flask-jwt-extended's callbacks (revocation, the caller's lookup, the error envelopes) live here, connected by
create_app.

An access token is parsed once per request (`_verified`: PyJWT's `decode_complete` with flask-jwt-extended's
settings). The library's `verify_jwt_in_request` parses it four times (twice unverified for its decode-key callback,
then verified, then once more for the header), and PyJWT checks each segment character by character in Python
each time, the largest cost of the token route that the app controls. The checks after the parse are the library's,
in its order (token type, freshness, revocation, the caller's lookup), and failures raise the library's own
exceptions, so its handlers answer with the same envelopes. Refresh tokens go through the library itself
(`jwt_required(refresh=True)`).

A phone sends the same access token for its whole life (a health code refreshes every minute), so each worker
remembers the tokens it has verified, by their exact text and the key they verified under (VERIFIED_TOKENS at
most): the same bytes again skip the parse and the HMAC, while the expiry is checked at every request as PyJWT
checks it, and revocation and the caller's state are read at every request as before."""
import re
from datetime import datetime, timezone
from functools import wraps

import jwt as pyjwt
from flask import current_app, g, request
from flask_jwt_extended import JWTManager
from flask_jwt_extended.config import config
from flask_jwt_extended.exceptions import (
    FreshTokenRequired,
    InvalidHeaderError,
    JWTDecodeError,
    NoAuthorizationError,
    RevokedTokenError,
    UserLookupError,
    WrongTokenError,
)

from app.auth import principal, tokens
from app.common.caller import current_user, set_caller, set_claims
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
    """Check the access token in the Authorization header and load the caller as `current_user`: the revocation
    check (`_blocklisted`, which also reads the caller's cached principal in the same Redis round trip), then the
    caller's lookup (`_load_user`)."""
    if request.method in config.exempt_methods:
        return
    header, claims = _verified(_bearer())
    if claims["type"] == "refresh":
        raise WrongTokenError("Only non-refresh tokens are allowed")
    if fresh and not _is_fresh(claims["fresh"]):
        raise FreshTokenRequired("Fresh token required", header, claims)
    if _blocklisted(header, claims):
        raise RevokedTokenError(header, claims)
    if _load_user(header, claims) is None:  # which makes the caller current_user
        raise UserLookupError(f"user_lookup returned None for {claims[config.identity_claim_key]}", header, claims)
    set_claims(claims)


def _bearer() -> str:
    """The token of the `Authorization: Bearer <JWT>` header (flask-jwt-extended's header rules)."""
    name, kind = config.header_name, config.header_type
    value = request.headers.get(name, "").strip().strip(",")
    if not value:
        raise NoAuthorizationError(f"Missing {name} Header")
    if not kind:
        parts = value.split()
        if len(parts) != 1:
            raise InvalidHeaderError(f"Bad {name} header. Expected '{name}: <JWT>'")
        return parts[0]
    found = [field for field in re.split(r",\s*", value) if field and field.split()[0] == kind]
    if len(found) != 1:
        raise NoAuthorizationError(f"Missing '{kind}' type in '{name}' header. Expected '{name}: {kind} <JWT>'")
    parts = found[0].split()
    if len(parts) != 2:
        raise InvalidHeaderError(f"Bad {name} header. Expected '{name}: {kind} <JWT>'")
    return parts[1]


VERIFIED_TOKENS = 4096  # tokens a worker remembers as verified; it forgets them all when full


def _verified(token: str) -> tuple[dict, dict]:
    """(header, claims) of a token whose signature, expiry and other registered claims hold, with the claims
    flask-jwt-extended fills in when they are missing: remembered from an earlier request while unexpired."""
    remembered = current_app.extensions.setdefault("verified_tokens", {})
    key = (config.decode_key, token)
    found = remembered.get(key)
    if found is not None and found[1]["exp"] > datetime.now(timezone.utc).timestamp() - config.leeway:
        return found[0], dict(found[1])
    header, claims = _parsed(token)
    if isinstance(claims.get("exp"), int):  # a token without an expiry is never remembered
        if len(remembered) >= VERIFIED_TOKENS:
            remembered.clear()
        remembered[key] = (header, dict(claims))
    return header, claims


def _parsed(token: str) -> tuple[dict, dict]:
    """_verified's answer from PyJWT itself."""
    try:
        decoded = pyjwt.decode_complete(
            token, config.decode_key, algorithms=config.decode_algorithms, audience=config.decode_audience,
            issuer=config.decode_issuer, leeway=config.leeway,
            options={"verify_aud": config.decode_audience is not None, "verify_sub": config.verify_sub})
    except pyjwt.ExpiredSignatureError as e:
        e.jwt_header, e.jwt_data = None, None  # what the library's handler hands the expired callback
        raise
    claims = decoded["payload"]
    if config.identity_claim_key not in claims:
        raise JWTDecodeError(f"Missing claim: {config.identity_claim_key}")
    claims.setdefault("type", "access")
    claims.setdefault("fresh", False)
    claims.setdefault("jti", None)
    return decoded["header"], claims


def _is_fresh(fresh) -> bool:
    """A token's `fresh` claim: true, or a time (seconds) still in the future."""
    return fresh if isinstance(fresh, bool) else fresh >= datetime.now(timezone.utc).timestamp()


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
        user = user.without(current_app.config["TOTP_ROLES"])
    set_caller(user)
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
