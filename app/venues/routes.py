"""/venues: registration, staff, the 场所码 and its poster."""
from datetime import timedelta

from flask import Response, current_app, request, url_for

from app.auth.access import require
from app.auth.signed_urls import SignedArgs, signed, signed_or_require, signed_url
from app.common.blueprint import Blueprint
from app.common.caller import current_user
from app.common.limits import per_account, per_caller, shared
from app.common.pagination import page_schema
from app.common.time import utcnow
from app.errors import doc_errors
from app.extensions import limiter
from app.invitations.responses import sent
from app.invitations.schemas import InvitationSent
from app.ops.idempotency import idempotent
from app.venues import poster, schemas, service, staff_invites

blp = Blueprint("venues", __name__, url_prefix="/api/v1/venues", description="场所码：场所、工作人员与海报")
mine = Blueprint("my_venues", __name__, url_prefix="/api/v1/me", description="我的场所")


@mine.route("/venues", methods=["GET"])
@require()
@mine.response(200, schemas.MyVenueList)
def my_venues():
    """我的场所：我作为管理员或检测员所在的场所。"""
    return {"items": service.mine(user=current_user)}


@blp.route("", methods=["POST"])
@require()
@per_account("RATELIMIT_VENUE_CREATE")
@idempotent
@blp.arguments(schemas.VenueCreate)
@blp.response(201, schemas.VenueRead)
@doc_errors(404, 422, 429)
def create_venue(data):
    """Register a venue; the caller becomes its admin.

    With a valid 统一社会信用代码 (`uscc`) the venue is approved at once; without one an organiser of its area
    approves it. Until then its posters work for check-ins, but tracing marks its visits unverified.
    Errors: 422 `uscc_invalid`."""
    return service.create(user=current_user, **data)


@blp.route("", methods=["GET"])
@require("organiser", "health_official", "admin")
@blp.arguments(schemas.VenueQuery, location="query")
@blp.response(200, page_schema(schemas.VenueRead))
@doc_errors(404, 422)
def list_venues(args):
    """Venues inside an area the caller oversees (search by name or address)."""
    return service.list_venues(user=current_user, area=args["area"], q=args.get("q"), cursor=args["cursor"],
                               limit=args["limit"])


@blp.route("/<int:venue_id>", methods=["GET"])
@require()
@blp.response(200, schemas.VenueRead)
@doc_errors(404)
def get_venue(venue_id):
    """One venue: for its staff and the staff of its area."""
    venue = service.get(venue_id)
    service.ensure_can_view(venue, current_user)
    return venue


@blp.route("/<int:venue_id>", methods=["PATCH"])
@require()
@blp.arguments(schemas.VenueUpdate)
@blp.response(200, schemas.VenueRead)
@doc_errors(404, 422)
def update_venue(data, venue_id):
    """Change a venue's details (its admin, or an organiser of its area)."""
    return service.update_venue(venue=service.get(venue_id), user=current_user, changes=data)


@blp.route("/<int:venue_id>/approval", methods=["POST"])
@require("organiser", "admin")
@blp.response(200, schemas.VenueRead)
@doc_errors(403, 404)
def approve_venue(venue_id):
    """审核场所：Approve a venue without a 统一社会信用代码 (an organiser or admin of its area; idempotent)."""
    return service.approve(venue=service.get(venue_id), user=current_user)


@blp.route("/<int:venue_id>/staff", methods=["GET"])
@require()
@blp.response(200, schemas.StaffRead(many=True))
@doc_errors(404)
def list_staff(venue_id):
    """The venue's admins and inspectors (phones masked)."""
    return service.list_staff(venue=service.get(venue_id), user=current_user)


@blp.route("/<int:venue_id>/staff", methods=["POST"])
@require()
@per_account("RATELIMIT_VENUE_STAFF")
# Per account and venue, every attempt counted (whatever the phone): bounds how many people one manager pesters.
@limiter.limit(shared("RATELIMIT_STAFF_INVITE"),
               key_func=lambda: f"staff-invite:{current_user.id}:{request.view_args['venue_id']}")
@idempotent
@blp.arguments(schemas.StaffBind)
@blp.response(202, InvitationSent)
@doc_errors(403, 404, 422, 429)
def invite_staff(data, venue_id):
    """邀请检测员：Invite the account with this phone to be an inspector (检测员); one answer whatever the phone."""
    staff_invites.invite(venue=service.get(venue_id), user=current_user, phone=data["phone"])
    return sent()


@blp.route("/<int:venue_id>/staff/<int:user_id>", methods=["DELETE"])
@require()
@blp.response(204)
@doc_errors(404, 409)
def unbind_staff(venue_id, user_id):
    """Unbind a staff member (the last admin stays)."""
    service.unbind_staff(venue=service.get(venue_id), user=current_user, member_id=user_id)


@blp.route("/<int:venue_id>/code", methods=["GET"])
@require()
@blp.response(200, schemas.VenueCodeRead)
@doc_errors(404)
def get_code(venue_id):
    """The venue's current 场所码 content."""
    venue = service.get(venue_id)
    service.ensure_can_view(venue, current_user)
    return service.code_forms(venue, poster_url=_poster_url(venue))


@blp.route("/<int:venue_id>/code/rotate", methods=["POST"])
@require()
@idempotent
@blp.response(200, schemas.VenueCodeRead)
@doc_errors(404)
def rotate_code(venue_id):
    """Issue a new 场所码: every poster printed before stops working."""
    venue = service.rotate_code(venue=service.get(venue_id), user=current_user)
    return service.code_forms(venue, poster_url=_poster_url(venue))


def _poster_url(venue) -> str:
    return signed_url(url_for("venues.get_poster", venue_id=venue.id),
                      utcnow() + timedelta(seconds=current_app.config["POSTER_URL_TTL_SECONDS"]))


@blp.route("/<int:venue_id>/poster.png", methods=["GET"])
@signed_or_require()
@per_caller("RATELIMIT_POSTER")
@blp.arguments(SignedArgs, location="query")
@blp.response(200, content_type="image/png", description="A4 poster, 1240×1754 PNG")
@doc_errors(404, 429)
def get_poster(_args, venue_id):
    """The printable 场所码 poster (or by the signed poster_url of the code route)."""
    venue = service.get(venue_id)
    if not signed():
        service.ensure_can_view(venue, current_user)
    png = poster.for_venue(venue)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, no-cache"})


@blp.route("/<int:venue_id>/poster.pdf", methods=["GET"])
@require()
@per_caller("RATELIMIT_POSTER")
@blp.response(200, content_type="application/pdf", description="A4 poster, one page")
@doc_errors(403, 404, 429)
def get_poster_pdf(venue_id):
    """场所码海报 PDF：the poster as a print-ready A4 page, for the venue's and its area's staff."""
    venue = service.get(venue_id)
    service.ensure_can_view(venue, current_user)
    name = f"poster-{venue.id}-v{venue.code_version}.pdf"
    return Response(poster.as_pdf(poster.for_venue(venue)), mimetype="application/pdf",
                    headers={"Cache-Control": "private, no-cache",
                             "Content-Disposition": f'attachment; filename="{name}"'})
