"""Venue bodies."""
import marshmallow as ma
from marshmallow import fields, validate

from app.common.fields import Name
from app.common.pagination import PageArgs
from app.common.positions import Datum, latitude, longitude
from app.venues.models import CATEGORIES, STAFF_ROLES

# Guangzhou's bounding box in GCJ-02, generously rounded: coordinates outside it are typos or spoofing.
LAT_RANGE, LNG_RANGE = (22.4, 24.1), (112.8, 114.2)
_COMMUNITY = validate.Regexp(r"^4401\d{8}$", error="应为 12 位社区/村代码")


def _venue_fields(required: bool) -> dict:
    return {
        "name": Name(required=required, validate=validate.Length(1, 100),
                              metadata={"example": "天河城购物中心"}),
        "category": fields.String(required=required, validate=validate.OneOf(CATEGORIES)),
        "address": Name(required=required, validate=validate.Length(1, 200),
                                 metadata={"example": "天河路208号"}),
        "area": fields.String(required=required, validate=_COMMUNITY,
                              metadata={"description": "所在社区/村代码", "example": "440106001001"}),
        "lat": latitude(required=required, validate=validate.Range(*LAT_RANGE, error="坐标不在广州市范围内"),
                        metadata={"example": 23.1375}),
        "lng": longitude(required=required, validate=validate.Range(*LNG_RANGE, error="坐标不在广州市范围内"),
                         metadata={"example": 113.3235}),
    }


VenueCreate = Datum.from_dict({**_venue_fields(True), "uscc": fields.String(
    load_default=None, validate=validate.Length(1, 40),
    metadata={"description": "统一社会信用代码（有则填写，校验通过即审核通过；没有的场所由所在区域的组织者审核）",
              "example": "91110000600037341L"})}, name="VenueCreate")
VenueUpdate = Datum.from_dict(_venue_fields(False), name="VenueUpdate")


class VenueRead(ma.Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    category = fields.String(required=True)
    address = fields.String(required=True)
    area = fields.String(required=True, attribute="area_code")
    lat = fields.Float(required=True, metadata={"description": "纬度（GCJ-02）"})
    lng = fields.Float(required=True, metadata={"description": "经度（GCJ-02）"})
    code_version = fields.Integer(required=True)
    uscc = fields.String(required=True, allow_none=True)
    approved = fields.Function(lambda venue: venue.approved_at is not None, required=True,
                               metadata={"type": "boolean", "description": "已审核：到访记录在流调中计为已核实"})
    approved_at = fields.DateTime(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class MyVenueRead(VenueRead):
    my_role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES),
                            metadata={"description": "我在该场所的身份：admin 管理员 / inspector 检测员"})


class MyVenueList(ma.Schema):
    items = fields.List(fields.Nested(MyVenueRead), required=True)


class VenueQuery(PageArgs):
    area = fields.String(required=True, validate=validate.Regexp(r"^4401\d{0,10}$"),
                         metadata={"description": "区域代码（须在您的管辖范围内）"})
    q = fields.String(validate=validate.Length(1, 50))


class StaffBind(ma.Schema):
    phone = fields.String(required=True, validate=validate.Length(1, 20), metadata={"example": "13812345678"})


class StaffRead(ma.Schema):
    user_id = fields.String(required=True)
    phone = fields.String(allow_none=True, required=True, metadata={"description": "脱敏手机号"})
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    created_at = fields.DateTime(required=True)


class VenueCodeRead(ma.Schema):
    venue_code = fields.String(required=True, metadata={"description": "场所码长格式（旧版海报的二维码内容）"})
    short_id = fields.String(required=True, metadata={"description": "场所码短格式（≤32 字符）：小程序码的 scene，"
                                                                   "可直接用于 POST /checkins"})
    link = fields.String(required=True, metadata={"description": "海报二维码中的链接（扫普通链接二维码打开小程序）"})
    poster_url = fields.String(required=True, metadata={"description": "海报图片的签名链接（无需 Authorization，"
                                                                        "供 <image src>，一小时内有效）"})
    code_version = fields.Integer(required=True)
