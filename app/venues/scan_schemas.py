"""Bodies of check-ins, offline batches, visits and stats."""
import marshmallow as ma
from marshmallow import fields, validate

from app.common.fields import BoundedAwareDateTime, BoundedDate, Id
from app.common.pagination import PageArgs
from app.health_codes.official_schemas import Reason, VenueBrief
from app.venues.models import COLOURS, SCAN_KINDS


class VenueCard(VenueBrief):
    address = fields.String(required=True)
    category = fields.String(required=True)


class CheckinCreate(ma.Schema):
    venue_code = fields.String(required=True, validate=validate.Length(1, 256), metadata={
        "description": "扫到的场所码：小程序码的 scene（短格式）、海报链接，或旧版海报的长格式"})
    health_code_id = Id(required=True, metadata={"description": "亮码所用的健康码（须为本人账号下的码）"})


class CheckinRead(ma.Schema):
    venue = fields.Nested(VenueCard, required=True)
    colour = fields.String(required=True, validate=validate.OneOf(COLOURS))
    pass_ = fields.Boolean(required=True, data_key="pass", attribute="passed")
    holder = fields.String(required=True, allow_none=True, metadata={"description": "脱敏姓名"})
    reason = fields.Nested(Reason, required=True)
    checked_in_at = fields.DateTime(required=True)


class OfflineItem(ma.Schema):
    client_scan_id = fields.UUID(required=True, metadata={"description": "扫码设备生成的唯一编号（幂等键）"})
    token = fields.String(required=True, validate=validate.Length(1, 512))
    scanned_at = BoundedAwareDateTime(required=True, default_timezone=None,
                                      metadata={"description": "离线扫码时间（须带时区）"})


class BatchCreate(ma.Schema):
    venue_id = Id(required=True)
    items = fields.List(fields.Nested(OfflineItem), required=True, validate=validate.Length(1, 500))


class BatchItemResult(ma.Schema):
    client_scan_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("accepted", "duplicate", "rejected")))
    colour = fields.String(validate=validate.OneOf(COLOURS))
    scan_id = fields.String()
    result = fields.String(metadata={"description": "重复提交时，首次提交的处理结果"})
    error = fields.String()
    message = fields.String()


class BatchRead(ma.Schema):
    accepted = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    items = fields.List(fields.Nested(BatchItemResult), required=True)


class VisitRead(ma.Schema):
    id = fields.String(required=True)
    venue = fields.Nested(VenueBrief, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(SCAN_KINDS))
    colour = fields.String(required=True, validate=validate.OneOf(COLOURS))
    scanned_at = fields.DateTime(required=True)


class StatsQuery(ma.Schema):
    date = BoundedDate(required=True, metadata={"description": "日期（北京时间），如 2026-11-28"})


class HourCount(ma.Schema):
    hour = fields.Integer(required=True)
    green = fields.Integer(required=True)
    yellow = fields.Integer(required=True)
    red = fields.Integer(required=True)
    total = fields.Integer(required=True)


class ColourCount(ma.Schema):
    green = fields.Integer(required=True)
    yellow = fields.Integer(required=True)
    red = fields.Integer(required=True)


class StatsRead(ma.Schema):
    venue_id = fields.String(required=True)
    date = fields.Date(required=True)
    total = fields.Integer(required=True)
    by_colour = fields.Nested(ColourCount, required=True)
    by_hour = fields.List(fields.Nested(HourCount), required=True)


class VisitQuery(PageArgs):
    pass
