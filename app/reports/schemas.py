"""Request and response bodies of reports, their transitions, categories, departments and figures."""
import marshmallow as ma
from marshmallow import fields, validate

from app.common.fields import Id, Text
from app.common.geo import COORD_TYPES as DATUMS
from app.common.pagination import PageArgs
from app.common.positions import latitude, longitude
from app.reports.models import STATES
from app.reports.queues import QUEUE_ROLES
from app.reports.workflow import ACTIONS

CODE = validate.Regexp(r"^[a-z][a-z0-9_]{1,31}$")
HOURS = validate.Range(1, 24 * 90)


class ReportCreate(ma.Schema):
    client_key = Text(required=True, validate=validate.Length(8, 64),
                               metadata={"description": "客户端生成的唯一键：重试时带同一个键，只会建一条"})
    category = Text(required=True, validate=validate.Length(1, 32), metadata={"example": "fire_hazard"})
    text = Text(required=True, validate=validate.Length(1, 1000))
    urgency = Text(load_default="normal", validate=validate.OneOf(("normal", "urgent")))
    grid = Text(validate=validate.Regexp(r"^\d{14}$"), metadata={"description": "默认：报事人所在网格"})
    lat = latitude(validate=validate.Range(-90, 90))
    lng = longitude(validate=validate.Range(-180, 180))
    coord_type = Text(load_default="gcj02", validate=validate.OneOf(DATUMS))
    address = Text(validate=validate.Length(max=200))
    photos = fields.List(Id(), load_default=list, validate=validate.Length(max=3))
    reporter_visible = fields.Boolean(load_default=False, metadata={"description": "是否允许处置部门看到报事人"})

    @ma.validates_schema
    def _both_or_neither(self, data, **_kwargs):
        if ("lat" in data) != ("lng" in data):
            raise ma.ValidationError("经纬度须同时提供", "lat")


class ReportTransitionCreate(ma.Schema):
    action = Text(required=True, validate=validate.OneOf(tuple(ACTIONS)))
    reason = Text(validate=validate.Length(1, 500), metadata={"description": "原因或处置说明"})
    department = Text(validate=validate.Length(1, 32), metadata={"description": "派单部门代码"})
    duplicate_of = Id(metadata={"description": "合并到的报事"})
    photos = fields.List(Id(), load_default=list, validate=validate.Length(max=3))


class ReportNamed(ma.Schema):
    code = Text()
    name = Text()


class ReportStep(ma.Schema):
    action = Text()
    from_state = Text(allow_none=True)
    to_state = Text()
    level = Text()
    actor_id = Text(allow_none=True)
    reason = Text(allow_none=True)
    created_at = fields.AwareDateTime()


class ReportRead(ma.Schema):
    """A report (a View with `category`, `department`, `mine`, `reporter`, the photo links, and `history` when
    asked for)."""

    id = Text()
    client_key = Text()
    state = Text()
    level = Text()
    escalations = fields.Integer()
    flagged = fields.Boolean()
    hand_backs = fields.Integer()
    category = fields.Nested(ReportNamed)
    department = fields.Nested(ReportNamed, allow_none=True)
    urgency = Text()
    text = Text()
    grid = Text(attribute="grid_code")
    lat = fields.Float(allow_none=True, metadata={"description": "纬度（GCJ-02）"})
    lng = fields.Float(allow_none=True, metadata={"description": "经度（GCJ-02）"})
    address = Text(allow_none=True)
    source = Text()
    merged_into = Text(allow_none=True, attribute="merged_into_id")
    mine = fields.Boolean()
    reporter = Text(allow_none=True, metadata={"description": "报事人手机号（脱敏，仅在其同意时）"})
    reporter_visible = fields.Boolean()
    points_awarded = fields.Integer()
    photos = fields.List(Text(), metadata={"description": "签名链接，有效期有限"})
    resolution_photos = fields.List(Text())
    for _name in ("submitted_at", "due_at", "accept_due_at", "resolve_due_at", "responded_at", "resolved_at",
                  "confirmed_at", "closed_at"):
        locals()[_name] = fields.AwareDateTime(allow_none=True)
    history = fields.List(fields.Nested(ReportStep))


class ReportFiled(ReportRead):
    duplicates_nearby = fields.List(fields.Nested(ReportRead), metadata={"description": "附近同类未结报事"})


class ReportQuery(PageArgs):
    queue = Text(load_default="mine", validate=validate.OneOf(tuple(QUEUE_ROLES)))
    state = Text(validate=validate.OneOf(STATES))


class ReportPhotoRead(ma.Schema):
    id = Text()
    url = Text()
    width = fields.Integer()
    height = fields.Integer()


class ReportCategoryFields(ma.Schema):
    name = Text(validate=validate.Length(1, 32))
    department = Text(validate=validate.Length(1, 32))
    accept_hours = fields.Integer(validate=HOURS)
    resolve_hours = fields.Integer(validate=HOURS)
    urgent_accept_hours = fields.Integer(validate=HOURS)
    urgent_resolve_hours = fields.Integer(validate=HOURS)
    active = fields.Boolean()


class ReportCategoryCreate(ReportCategoryFields):
    code = Text(required=True, validate=CODE)
    name = Text(required=True, validate=validate.Length(1, 32))
    department = Text(required=True, validate=validate.Length(1, 32))
    accept_hours = fields.Integer(required=True, validate=HOURS)
    resolve_hours = fields.Integer(required=True, validate=HOURS)
    urgent_accept_hours = fields.Integer(required=True, validate=HOURS)
    urgent_resolve_hours = fields.Integer(required=True, validate=HOURS)


class ReportCategoryRead(ma.Schema):
    id = fields.Integer()
    code = Text()
    name = Text()
    department = Text()
    accept_hours = fields.Integer()
    resolve_hours = fields.Integer()
    urgent_accept_hours = fields.Integer()
    urgent_resolve_hours = fields.Integer()
    active = fields.Boolean()


class ReportDepartmentCreate(ma.Schema):
    code = Text(required=True, validate=CODE)
    name = Text(required=True, validate=validate.Length(1, 64))
    area = Text(required=True, validate=validate.Regexp(r"^\d{4}(\d{2})?(\d{3})?$"))


class ReportDepartmentRead(ma.Schema):
    id = fields.Integer()
    code = Text()
    name = Text()
    area = Text(attribute="area_code")


class DepartmentStaffCreate(ma.Schema):
    username = Text(required=True, validate=validate.Length(3, 64))
    password = Text(required=True, load_only=True, validate=validate.Length(10, 128))
    area = Text(required=True, validate=validate.Regexp(r"^\d{4,14}$"))


class DepartmentStaffRead(ma.Schema):
    department_id = fields.Integer()
    user_id = Text()


class ReportStatsQuery(ma.Schema):
    area = Text(validate=validate.Regexp(r"^\d{4,14}$"))
    by = Text(load_default="street", validate=validate.OneOf(("street", "department", "category")))
    from_ = fields.Date(data_key="from")
    to = fields.Date()


class ReportFigures(ma.Schema):
    for _name in ("count", "responded_on_time", "response_due", "resolved_on_time", "resolution_due", "confirmed",
                  "closed", "open_overdue", "flagged"):
        locals()[_name] = fields.Integer()
    response_rate = fields.Float(allow_none=True, metadata={"description": "响应率"})
    resolution_rate = fields.Float(allow_none=True, metadata={"description": "解决率"})
    satisfaction_rate = fields.Float(allow_none=True, metadata={"description": "满意率"})
    median_hours_to_resolve = fields.Float(allow_none=True, metadata={
        "description": "办结用时中位数（小时）：每件按整分钟计（不足一分钟舍去），精确到分钟"})


class ReportGroupFigures(ReportFigures):
    key = Text()
    name = Text(allow_none=True)


class ReportStatsRead(ma.Schema):
    area = Text()
    by = Text()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    as_of = fields.AwareDateTime()
    total = fields.Nested(ReportFigures)
    groups = fields.List(fields.Nested(ReportGroupFigures))
