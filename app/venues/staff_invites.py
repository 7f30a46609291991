"""Staff by phone: a venue's managers invite the account with a phone to be an inspector (检测员). The answer is
the same whether the phone has an account or not, and no role is granted until the invitee accepts."""
from app.auth import service as auth_service
from app.extensions import db
from app.invitations import service as invitations
from app.venues import service
from app.venues.models import Venue, VenueStaff

KIND = "venue_staff"


def invite(*, venue: Venue, user, phone: str) -> None:
    """Invite the account registered with this phone, if there is one and it is not staff here already."""
    service.ensure_can_manage(venue, user)
    member = auth_service.find_by_phone(phone)
    if member is not None and service.staff_role(venue.id, member.id) is None:
        invitations.invite(kind=KIND, target_id=venue.id, target_name=venue.name, area_code=venue.area_code,
                           invitee_id=member.id, invited_by=user.id, title="场所工作人员邀请",
                           body=f"「{venue.name}」邀请您担任检测员（验码），请在“我的邀请”中接受或拒绝。")
    db.session.commit()


def on_accept(invitation, user) -> None:
    """The invitee becomes an inspector of the venue, with venue_staff over its community; no commit."""
    venue = service.get(invitation.target_id)
    if service.staff_role(venue.id, user.id) is None:
        db.session.add(VenueStaff(venue_id=venue.id, user_id=user.id, role="inspector"))
        auth_service.grant_role(user=user, role="venue_staff", area_code=venue.area_code)
