"""Request and response bodies of patrols, sign-ups, check-in, hours, points, leaderboards and notifications."""
import re

import marshmallow as ma
from marshmallow import fields, validate

from app.common.fields import BoundedAwareDateTime, Name
from app.common.pagination import PageArgs, page_schema
from app.common.positions import Datum, latitude, longitude
from app.patrols.leaderboard import PERIODS, SCOPES

ID_PATTERN = r"^[1-9][0-9]{0,18}$"
HOURS = {"description": "小时，精确到 0.1"}


class IdString(fields.String):
    """A BIGINT id written as a string (JavaScript cannot hold 63-bit integers); loads as int."""

    default_error_messages = {"invalid_id": "编号格式不正确"}

    def __init__(self, **kwargs):
        super().__init__(metadata={"pattern": ID_PATTERN, "example": "5046712370294571845"}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not re.fullmatch(ID_PATTERN, text) or int(text) >= 2**63:
            raise self.make_error("invalid_id")
        return int(text)


class Hours(fields.Float):
    """Hours kept as integer tenths (a column such as hours_tenths), shown as a number of hours."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value / 10


class Point(Datum):
    lat = latitude(required=True, validate=validate.Range(-90, 90))
    lng = longitude(required=True, validate=validate.Range(-180, 180))


class _PatrolFields(ma.Schema):
    title = Name(validate=validate.Length(1, 60), metadata={"example": "五山东风社区夜间巡逻"})
    description = fields.String(validate=validate.Length(max=1000))
    starts_at = BoundedAwareDateTime(metadata={"description": "ISO 8601，带时区"})
    ends_at = BoundedAwareDateTime(metadata={"description": "晚于开始时间，不超过 12 小时"})
    meeting_point = fields.Nested(Point, metadata={"description": "集合点（坐标系见其 coord_type，默认 GCJ-02）"})
    radius_m = fields.Integer(validate=validate.Range(50, 2000), metadata={"description": "签到范围（米）"})
    capacity = fields.Integer(validate=validate.Range(1, 500))
    points_per_hour = fields.Integer(validate=validate.Range(0, 100))


class PatrolCreate(_PatrolFields):
    group_id = IdString(required=True)
    area = fields.String(required=True, validate=validate.Regexp(r"^\d{12}(\d{2})?$"),
                         metadata={"description": "社区或网格代码"})
    title = Name(required=True, validate=validate.Length(1, 60), metadata={"example": "五山东风社区夜间巡逻"})
    starts_at = BoundedAwareDateTime(required=True)
    ends_at = BoundedAwareDateTime(required=True)
    meeting_point = fields.Nested(Point, required=True)
    radius_m = fields.Integer(load_default=200, validate=validate.Range(50, 2000))
    capacity = fields.Integer(required=True, validate=validate.Range(1, 500))
    points_per_hour = fields.Integer(validate=validate.Range(0, 100),
                                     metadata={"description": "默认为系统设定值；高于默认值须由辖区组织者或管理员设置"})


class PatrolUpdate(_PatrolFields):
    @ma.validates_schema
    def _not_empty(self, data, **_kwargs):
        if not data:
            raise ma.ValidationError("请至少修改一项", "_schema")


class PatrolCancel(ma.Schema):
    reason = fields.String(validate=validate.Length(1, 200), metadata={"description": "取消原因，会告知已报名的志愿者"})


class PatrolQuery(PageArgs):
    group = IdString()
    area = fields.String(validate=validate.Regexp(r"^\d{4,14}$"))
    from_ = BoundedAwareDateTime(data_key="from", metadata={"description": "结束时间晚于此刻的巡逻"})
    to = BoundedAwareDateTime(metadata={"description": "开始时间早于此刻的巡逻"})
    open = fields.Boolean(load_default=False, metadata={"description": "只看可以报名的（未取消、未结束）"})


class PointRead(ma.Schema):
    lat = fields.Float(required=True, metadata={"description": "纬度（GCJ-02）"})
    lng = fields.Float(required=True, metadata={"description": "经度（GCJ-02）"})


class SignupRead(ma.Schema):
    id = fields.String(required=True)
    patrol_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("active", "waitlisted", "cancelled")))
    waitlist_position = fields.Integer(required=True, allow_none=True, metadata={"description": "候补第几位"})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class PatrolRead(ma.Schema):
    """A patrol (a View with its `area_name`)."""

    id = fields.String(required=True)
    group_id = fields.String(required=True)
    area = fields.String(required=True, attribute="area_code")
    area_name = fields.String(required=True, allow_none=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    meeting_point = fields.Nested(PointRead, required=True)
    radius_m = fields.Integer(required=True)
    capacity = fields.Integer(required=True)
    signed_up = fields.Integer(required=True, attribute="active_count")
    seats_left = fields.Function(lambda patrol: patrol.capacity - patrol.active_count,
                                 required=True, metadata={"type": "integer"})
    points_per_hour = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("scheduled", "cancelled", "closed")))
    cancel_reason = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class PatrolDetail(PatrolRead):
    waitlisted = fields.Integer(required=True)
    my_signup = fields.Nested(SignupRead, required=True, allow_none=True)


class RosterRead(ma.Schema):
    """A sign-up (a View with the volunteer's masked `name`)."""

    volunteer_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True, metadata={"description": "脱敏姓名"})
    status = fields.String(required=True)
    position = fields.Integer(required=True, allow_none=True)
    signed_up_at = fields.DateTime(required=True, attribute="created_at")
    updated_at = fields.DateTime(required=True)


class RosterQuery(PageArgs):
    status = fields.String(validate=validate.OneOf(("active", "waitlisted", "cancelled")))


class CheckinCode(ma.Schema):
    token = fields.String(required=True)
    window_seconds = fields.Integer(required=True)
    expires_at = fields.DateTime(required=True, metadata={"description": "此签到码失效时间"})
    refresh_in = fields.Integer(required=True, metadata={"description": "多少秒后换新码"})
    qr_url = fields.String(required=True, metadata={"description": "签到码图片的签名链接（无需 Authorization，"
                                                                    "供 <image src>；与此码同时失效）"})


class PatrolCheckin(Datum):
    token = fields.String(required=True, validate=validate.Length(1, 64))
    lat = latitude(required=True, validate=validate.Range(-90, 90))
    lng = longitude(required=True, validate=validate.Range(-180, 180))
    accuracy_m = fields.Integer(load_default=0, validate=validate.Range(0, 10000),
                                metadata={"description": "定位精度（米）；最多放宽 50 米"})


class PatrolCheckout(Datum):
    lat = latitude(required=True, validate=validate.Range(-90, 90))
    lng = longitude(required=True, validate=validate.Range(-180, 180))


class AttendanceRead(ma.Schema):
    id = fields.String(required=True)
    patrol_id = fields.String(required=True)
    checked_in_at = fields.DateTime(required=True)
    checked_out_at = fields.DateTime(required=True, allow_none=True)
    auto_checkout = fields.Boolean(required=True)
    hours = fields.Float(required=True, allow_none=True, metadata=HOURS)
    certified_hours = fields.Float(required=True, allow_none=True, metadata=HOURS)
    review = fields.String(required=True, allow_none=True, validate=validate.OneOf(("pending", "done")),
                           metadata={"description": "pending：签退地点远离集合点，工时待审核"})


class CertificationRead(ma.Schema):
    seq = fields.Integer(required=True)
    hours = Hours(required=True, attribute="hours_tenths")
    reason = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class AttendanceRecord(ma.Schema):
    """An attendance (a View with the volunteer's masked `name`, and the `certification` just
    made)."""

    volunteer_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)
    checked_in_at = fields.DateTime(required=True)
    checkin_distance_m = fields.Integer(required=True)
    checked_out_at = fields.DateTime(required=True, allow_none=True)
    checkout_distance_m = fields.Integer(required=True, allow_none=True)
    auto_checkout = fields.Boolean(required=True)
    recorded_hours = Hours(required=True, allow_none=True, attribute="hours_tenths")
    certified_hours = Hours(required=True, allow_none=True, attribute="certified_tenths")
    certifications = fields.Integer(required=True)
    review = fields.String(required=True, allow_none=True, validate=validate.OneOf(("pending", "done")),
                           metadata={"description": "pending：签退地点远离集合点，待辖区组织者审核认证；done：已审核"})
    certification = fields.Nested(CertificationRead)


class CertificationCreate(ma.Schema):
    hours = fields.Float(validate=validate.Range(0, 12), allow_nan=False,
                         metadata={"description": "认证的工时（小时，按 0.1 取整）；不填则按签到签退记录确认"})
    reason = fields.String(validate=validate.Length(1, 200), metadata={"description": "更正原因（更正时必填）"})


class CertifiedCount(ma.Schema):
    certified = fields.Integer(required=True)


class GrantCreate(ma.Schema):
    volunteer_id = IdString(required=True)
    points = fields.Integer(required=True, validate=[validate.Range(-10000, 10000),
                                                     validate.NoneOf((0,), error="积分不能为 0")])
    reason = fields.String(required=True, validate=validate.Length(1, 200))


class EntryRead(ma.Schema):
    """A ledger line (a View with its `patrol_title`)."""

    id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("hours", "reversal", "grant")))
    points = fields.Integer(required=True)
    hours = Hours(required=True, attribute="hours_tenths", metadata=HOURS)
    patrol_id = fields.String(required=True, allow_none=True)
    patrol_title = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True)
    reverses_id = fields.String(required=True, allow_none=True)
    earned_on = fields.Date(required=True)
    created_at = fields.DateTime(required=True)


class ServiceRecord(ma.Schema):
    volunteer_id = fields.String(required=True)
    total_points = fields.Integer(required=True)
    total_hours = Hours(required=True, attribute="total_tenths", metadata={"description": "已认证工时"})
    pending_hours = Hours(required=True, attribute="pending_tenths",
                          metadata={"description": "已签退、待认证的工时"})
    patrols_attended = fields.Integer(required=True)
    entries = fields.Nested(page_schema(EntryRead), required=True)


class LeaderboardQuery(ma.Schema):
    scope = fields.String(required=True, validate=validate.OneOf(SCOPES),
                          metadata={"description": "区域榜：住在该区域的志愿者的全部积分；"
                                                   "群榜：在该群巡逻中获得的积分"})
    id = fields.String(validate=validate.Regexp(r"^\d{1,19}$"),
                       metadata={"description": "群编号或区域代码；区域默认为您居住的区域"})
    period = fields.String(load_default="week", validate=validate.OneOf(PERIODS))
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class RankRead(ma.Schema):
    rank = fields.Integer(required=True)
    name = fields.String(required=True, allow_none=True, metadata={"description": "脱敏姓名"})
    points = fields.Integer(required=True)
    hours = fields.Float(required=True)
    is_me = fields.Boolean(required=True)


class MyRank(ma.Schema):
    rank = fields.Integer(required=True, allow_none=True, metadata={"description": "暂无积分时为空"})
    points = fields.Integer(required=True)
    hours = fields.Float(required=True)


class Leaderboard(ma.Schema):
    scope = fields.String(required=True)
    id = fields.String(required=True)
    name = fields.String(required=True)
    period = fields.String(required=True)
    period_key = fields.String(required=True, metadata={"example": "2026-W48"})
    items = fields.List(fields.Nested(RankRead), required=True)
    me = fields.Nested(MyRank, required=True, allow_none=True)


class NotificationRead(ma.Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    patrol_id = fields.String(required=True, allow_none=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(required=True, allow_none=True)


class MySignupRead(SignupRead):
    upcoming = fields.Boolean(required=True, metadata={"description": "巡逻尚未结束"})
    patrol = fields.Nested(PatrolRead, required=True)


class MySignupList(ma.Schema):
    items = fields.List(fields.Nested(MySignupRead), required=True,
                        metadata={"description": "未结束的在前（开始早的在前），"
                                                 "其后为已结束的（近的在前），最多 100 条"})


class NotificationList(ma.Schema):
    items = fields.List(fields.Nested(NotificationRead), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
    unread = fields.Integer(required=True, metadata={"description": "未读条数"})


class NotificationQuery(PageArgs):
    unread = fields.Boolean(load_default=False, metadata={"description": "只看未读"})


class MarkRead(ma.Schema):
    ids = fields.List(IdString(), validate=validate.Length(1, 100), metadata={"description": "不填则全部标为已读"})


class MarkedRead(ma.Schema):
    updated = fields.Integer(required=True)
