"""Subscribe-message grants as the API reads and shows them."""
import marshmallow as ma
from marshmallow import fields, validate

from app.subscriptions.models import RESULTS


class SubscriptionResults(ma.Schema):
    results = fields.Dict(keys=fields.String(validate=validate.Length(1, 64)),
                          values=fields.String(validate=validate.OneOf(RESULTS)), required=True,
                          validate=validate.Length(1, 20), metadata={
                              "description": "wx.requestSubscribeMessage 成功回调中的 "
                                             "{模板 id: accept|reject|ban|filter}",
                              "example": {"Xq8kTemplateIdWaitlist": "accept"}})


class SubscribeGrantRead(ma.Schema):
    template_id = fields.String(required=True)
    remaining = fields.Integer(required=True, metadata={"description": "还可发送的条数（每次同意加一，发送一条减一）"})
    last_result = fields.String(required=True, validate=validate.OneOf(RESULTS))
    updated_at = fields.DateTime(required=True)
    refused_at = fields.DateTime(required=True, allow_none=True, metadata={"description": "微信最近一次拒收（43101）"})


class SubscriptionsRead(ma.Schema):
    templates = fields.Dict(keys=fields.String(), values=fields.String(), required=True, metadata={
        "description": "可订阅的消息：{waitlist_promoted|patrol_cancelled|colour_changed|report_dispatched: 模板 id}，"
                       "供 tmplIds 使用"})
    grants = fields.List(fields.Nested(SubscribeGrantRead), required=True)
