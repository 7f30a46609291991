"""/groups: 街坊群 and their members."""
from app.auth.access import require
from app.common.blueprint import Blueprint
from app.common.caller import current_user
from app.common.pagination import page_schema
from app.errors import doc_errors
from app.invitations.responses import sent
from app.invitations.schemas import InvitationSent
from app.ops.idempotency import idempotent
from app.volunteers import group_invites, groups, membership, schemas

blp = Blueprint("groups", __name__, url_prefix="/api/v1/groups", description="街坊群：地缘、业缘、趣缘群与成员")
MEMBERS = ("volunteer", "organiser", "admin")


@blp.route("", methods=["POST"])
@require("organiser", "admin")
@idempotent
@blp.arguments(schemas.GroupCreate)
@blp.response(201, schemas.GroupRead)
@doc_errors(404, 409, 422)
def create_group(data):
    """Create a locality (community or grid), trade or interest group inside my area."""
    return groups.views([groups.create(actor=current_user, data=data)], viewer=current_user)[0]


@blp.route("", methods=["GET"])
@require()
@blp.arguments(schemas.GroupQuery, location="query")
@blp.response(200, page_schema(schemas.GroupRead))
@doc_errors(404, 422)
def list_groups(args):
    """Groups by kind, area, trade, interest or name (keyset pages)."""
    return groups.listing(**args, viewer=current_user)


@blp.route("/pending", methods=["GET"])
@require("organiser", "admin")
@blp.arguments(schemas.PendingQuery, location="query")
@blp.response(200, page_schema(schemas.GroupPending))
@doc_errors(403, 404, 422)
def pending_groups(args):
    """Groups inside my area with join requests awaiting approval, and how many each has."""
    return groups.awaiting(actor=current_user, **args)


@blp.route("/<int:group_id>", methods=["GET"])
@require()
@blp.response(200, schemas.GroupRead)
@doc_errors(404)
def get_group(group_id):
    """One group, with its member count and my membership."""
    return groups.views([groups.get_group(group_id)], viewer=current_user)[0]


@blp.route("/<int:group_id>", methods=["PATCH"])
@require("organiser", "admin")
@blp.arguments(schemas.GroupUpdate)
@blp.response(200, schemas.GroupRead)
@doc_errors(404, 409, 422)
def update_group(data, group_id):
    """Rename a group or change its description or join policy (organisers of its area)."""
    return groups.views([groups.update(actor=current_user, group_id=group_id, data=data)])[0]


@blp.route("/<int:group_id>/members", methods=["POST"])
@require(*MEMBERS)
@idempotent
@blp.arguments(schemas.MemberAdd)
@blp.response(201, schemas.MemberRead)
@blp.alt_response(200, schema=schemas.MemberRead, description="已是成员或已在审批中（管理者添加：批准其申请）")
@blp.alt_response(202, schema=InvitationSent, description="管理者邀请志愿者：对方在“我的邀请”中接受后入群")
@doc_errors(403, 404, 409, 422)
def join_group(data, group_id):
    """Join (open: at once; approval: pending), or as a leader/organiser invite a volunteer of the group's area."""
    if "volunteer_id" in data:
        member = group_invites.invite(actor=current_user, group_id=group_id, volunteer_id=int(data["volunteer_id"]))
        return (member, 200) if member is not None else sent()
    member, created = membership.join(actor=current_user, group_id=group_id)
    return member, 201 if created else 200


@blp.route("/<int:group_id>/members", methods=["GET"])
@require(*MEMBERS)
@blp.arguments(schemas.MemberQuery, location="query")
@blp.response(200, page_schema(schemas.MemberRead))
@doc_errors(404, 422)
def list_members(args, group_id):
    """Members of a group (its leaders and the organisers of its area), masked, keyset pages."""
    return membership.members(actor=current_user, group_id=group_id, **args)


@blp.route("/<int:group_id>/members/<int:volunteer_id>", methods=["PATCH"])
@require(*MEMBERS)
@blp.arguments(schemas.MemberDecision)
@blp.response(200, schemas.MemberRead)
@doc_errors(404, 409, 422)
def decide_member(data, group_id, volunteer_id):
    """Approve or reject a request (leaders, organisers); make or unmake a leader (organisers)."""
    return membership.decide(actor=current_user, group_id=group_id, volunteer_id=volunteer_id,
                             status=data.get("status"), role=data.get("role"))


@blp.route("/<int:group_id>/members/<int:volunteer_id>", methods=["DELETE"])
@require(*MEMBERS)
@blp.response(204)
@doc_errors(404, 409)
def remove_member(group_id, volunteer_id):
    """Leave a group, or remove a member (leaders, organisers; only organisers remove a leader)."""
    membership.remove(actor=current_user, group_id=group_id, volunteer_id=volunteer_id)
