"""Bodies of the officials' colour statistics."""

import marshmallow as ma
from marshmallow import fields

from app.common.fields import BoundedDate


class ColourCountsQuery(ma.Schema):
    from_ = BoundedDate(
        required=True,
        data_key="from",
        metadata={"description": "起始日期（北京时间），如 2026-11-01"},
    )
    to = BoundedDate(
        required=True, metadata={"description": "截止日期（北京时间，不晚于今天）；最多 92 天"}
    )


class DayCounts(ma.Schema):
    date = fields.Date(required=True)
    green = fields.Integer(
        required=True, metadata={"description": "当日结束时（今天：截至 as_of）绿码人数"}
    )
    yellow = fields.Integer(required=True)
    red = fields.Integer(required=True)


class ColourCountsRead(ma.Schema):
    from_ = fields.Date(required=True, data_key="from", attribute="first")
    to = fields.Date(required=True, attribute="last")
    as_of = fields.DateTime(required=True, metadata={"description": "今天的数字截至此时"})
    days = fields.List(fields.Nested(DayCounts), required=True)
