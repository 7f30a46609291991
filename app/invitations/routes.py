"""/me/invitations: the caller's invitations (to a group, to a venue's staff), accepted or declined by them."""
from app.auth.access import require
from app.common.blueprint import Blueprint
from app.common.caller import current_user
from app.common.pagination import page_schema
from app.errors import doc_errors
from app.invitations import schemas, service

blp = Blueprint("invitations", __name__, url_prefix="/api/v1/me/invitations",
                description="邀请：加入街坊群、担任场所检测员，由本人接受或拒绝")


@blp.route("", methods=["GET"])
@require()
@blp.arguments(schemas.InvitationQuery, location="query")
@blp.response(200, page_schema(schemas.InvitationRead))
@doc_errors(422)
def list_invitations(args):
    """我的邀请：My invitations (pending by default), newest first."""
    return service.mine(user=current_user, **args)


@blp.route("/<int:invitation_id>/accept", methods=["POST"])
@require()
@blp.response(200, schemas.InvitationRead)
@doc_errors(404, 409)
def accept(invitation_id):
    """接受邀请：Accept an invitation: I join the group, or become an inspector of the venue, now."""
    return service.answer(user=current_user, invitation_id=invitation_id, accept=True)


@blp.route("/<int:invitation_id>/decline", methods=["POST"])
@require()
@blp.response(200, schemas.InvitationRead)
@doc_errors(404, 409)
def decline(invitation_id):
    """拒绝邀请：Decline an invitation; nothing changes for me."""
    return service.answer(user=current_user, invitation_id=invitation_id, accept=False)

