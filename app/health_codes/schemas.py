"""Health-code bodies. Personal data only ever leaves masked; ids are strings."""
import marshmallow as ma
from marshmallow import fields, validate

from app.auth.signed_urls import SignedArgs
from app.common.fields import Id, Name
from app.health_codes.models import COLOURS, ID_TYPES, RELATIONS
from app.health_codes.rules import SYMPTOMS


class StrictBoolean(fields.Boolean):
    """JSON true or false only: consent is not given by "yes" or 1."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


_COLOUR = {"validate": validate.OneOf(COLOURS), "metadata": {"example": "green"}}


class HealthCodeCreate(ma.Schema):
    name = Name(required=True, validate=validate.Length(1, 50), metadata={"example": "张三明"})
    id_type = fields.String(required=True, validate=validate.OneOf(ID_TYPES))
    id_number = fields.String(required=True, validate=validate.Length(1, 40),
                              metadata={"example": "11010519491231002X"})
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 20),
                          metadata={"description": "家人的手机号（代领时可不填）；"
                                                   "本人健康码用账号登录的手机号，此项忽略"})
    relation = fields.String(load_default="self", validate=validate.OneOf(RELATIONS),
                             metadata={"description": "self 本人；family 为家人代领"})
    consent = StrictBoolean(required=True,
                             metadata={"description": "单独同意处理敏感个人信息（须为 JSON true）"})


class ReasonRead(ma.Schema):
    code = fields.String(required=True, metadata={"example": "no_risk", "description": "稳定的原因代码"})
    message = fields.String(required=True, metadata={"description": "给持码人看的中文说明"})


class ConsentRead(ma.Schema):
    given_at = fields.DateTime(required=True)
    policy_version = fields.String(required=True)


class ColourState(ma.Schema):
    colour = fields.String(required=True, **_COLOUR)
    reason = fields.Nested(ReasonRead, required=True)
    next_review_at = fields.DateTime(required=True, allow_none=True,
                                     metadata={"description": "到此时颜色将按规则自动变化；无定时变化时为 null"})


class HealthCodeRead(ColourState):
    id = fields.String(required=True)
    name = fields.String(required=True, metadata={"example": "张*明"})
    id_type = fields.String(required=True, validate=validate.OneOf(ID_TYPES))
    id_number = fields.String(required=True, metadata={"example": "110***********002X"})
    phone = fields.String(required=True, allow_none=True, metadata={"example": "138****1234"})
    relation = fields.String(required=True, validate=validate.OneOf(RELATIONS))
    colour_since = fields.DateTime(required=True)
    rules_version = fields.String(required=True)
    consent = fields.Nested(ConsentRead, required=True)
    created_at = fields.DateTime(required=True)
    verified = fields.Boolean(required=True, metadata={"description": "持码人已通过实名核验"})
    verify_by = fields.DateTime(required=True, allow_none=True,
                                metadata={"description": "未核验的健康码须在此时间前完成核验，之后不再生成动态码"})


class HolderRead(ma.Schema):
    id = fields.String(required=True, metadata={"description": "代领健康码的编号"})
    name = fields.String(required=True, allow_none=True, metadata={"example": "张*明"})
    account_phone = fields.String(required=True, allow_none=True, metadata={"example": "139****0001"})
    verified = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class HolderList(ma.Schema):
    items = fields.List(fields.Nested(HolderRead), required=True)


class HealthCodeList(ma.Schema):
    items = fields.List(fields.Nested(HealthCodeRead), required=True)


class DeclarationCreate(ma.Schema):
    temperature_c = fields.Float(required=True, validate=validate.Range(35.0, 42.0), metadata={"example": 36.5})
    symptoms = fields.List(fields.String(validate=validate.OneOf(tuple(SYMPTOMS))), load_default=list,
                           validate=validate.Length(max=len(SYMPTOMS)))
    risk_area_visit_14d = fields.Boolean(required=True, metadata={"description": "14 天内是否到访风险地区"})
    case_contact_14d = fields.Boolean(required=True, metadata={"description": "14 天内是否接触病例"})


class DeclarationRead(ColourState):
    id = fields.String(required=True)
    declared_at = fields.DateTime(required=True)
    temperature_c = fields.Float(required=True)
    symptoms = fields.List(fields.String(), required=True)
    risk_area_visit_14d = fields.Boolean(required=True)
    case_contact_14d = fields.Boolean(required=True)


class TokenRead(ma.Schema):
    token = fields.String(required=True, metadata={"description": "Ed25519 签名的动态码（base64url）"})
    colour = fields.String(required=True, **_COLOUR)
    issued_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    refresh_in = fields.Integer(required=True, metadata={"description": "建议多少秒后刷新"})
    qr_url = fields.String(required=True, metadata={"description": "二维码图片的签名链接（无需 Authorization，"
                                                                    "供 <image src>；不晚于 expires_at 失效）"})


class QrArgs(SignedArgs):
    format = fields.String(load_default="png", validate=validate.OneOf(("png", "svg")))


class JwkRead(ma.Schema):
    kty = fields.String(required=True, metadata={"example": "OKP"})
    crv = fields.String(required=True, metadata={"example": "Ed25519"})
    alg = fields.String(required=True, metadata={"example": "EdDSA"})
    use = fields.String(required=True, metadata={"example": "sig"})
    kid = fields.String(required=True)
    x = fields.String(required=True, metadata={"description": "公钥（base64url）"})


class KeySet(ma.Schema):
    keys = fields.List(fields.Nested(JwkRead), required=True)
    signing_kid = fields.String(required=True)


class VerifyRequest(ma.Schema):
    token = fields.String(required=True, validate=validate.Length(1, 512))
    venue_id = Id(load_default=None, allow_none=True,
                  metadata={"description": "在该场所扫码时填写（须为该场所工作人员）：同时记录扫码"})


class VerifyResult(ma.Schema):
    colour = fields.String(required=True, **_COLOUR)
    pass_ = fields.Boolean(required=True, data_key="pass", attribute="passed", metadata={"description": "绿码放行"})
    holder = fields.String(required=True, allow_none=True, metadata={"example": "张*明"})
    reason = fields.Nested(ReasonRead, required=True)
    checked_at = fields.DateTime(required=True)
    duplicate = fields.Boolean(metadata={"description": "同一人在该场所的扫码已在去重时间窗内记录过：本次未记录"})
