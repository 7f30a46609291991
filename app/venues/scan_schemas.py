"""Bodies of check-ins, offline batches, visits, stats and tracing."""
import marshmallow as ma
from marshmallow import fields, validate

from app.common.fields import BoundedAwareDateTime, BoundedDate, Id
from app.common.pagination import PageArgs
from app.venues.models import COLOURS, SCAN_KINDS

_COLOUR = fields.String(required=True, validate=validate.OneOf(COLOURS))


class Reason(ma.Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)


class VenueBrief(ma.Schema):
    id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)


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
    pass_ = fields.Boolean(required=True, data_key="pass", attribute="pass")
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


class TracingCreate(ma.Schema):
    health_code_id = Id(required=True)
    since = BoundedAwareDateTime(required=True)
    until = BoundedAwareDateTime(required=True)
    window_minutes = fields.Integer(load_default=120, validate=validate.Range(1, 1440))
    purpose = fields.String(required=True, validate=validate.Length(2, 200), metadata={"description": "查询目的（记入审计）"})


class TracedVisit(ma.Schema):
    venue = fields.Nested(VenueBrief, required=True)
    at = fields.DateTime(required=True)
    kind = fields.String(required=True)
    unverified = fields.Boolean(required=True, metadata={"description": "场所尚未审核通过：到访记录未经核实"})


class TracedContact(ma.Schema):
    health_code_id = fields.String(required=True, metadata={"description": "被扫到的健康码；流调作用于其持码人"})
    person_id = fields.String(required=True, allow_none=True, metadata={"description": "持码人编号（已删除时为 null）"})
    holder = fields.String(required=True, allow_none=True)
    colour = fields.String(required=True, allow_none=True)
    venue = fields.Nested(VenueBrief, required=True)
    visit_at = fields.DateTime(required=True)
    seen_at = fields.DateTime(required=True)
    minutes_apart = fields.Float(required=True)
    unverified = fields.Boolean(required=True, metadata={"description": "场所尚未审核通过：到访记录未经核实"})


class TracedContacts(fields.List):
    """A list of TracedContact, documented as one, dumped without marshmallow's walk over each item's fields
    (costly for each contact, and a busy case has hundreds): trace() builds every item with exactly those keys, the
    values already JSON-ready but for the two datetimes. tests/venues checks it dumps what List(Nested) would."""

    def __init__(self, **kwargs):
        super().__init__(fields.Nested(TracedContact), **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return [{**c, "visit_at": c["visit_at"].isoformat(), "seen_at": c["seen_at"].isoformat()} for c in value]


class TracingRead(ma.Schema):
    health_code_id = fields.String(required=True)
    window_minutes = fields.Integer(required=True)
    visits = fields.List(fields.Nested(TracedVisit), required=True)
    contacts = TracedContacts(required=True)
    contact_count = fields.Integer(required=True)


class TracingApply(ma.Schema):
    health_code_ids = fields.List(Id(), required=True, validate=validate.Length(1, 1000))
    colour = fields.String(load_default="yellow", validate=validate.OneOf(("yellow",)))
    reason = fields.String(required=True, validate=validate.Length(1, 200))


class AppliedRead(ma.Schema):
    health_code_id = fields.String(required=True)
    colour = fields.String(required=True)


class AppliedList(ma.Schema):
    items = fields.List(fields.Nested(AppliedRead), required=True)


class ColourSet(ma.Schema):
    colour = _COLOUR
    reason = fields.String(required=True, validate=validate.Length(1, 200))


class HistoryEntry(ma.Schema):
    """One entry of a code's history: a colour change or a declaration (fields by `type`)."""

    type = fields.String(required=True, validate=validate.OneOf(("colour_change", "declaration")))
    at = fields.DateTime(required=True)
    source = fields.String(validate=validate.OneOf(("official", "rules")))
    changed_by = fields.String(allow_none=True)
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    to = fields.String()
    reason = fields.Nested(Reason)
    note = fields.String(allow_none=True)
    temperature_c = fields.Float()
    symptoms = fields.List(fields.String())
    risk_area_visit_14d = fields.Boolean()
    case_contact_14d = fields.Boolean()
    risk = fields.String(allow_none=True)


class HistoryList(ma.Schema):
    items = fields.List(fields.Nested(HistoryEntry), required=True)
