"""Bodies of the invitation routes."""
import marshmallow as ma
from marshmallow import fields, validate

from app.common.pagination import PageArgs
from app.invitations.models import KINDS, STATUSES

INVITED = "已发送邀请"  # the one answer to sending an invitation


class InvitationQuery(PageArgs):
    status = fields.String(load_default="pending", validate=validate.OneOf(STATUSES))


class InvitationRead(ma.Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS),
                         metadata={"description": "group：加入街坊群；venue_staff：担任场所检测员"})
    target_id = fields.String(required=True, metadata={"description": "群或场所的 id"})
    target_name = fields.String(required=True)
    area = fields.String(required=True, attribute="area_code")
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    created_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(required=True, allow_none=True)


class InvitationSent(ma.Schema):
    """The one answer to sending an invitation, whoever the invitee is (and whether they exist)."""

    message = fields.String(required=True, metadata={"example": "已发送邀请"})
