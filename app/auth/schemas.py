"""Request and response bodies of sign-in and the current user."""
import marshmallow as ma
from marshmallow import fields, validate

from app.auth.models import ROLES


class SmsCodeCreate(ma.Schema):
    phone = fields.String(required=True, validate=validate.Length(1, 20), metadata={"example": "13812345678"})


class SmsCodeSent(ma.Schema):
    expires_in = fields.Integer(required=True, metadata={"description": "验证码有效秒数"})
    resend_after = fields.Integer(required=True, metadata={"description": "多少秒后可重新获取"})
    debug_code = fields.String(metadata={"description": "仅开发/测试环境返回"})


def _totp(**kwargs):
    return fields.String(validate=validate.Regexp(r"^[0-9]{6}$"), load_only=True,
                         metadata={"description": "身份验证器的 6 位动态验证码（管理员、卫健人员必填）"}, **kwargs)


class SmsLogin(ma.Schema):
    phone = fields.String(required=True, validate=validate.Length(1, 20))
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{6}$"))
    totp = _totp()


class WeChatLogin(ma.Schema):
    code = fields.String(required=True, validate=validate.Length(1, 128),
                         metadata={"description": "wx.login() 的 code"})
    phone_code = fields.String(validate=validate.Length(1, 128), metadata={
        "description": "手机号快速验证按钮（open-type=getPhoneNumber）回调的 code：绑定该手机号；已有该手机号的账号"
                       "（如短信登录注册的）与本微信账号合并为一个账号"})
    totp = _totp()


class TotpEnrolmentCreate(ma.Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(1, 256))


class PasswordLogin(TotpEnrolmentCreate):
    totp = _totp()


class TotpEnrolmentConfirm(TotpEnrolmentCreate):
    totp = _totp(required=True)


class TotpEnrolmentRead(ma.Schema):
    secret = fields.String(required=True, metadata={"description": "Base32 密钥，可手动输入身份验证器"})
    otpauth_uri = fields.String(required=True, metadata={"description": "otpauth:// 链接，可生成二维码供扫描"})


class TotpEnrolled(ma.Schema):
    status = fields.String(required=True, metadata={"example": "enrolled"})


class GrantRead(ma.Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    area = fields.String(required=True, attribute="area_code", metadata={"description": "区域代码"})


class UserRead(ma.Schema):
    id = fields.String(required=True)
    phone = fields.String(allow_none=True, metadata={"description": "脱敏手机号，如 138****1234"})
    username = fields.String(allow_none=True)
    roles = fields.List(fields.Nested(GrantRead), required=True)
    created_at = fields.DateTime(required=True)


class TokenPair(ma.Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)


class LoginResult(TokenPair):
    user = fields.Nested(UserRead, required=True)


class LogoutResult(ma.Schema):
    status = fields.String(required=True)
