"""TOTP second factor (RFC 6238, pyotp) for the roles in TOTP_ROLES: enrolment, its confirmation, and the check
every sign-in of such an account passes. Codes are 6 digits, 30 s steps, one step of clock drift either way; each
code is accepted once (the last accepted step is kept)."""
import hmac

import pyotp
from flask import current_app

from app.auth.models import User
from app.common.crypto import cipher
from app.common.time import utcnow
from app.errors import Conflict, Unauthorized
from app.extensions import db

_AAD = b"totp_secret"


def required_for(user: User) -> bool:
    """Whether the account's sign-ins need a TOTP code."""
    return user.has_role(*current_app.config["TOTP_ROLES"])


def start_enrolment(user: User) -> dict:
    """A new secret for an account that has no confirmed one yet: {secret, otpauth_uri} for the authenticator app."""
    if user.totp_enabled_at is not None:
        raise Conflict("totp_already_enrolled", "该账号已绑定身份验证器；如需更换，请联系管理员重置")
    secret = pyotp.random_base32()
    user.totp_secret_enc = cipher().encrypt(secret, _AAD)
    db.session.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username or str(user.id),
                                              issuer_name=current_app.config["TOTP_ISSUER"])
    return {"secret": secret, "otpauth_uri": uri}


def confirm_enrolment(user: User, code: str) -> None:
    """Turn the second factor on with a first good code from the authenticator app (commits)."""
    if user.totp_enabled_at is not None or user.totp_secret_enc is None:
        raise Conflict("totp_not_pending", "没有待确认的身份验证器绑定，请先发起绑定")
    check_code(user, code)
    user.totp_enabled_at = utcnow()
    db.session.commit()


def verify_sign_in(user: User, code: str | None) -> bool:
    """Raise Unauthorized unless the account needs no second factor or `code` is its current TOTP code; True when
    a code was checked (the sign-in's tokens may then act in the roles that need one)."""
    if not required_for(user):
        return False
    if user.totp_enabled_at is None:
        raise Unauthorized("totp_enrolment_required", "该账号须先绑定身份验证器（动态验证码）才能登录")
    if not code:
        raise Unauthorized("totp_required", "请输入身份验证器中的 6 位动态验证码")
    check_code(user, code)
    return True


def check_code(user: User, code: str) -> None:
    """Accept a code of the current step (or one either side) not older than the last one accepted; no commit."""
    totp = pyotp.TOTP(cipher().decrypt(user.totp_secret_enc, _AAD))
    now_step = totp.timecode(utcnow())
    for step in (now_step - 1, now_step, now_step + 1):
        if step > (user.totp_last_step or 0) and hmac.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step
            return
    raise Unauthorized("totp_invalid", "动态验证码不正确或已使用")


def reset(user: User) -> None:
    """Forget the account's second factor: it enrols again before its next sign-in; no commit."""
    user.totp_secret_enc = user.totp_enabled_at = user.totp_last_step = None
