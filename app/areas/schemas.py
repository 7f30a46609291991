"""Area bodies."""
import marshmallow as ma
from marshmallow import fields, validate

from app.areas.models import LEVELS
from app.common.pagination import PageArgs


class AreaRead(ma.Schema):
    code = fields.String(required=True, metadata={"example": "440106001"})
    name = fields.String(required=True, metadata={"example": "五山街道"})
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    parent_code = fields.String(allow_none=True, required=True)


class AreaDetail(AreaRead):
    ancestors = fields.List(fields.Nested(AreaRead), required=True, metadata={"description": "从市级开始的上级区域"})


class AreaQuery(PageArgs):
    parent = fields.String(validate=validate.Regexp(r"^\d{4,14}$"), metadata={"description": "上级区域代码"})
    level = fields.String(validate=validate.OneOf(LEVELS))
    q = fields.String(validate=validate.Length(1, 32), metadata={"description": "名称或代码前缀"})
