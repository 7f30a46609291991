"""Request and response bodies of volunteers, taxonomies, groups, stats and imports."""
import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import fields, validate, validates_schema

from app.common.fields import Id, Name
from app.common.masking import mask_phone
from app.common.pagination import PageArgs
from app.volunteers.counts import AREA_DIMS, TAG_DIMS
from app.volunteers.service import REAL_NAME, masked_name
from app.volunteers.taxonomy import ROLE_CODES, role_codes

AREA = validate.Regexp(r"^\d{4,14}$", error="应为 4–14 位区域代码")
TAG = validate.Length(1, 32)


class _AtLeastOne(ma.Schema):
    @validates_schema
    def _not_empty(self, data, **_kwargs):
        if not data:
            raise ma.ValidationError("请至少修改一项", "_schema")


# ---- taxonomies ----------------------------------------------------------------------------------------------------
class TaxonomyRead(ma.Schema):
    code = fields.String(required=True, metadata={"example": "express"})
    name = fields.String(required=True, metadata={"example": "快递物流"})
    builtin = fields.Boolean(required=True, metadata={"description": "系统内置（否则为管理员新增）"})


class TaxonomyList(ma.Schema):
    items = fields.List(fields.Nested(TaxonomyRead), required=True)


class TaxonomyCreate(ma.Schema):
    code = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z][a-z0-9_]{1,31}$", error="应为 2–32 位小写字母、数字或下划线，以字母开头"))
    name = Name(required=True, no_formula=True, validate=validate.Regexp(r"^\S(.{0,30}\S)?$", error="应为 1–32 个字符"))


# ---- volunteers ----------------------------------------------------------------------------------------------------
def _real_name(**kw):
    # `$` (not Python's `\Z`) so that JavaScript validators read the documented pattern; a trailing newline,
    # which Python's `$` lets through, is refused by the second check
    return Name(validate=[validate.Regexp(rf"^(?:{REAL_NAME.pattern})$", error="应为 1–32 个汉字或字母"),
                          _no_newline], metadata={"example": "陈大文"}, **kw)


def _no_newline(value: str) -> None:
    if "\n" in value:
        raise ma.ValidationError("应为 1–32 个汉字或字母")


def _grid(**kw):
    return fields.String(validate=validate.Regexp(r"^\d{14}$", error="应为 14 位网格代码"),
                         metadata={"example": "44010600100101"}, **kw)


def _interests(**kw):
    return fields.List(fields.String(validate=TAG), validate=validate.Length(max=5, error="最多选择 5 项兴趣"),
                       metadata={"example": ["running", "anti_fraud"], "description": "兴趣代码或名称，最多 5 项"},
                       **kw)


def _roles(**kw):
    return fields.List(fields.String(validate=validate.OneOf(ROLE_CODES)),
                       validate=validate.Length(1, 6, error="请选择 1–6 个服务岗位"),
                       metadata={"example": ["patroller"]}, **kw)


class VolunteerCreate(ma.Schema):
    real_name = _real_name(required=True)
    grid = _grid(required=True)
    trade = fields.String(required=True, validate=TAG, metadata={"example": "express"})
    interests = _interests(load_default=list)
    service_roles = _roles(required=True)
    consent = fields.Boolean(required=True, validate=validate.Equal(True, error="请阅读并同意志愿者服务协议"),
                             metadata={"description": "同意志愿者服务协议与个人信息处理规则"})


class VolunteerUpdate(_AtLeastOne):
    real_name = _real_name()
    grid = _grid()
    trade = fields.String(validate=TAG, metadata={"example": "express"})
    interests = _interests()
    service_roles = _roles()


def _masked_name(**metadata):
    """A volunteer's real name, decrypted and masked."""
    return fields.Function(masked_name, required=True, allow_none=True,
                           metadata={"type": "string", **metadata})


def _masked_phone(**metadata):
    """The `phone` a view carries, masked."""
    return fields.Function(lambda view: mask_phone(view.phone), required=True, allow_none=True,
                           metadata={"type": "string", **metadata})


class VolunteerRead(ma.Schema):
    """A volunteer (a View with `phone`, `trade` and `interests`, tags as codes)."""

    id = fields.String(required=True)
    real_name = _masked_name(description="脱敏姓名，如 陈*文")
    phone = _masked_phone(description="脱敏手机号，如 138****8000")
    grid = fields.String(required=True, allow_none=True, attribute="grid_code")
    trade = fields.String(required=True, allow_none=True)
    interests = fields.List(fields.String(), required=True)
    service_roles = fields.Function(lambda v: role_codes(v.service_roles), required=True,
                                    metadata={"type": "array", "items": {"type": "string"}})
    created_at = fields.DateTime(required=True)


class AreaRef(ma.Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class MyGroup(ma.Schema):
    group_id = fields.String(required=True, attribute="id")
    name = fields.String(required=True)
    kind = fields.String(required=True)
    auto = fields.Boolean(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("pending", "active")))
    role = fields.String(required=True, validate=validate.OneOf(("member", "leader")))


class VolunteerMe(VolunteerRead):
    areas = fields.Dict(keys=fields.String(), values=fields.Nested(AreaRef), required=True,
                        metadata={"description": "居住的区、街道、社区、网格（按级别）"})
    groups = fields.List(fields.Nested(MyGroup), required=True)


class VolunteerQuery(PageArgs):
    area = fields.String(validate=AREA, metadata={"description": "区域代码（默认为您管辖的区域）"})
    trade = fields.String(validate=TAG)
    interest = fields.String(validate=TAG)
    service_role = fields.String(validate=validate.OneOf(ROLE_CODES))
    q = fields.String(validate=validate.Length(1, 32), metadata={"description": "完整姓名或手机号（精确匹配）"})


class ExportQuery(ma.Schema):
    area = fields.String(validate=AREA, metadata={"description": "区域代码（默认为您管辖的区域）"})


class VolunteerStatsQuery(ExportQuery):
    by = fields.String(required=True, validate=validate.OneOf(AREA_DIMS + TAG_DIMS))


class VolunteerStatsRow(ma.Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    count = fields.Integer(required=True)


class VolunteerStatsRead(ma.Schema):
    total = fields.Integer(required=True)
    rows = fields.List(fields.Nested(VolunteerStatsRow), required=True)


# ---- groups --------------------------------------------------------------------------------------------------------
KINDS = validate.OneOf(("locality", "trade", "interest"))
POLICIES = validate.OneOf(("open", "approval"))
GROUP_NAME = validate.Regexp(r"^\S(.{0,38}\S)?$", error="应为 1–40 个字符")


class GroupCreate(ma.Schema):
    name = Name(required=True, validate=GROUP_NAME, metadata={"example": "五山快递街坊群"})
    kind = fields.String(required=True, validate=KINDS)
    area = fields.String(required=True, validate=AREA, metadata={"example": "440106001"})
    trade = fields.String(validate=TAG, allow_none=True, metadata={"description": "行业群必填"})
    interest = fields.String(validate=TAG, allow_none=True, metadata={"description": "兴趣群必填"})
    join_policy = fields.String(load_default="open", validate=POLICIES)
    description = fields.String(load_default="", validate=validate.Length(max=500))


class GroupUpdate(_AtLeastOne):
    name = Name(validate=GROUP_NAME)
    join_policy = fields.String(validate=POLICIES)
    description = fields.String(validate=validate.Length(max=500))


class MyMembership(ma.Schema):
    status = fields.String(required=True, validate=validate.OneOf(("active", "pending")),
                           metadata={"description": "active 已加入 / pending 待审核"})
    role = fields.String(required=True, validate=validate.OneOf(("member", "leader")))


class GroupRead(ma.Schema):
    """A group (a View with `area_name`, `trade`, `interest`, and `my_membership` when asked
    for)."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=KINDS)
    area = fields.String(required=True, attribute="area_code")
    area_name = fields.String(required=True, allow_none=True)
    trade = fields.String(required=True, allow_none=True)
    interest = fields.String(required=True, allow_none=True)
    join_policy = fields.String(required=True, validate=POLICIES)
    description = fields.String(required=True)
    auto = fields.Boolean(required=True, metadata={"description": "社区街坊群（按居住地自动加入）"})
    member_count = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    my_membership = fields.Nested(MyMembership, allow_none=True, metadata={
        "description": "我在该群的状态（群详情与群列表中给出）；null 表示不是成员"})


class GroupQuery(PageArgs):
    kind = fields.String(validate=KINDS)
    area = fields.String(validate=AREA, metadata={"description": "只列出该区域内的群"})
    trade = fields.String(validate=TAG)
    interest = fields.String(validate=TAG)
    q = fields.String(validate=validate.Length(1, 40), metadata={"description": "群名称包含"})


class GroupPending(GroupRead):
    pending = fields.Integer(required=True, metadata={"description": "待审批的入群申请数"})


class PendingQuery(PageArgs):
    area = fields.String(validate=AREA, metadata={"description": "只列出该区域内的群；默认为我管辖的最大区域"})


class GroupSuggestion(GroupRead):
    distance = fields.String(required=True, validate=validate.OneOf(("street", "district", "city")))
    reason = fields.String(required=True)


class GroupSuggestionList(ma.Schema):
    items = fields.List(fields.Nested(GroupSuggestion), required=True)


class MemberAdd(ma.Schema):
    volunteer_id = fields.String(validate=validate.Regexp(r"^\d{1,19}$"),
                                 metadata={"description": "由群负责人或组织者直接加入某位志愿者；不填则为本人申请加入"})


class MemberDecision(_AtLeastOne):
    status = fields.String(validate=validate.OneOf(("active", "rejected")), metadata={"description": "批准或拒绝申请"})
    role = fields.String(validate=validate.OneOf(("member", "leader")), metadata={"description": "设为或取消群负责人"})


class MemberRead(ma.Schema):
    """A membership (a View of the volunteer with `phone`, `status`, `role` and `joined_at`)."""

    volunteer_id = fields.String(required=True, attribute="id")
    real_name = _masked_name()
    phone = _masked_phone()
    grid = fields.String(required=True, allow_none=True, attribute="grid_code")
    status = fields.String(required=True, validate=validate.OneOf(("pending", "active", "rejected")))
    role = fields.String(required=True, validate=validate.OneOf(("member", "leader")))
    joined_at = fields.DateTime(required=True, allow_none=True)


class MemberQuery(PageArgs):
    status = fields.String(validate=validate.OneOf(("pending", "active")))


# ---- import --------------------------------------------------------------------------------------------------------
class ImportFile(ma.Schema):
    file = Upload(required=True, metadata={"description": "CSV（UTF-8 或 GBK）或 XLSX，"
                                                          "表头：手机号、姓名、网格、行业、兴趣、服务岗位"})


class RejectedRow(ma.Schema):
    line = fields.Integer(required=True)
    reasons = fields.List(fields.String(), required=True)


class ImportJobRead(ma.Schema):
    id = Id(required=True)
    state = fields.String(required=True, validate=validate.OneOf(("queued", "running", "done", "failed")),
                          metadata={"description": "queued 排队中，running 导入中，done 已完成，failed 失败"})
    rows_total = fields.Integer(required=True, allow_none=True, metadata={"description": "数据行数（开始导入后得知）"})
    rows_done = fields.Integer(required=True, metadata={"description": "已检查的数据行数"})
    total = fields.Integer(required=True, attribute="rows_done", dump_only=True,
                           metadata={"description": "同 rows_done"})
    inserted = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    rejected_rows = fields.List(fields.Nested(RejectedRow), required=True,
                                metadata={"description": "最多列出 1000 行；完整清单见 rejected.csv"})
    rejected_rows_truncated = fields.Boolean(required=True)
    error = fields.String(required=True, allow_none=True, metadata={"description": "失败时的错误代码"})
    message = fields.String(required=True, allow_none=True, metadata={"description": "失败原因"})
    created_at = fields.DateTime(required=True)
    started_at = fields.DateTime(required=True, allow_none=True)
    finished_at = fields.DateTime(required=True, allow_none=True)
