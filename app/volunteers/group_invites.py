"""A manager asks a volunteer into a group: an invitation the volunteer accepts (`app.invitations`), never a
membership made for them. Managers reach only volunteers living inside the group's area."""
from app.errors import Conflict, Forbidden
from app.extensions import db
from app.invitations import service as invitations
from app.volunteers import service
from app.volunteers.groups import get_group
from app.volunteers.membership import _row, add_member, approve, ensure_manager, lives_in, membership_view

KIND = "group"


def invite(*, actor, group_id: int, volunteer_id: int) -> dict | None:
    """Invite a volunteer (None: invited, or invited already); a volunteer who asked to join is approved instead,
    and a member is answered with their membership."""
    group = get_group(group_id)
    if group.auto:
        raise Conflict("group_automatic", "社区街坊群按居住网格自动加入，无需邀请")
    ensure_manager(actor, group)
    v = service.get_volunteer(volunteer_id, lock="share")
    if not lives_in(group, v):
        raise Forbidden("area_forbidden", "该志愿者不在本群所在区域，不能邀请")
    row = _row(group.id, v.id)
    if row is not None:  # a member already, or one who asked to join (their consent): approve them
        approve(group.id, v.id)
        db.session.commit()
        return membership_view(_row(group.id, v.id), v)
    invitations.invite(kind=KIND, target_id=group.id, target_name=group.name, area_code=group.area_code,
                       invitee_id=v.user_id, invited_by=actor.id, title="街坊群邀请",
                       body=f"您被邀请加入「{group.name}」，请在“我的邀请”中接受或拒绝。")
    db.session.commit()
    return None


def on_accept(invitation, user) -> None:
    """The invitee joins the group as an active member (if they still may); no commit."""
    group = get_group(invitation.target_id)
    v = service.volunteer_of(user, lock="share")
    if v is None:
        raise Conflict("not_a_volunteer", "您还不是志愿者，请先登记成为志愿者再接受邀请")
    if not add_member(group, v, "active"):
        approve(group.id, v.id)

