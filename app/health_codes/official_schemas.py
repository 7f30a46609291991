"""Bodies of the health officials' routes: colour changes, a code's history, tracing and its application."""
import marshmallow as ma
from marshmallow import fields, validate

from app.common.fields import BoundedAwareDateTime, Id
from app.health_codes.models import COLOURS

_COLOUR = fields.String(required=True, validate=validate.OneOf(COLOURS))


class Reason(ma.Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)


class VenueBrief(ma.Schema):
    id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)


class TracingCreate(ma.Schema):
    health_code_id = Id(required=True)
    since = BoundedAwareDateTime(required=True)
    until = BoundedAwareDateTime(required=True)
    window_minutes = fields.Integer(load_default=120, validate=validate.Range(1, 1440))
    purpose = fields.String(required=True, validate=validate.Length(2, 200),
                            metadata={"description": "查询目的（记入审计）"})


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
    """One entry of a code's history: a colour change or a declaration (fields by `type`; a View of either row
    dumps only the fields its row has)."""

    type = fields.String(required=True, validate=validate.OneOf(("colour_change", "declaration")))
    at = fields.DateTime(required=True)
    source = fields.String(validate=validate.OneOf(("official", "rules")))
    changed_by = fields.String(allow_none=True)
    from_ = fields.String(data_key="from", attribute="from_colour", allow_none=True)
    to = fields.String(attribute="to_colour")
    reason = fields.Nested(Reason)
    note = fields.String(allow_none=True)
    temperature_c = fields.Float()
    symptoms = fields.List(fields.String())
    risk_area_visit_14d = fields.Boolean()
    case_contact_14d = fields.Boolean()
    risk = fields.String(allow_none=True)


class HistoryList(ma.Schema):
    items = fields.List(fields.Nested(HistoryEntry), required=True)
