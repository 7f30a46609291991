"""/auth and /me."""
from flask import request
from flask_jwt_extended import get_jwt, jwt_required

from app.auth import schemas, second_factor, service, tokens
from app.auth.access import require
from app.common.blueprint import Blueprint
from app.common.caller import claims, current_user
from app.common.limits import shared
from app.common.masking import mask_phone
from app.errors import doc_errors
from app.extensions import limiter

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="登录、令牌与当前用户")
_auth_limit = limiter.limit(shared("RATELIMIT_AUTH"))


def user_view(user) -> dict:
    """The signed-in user as the API shows it (phone masked)."""
    # Kept as a dict for speed: GET /me is on the bench's auth path.
    return {"id": str(user.id), "phone": mask_phone(service.phone_of(user)), "username": user.username,
            "roles": user.grants_in_order, "created_at": user.created_at}


def _login_result(user, pair) -> dict:
    return {**pair, "user": user_view(user)}


@blp.route("/auth/sms-codes", methods=["POST"])
@_auth_limit
@blp.arguments(schemas.SmsCodeCreate)
@blp.response(202, schemas.SmsCodeSent)
@doc_errors(422, 429, 503)
def send_sms_code(data):
    """Send a 6-digit sign-in code by SMS (valid 5 minutes, one per phone per 60 s)."""
    return service.request_sms_code(phone=data["phone"], ip=request.remote_addr or "unknown")


@blp.route("/auth/login/sms", methods=["POST"])
@_auth_limit
@blp.arguments(schemas.SmsLogin)
@blp.response(200, schemas.LoginResult)
@doc_errors(401, 422, 429)
def login_sms(data):
    """Sign in with phone + SMS code; the first sign-in creates the resident."""
    return _login_result(*service.login_sms(phone=data["phone"], code=data["code"], totp=data.get("totp")))


@blp.route("/auth/login/wechat", methods=["POST"])
@_auth_limit
@blp.arguments(schemas.WeChatLogin)
@blp.response(200, schemas.LoginResult)
@doc_errors(401, 403, 409, 422, 429, 503)
def login_wechat(data):
    """微信登录：wx.login() 的 code，可同时带手机号授权的
    phone_code（绑定手机号；该手机号已有账号时合并为一个账号）。"""
    return _login_result(*service.login_wechat(code=data["code"], phone_code=data.get("phone_code"),
                                               totp=data.get("totp")))


@blp.route("/auth/login/password", methods=["POST"])
@_auth_limit
@blp.arguments(schemas.PasswordLogin)
@blp.response(200, schemas.LoginResult)
@doc_errors(401, 422, 429)
def login_password(data):
    """Staff sign-in with username and password (and a TOTP code for admins and health officials)."""
    return _login_result(*service.login_password(username=data["username"], password=data["password"],
                                                 totp=data.get("totp")))


@blp.route("/auth/totp/enrolment", methods=["POST"])
@_auth_limit
@blp.arguments(schemas.TotpEnrolmentCreate)
@blp.response(201, schemas.TotpEnrolmentRead)
@doc_errors(401, 409, 422, 429)
def start_totp_enrolment(data):
    """绑定身份验证器：Start binding an authenticator app (staff, with username and password):
    a new secret, until confirmed."""
    return second_factor.start_enrolment(service.staff_by_password(username=data["username"],
                                                                   password=data["password"]))


@blp.route("/auth/totp/enrolment/confirm", methods=["POST"])
@_auth_limit
@blp.arguments(schemas.TotpEnrolmentConfirm)
@blp.response(200, schemas.TotpEnrolled)
@doc_errors(401, 409, 422, 429)
def confirm_totp_enrolment(data):
    """完成绑定身份验证器：Finish binding with a first code from the authenticator app; sign-ins then need a code."""
    service.confirm_totp(username=data["username"], password=data["password"], code=data["totp"])
    return {"status": "enrolled"}


@blp.route("/auth/refresh", methods=["POST"])
@jwt_required(refresh=True)
@blp.response(200, schemas.TokenPair)
@doc_errors(401, security=True)
def refresh():
    """Exchange a refresh token (once) for a new pair; a reused refresh token revokes its family."""
    return tokens.rotate(get_jwt(), current_user)


@blp.route("/auth/logout", methods=["POST"])
@require()
@blp.response(200, schemas.LogoutResult)
def logout():
    """Revoke the access token and every refresh token of this sign-in."""
    tokens.logout(claims())
    return {"status": "logged_out"}


@blp.route("/me", methods=["GET"])
@require()
@blp.response(200, schemas.UserRead)
def me():
    """The signed-in user, with roles and the areas they are held over."""
    return user_view(current_user)
