"""/patrols, /points, /leaderboards, /me/notifications and the volunteer's service record."""
from flask import Response, url_for

from app.api import hot_route
from app.auth.access import require
from app.auth.signed_urls import SignedArgs, signed, signed_or_require, signed_url
from app.common import time as clock
from app.common.blueprint import Blueprint
from app.common.caller import current_user
from app.common.pagination import PageArgs, page_schema
from app.common.views import View
from app.errors import doc_errors
from app.ops.idempotency import idempotent
from app.patrols import (
    checkin,
    codes,
    hours,
    leaderboard,
    notifications,
    points,
    schemas,
    service,
    signups,
)

blp = Blueprint("patrols", __name__, url_prefix="/api/v1", description="巡逻：报名、签到签退、工时认证、积分与排行")
PATROL = "/patrols/<int:patrol_id>"
TEAM = ("volunteer", "organiser", "admin")  # volunteers (group leaders among them), organisers, admins
NO_STORE = {"Cache-Control": "no-store"}


def _attendance(a) -> dict:
    # Kept as a dict for speed: POST /patrols/checkins is a bench hot path.
    return {"id": str(a.id), "patrol_id": str(a.patrol_id), "checked_in_at": a.checked_in_at,
            "checked_out_at": a.checked_out_at, "auto_checkout": a.auto_checkout,
            "hours": None if a.hours_tenths is None else a.hours_tenths / 10,
            "certified_hours": None if a.certified_tenths is None else a.certified_tenths / 10, "review": a.review}


@blp.route("/patrols", methods=["POST"])
@require(*TEAM)
@idempotent
@blp.arguments(schemas.PatrolCreate)
@blp.response(201, schemas.PatrolRead)
@doc_errors(404, 422)
def create_patrol(data):
    """Schedule a patrol for a group (organisers over its area, leaders of the group)."""
    return service.views([service.create(actor=current_user, data=data)])[0]


@blp.route("/patrols", methods=["GET"])
@require(*TEAM)
@blp.arguments(schemas.PatrolQuery, location="query")
@blp.response(200, page_schema(schemas.PatrolRead))
@doc_errors(404, 422)
def list_patrols(args):
    """Patrols by group, area, time window and openness, in start order."""
    return service.listing(group=args.get("group"), area=args.get("area"), start=args.get("from_"),
                           end=args.get("to"), open_only=args["open"], cursor=args["cursor"], limit=args["limit"])


@blp.route(PATROL, methods=["GET"])
@require(*TEAM)
@blp.response(200, schemas.PatrolDetail)
@doc_errors(404)
def get_patrol(patrol_id):
    """One patrol, with my own sign-up and place in line."""
    return service.detail(user=current_user, patrol_id=patrol_id)


@blp.route(PATROL, methods=["PATCH"])
@require(*TEAM)
@blp.arguments(schemas.PatrolUpdate)
@blp.response(200, schemas.PatrolRead)
@doc_errors(404, 409, 422)
def update_patrol(data, patrol_id):
    """Change an open patrol; more seats promote the waitlist; times only while nobody is signed up."""
    return service.views([service.update(actor=current_user, patrol_id=patrol_id, data=data)])[0]


@blp.route(PATROL + "/cancel", methods=["POST"])
@require(*TEAM)
@blp.arguments(schemas.PatrolCancel)
@blp.response(200, schemas.PatrolRead)
@doc_errors(404, 409, 422)
def cancel_patrol(data, patrol_id):
    """Cancel a patrol nobody has checked in to; everyone signed up is notified."""
    return service.views([service.cancel(actor=current_user, patrol_id=patrol_id, reason=data.get("reason"))])[0]


@blp.route(PATROL + "/signups", methods=["POST"])
@require("volunteer")
@idempotent
@blp.response(201, schemas.SignupRead)
@blp.alt_response(200, schema=schemas.SignupRead, description="已报名或已在候补")
@doc_errors(404, 409)
def sign_up(patrol_id):
    """Sign up (members of the patrol's group): a seat, or a place on the waitlist when full."""
    signup, created = signups.sign_up(user=current_user, patrol_id=patrol_id)
    return signups.view(signup), 201 if created else 200


@blp.route(PATROL + "/signups/me", methods=["DELETE"])
@require("volunteer")
@blp.response(200, schemas.SignupRead)
@doc_errors(404, 409)
def withdraw(patrol_id):
    """Withdraw before the start; my seat goes to the first person waiting, who is notified."""
    return signups.view(signups.withdraw(user=current_user, patrol_id=patrol_id))


@blp.route(PATROL + "/signups", methods=["GET"])
@require(*TEAM)
@blp.arguments(schemas.RosterQuery, location="query")
@blp.response(200, page_schema(schemas.RosterRead))
@doc_errors(404, 422)
def roster(args, patrol_id):
    """Who signed up (managers of the patrol), names masked."""
    return signups.roster(actor=current_user, patrol_id=patrol_id, status=args.get("status"),
                          cursor=args["cursor"], limit=args["limit"])


@blp.route(PATROL + "/checkin-code", methods=["GET"])
@require(*TEAM)
@blp.response(200, schemas.CheckinCode)
@doc_errors(404, 409)
def checkin_code(patrol_id):
    """The check-in code to show on site (managers); a new one every 60 s, each accepted for up to 120 s."""
    patrol = service.get(patrol_id)
    service.ensure_manager(current_user, patrol)
    service.ensure_open(patrol, clock.utcnow())
    shown = codes.current(patrol.id, clock.utcnow())
    qr_url = signed_url(url_for("patrols.checkin_code_png", patrol_id=patrol.id), shown.expires_at)
    return View(shown, qr_url=qr_url), NO_STORE


@blp.route(PATROL + "/checkin-code.png", methods=["GET"])
@signed_or_require(*TEAM)
@blp.arguments(SignedArgs, location="query")
@blp.doc(responses={"200": {"description": "签到码二维码（PNG）",
                            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}})
@doc_errors(404, 409)
def checkin_code_png(_args, patrol_id):
    """The current check-in code as a QR image for the organiser's phone screen (or by its signed qr_url)."""
    patrol = service.get(patrol_id)
    if not signed():
        service.ensure_manager(current_user, patrol)
    service.ensure_open(patrol, clock.utcnow())
    return Response(codes.png(patrol.id, clock.utcnow()), mimetype="image/png", headers=NO_STORE)


@hot_route(blp, "/patrols/checkins", method="POST", roles=("volunteer",), idempotent=True,
           arguments=schemas.PatrolCheckin, response=(201, schemas.AttendanceRead),
           alt_response=(200, schemas.AttendanceRead, "已签到过：返回原签到记录"), errors=(403, 409, 422))
def check_in(data):
    """Check in on site: an active sign-up, the time window, the geofence and a current code are required."""
    attendance, created = checkin.check_in(user=current_user, token=data["token"], lat=data["lat"], lng=data["lng"],
                                           accuracy_m=data["accuracy_m"])
    return _attendance(attendance), 201 if created else 200


@blp.route(PATROL + "/checkout", methods=["POST"])
@require("volunteer")
@blp.arguments(schemas.PatrolCheckout)
@blp.response(200, schemas.AttendanceRead)
@doc_errors(404, 409, 422)
def check_out(data, patrol_id):
    """Check out: hours are the overlap of my presence with the patrol's time, to 0.1 h."""
    attendance, _changed = checkin.check_out(user=current_user, patrol_id=patrol_id, lat=data["lat"], lng=data["lng"])
    return _attendance(attendance)


@blp.route(PATROL + "/attendances", methods=["GET"])
@require(*TEAM)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(schemas.AttendanceRecord))
@doc_errors(404, 422)
def list_attendances(args, patrol_id):
    """Who checked in and out, with recorded and certified hours (managers), names masked."""
    return hours.attendances(actor=current_user, patrol_id=patrol_id, cursor=args["cursor"], limit=args["limit"])


@blp.route(PATROL + "/attendances/<int:volunteer_id>/certifications", methods=["POST"])
@require(*TEAM)
@idempotent
@blp.arguments(schemas.CertificationCreate)
@blp.response(201, schemas.AttendanceRecord)
@doc_errors(404, 409, 422)
def certify(data, patrol_id, volunteer_id):
    """谁记录谁证明: confirm the recorded hours, or correct them with a reason (a new entry, never an edit)."""
    return hours.certify(actor=current_user, patrol_id=patrol_id, volunteer_id=volunteer_id,
                         hours=data.get("hours"), reason=data.get("reason"))


@blp.route(PATROL + "/attendances/certify", methods=["POST"])
@require(*TEAM)
@blp.response(200, schemas.CertifiedCount)
@doc_errors(404)
def certify_all(patrol_id):
    """Confirm, as recorded, every checked-out attendance not yet certified (never the caller's own)."""
    return hours.certify_all(actor=current_user, patrol_id=patrol_id)


@blp.route("/points/grants", methods=["POST"])
@require("organiser", "admin")
@idempotent
@blp.arguments(schemas.GrantCreate)
@blp.response(201, schemas.EntryRead)
@doc_errors(404, 422)
def grant_points(data):
    """Grant (or deduct) points with a reason: organisers and admins over where the volunteer lives."""
    return points.entry_view(points.grant(actor=current_user, volunteer_id=data["volunteer_id"],
                                          points=data["points"], reason=data["reason"]))


@blp.route("/volunteers/me/service-record", methods=["GET"])
@require("volunteer")
@blp.arguments(PageArgs, location="query")
@blp.response(200, schemas.ServiceRecord)
@doc_errors(404, 422)
def service_record(args):
    """My certified hours and points, hours awaiting certification, and my points ledger (newest first)."""
    return points.service_record(user=current_user, cursor=args["cursor"], limit=args["limit"])


@blp.route("/leaderboards", methods=["GET"])
@require(*TEAM)
@blp.arguments(schemas.LeaderboardQuery, location="query")
@blp.response(200, schemas.Leaderboard)
@doc_errors(404, 422)
def leaderboards(args):
    """Top volunteers by points in a group or an area, this week, this month or all time, and my own rank."""
    return leaderboard.board(user=current_user, scope=args["scope"], scope_id=args.get("id"),
                             period=args["period"], limit=args["limit"])


@blp.route("/me/signups", methods=["GET"])
@require()
@blp.response(200, schemas.MySignupList)
def my_signups():
    """我的报名：未结束的巡逻在前（按开始时间），已结束的在后。"""
    return {"items": signups.mine(user=current_user)}


@blp.route("/me/notifications", methods=["GET"])
@require()
@blp.arguments(schemas.NotificationQuery, location="query")
@blp.response(200, schemas.NotificationList)
@doc_errors(422)
def list_notifications(args):
    """My notifications, newest first, and how many are unread."""
    return notifications.listing(user=current_user, unread_only=args["unread"], cursor=args["cursor"],
                                 limit=args["limit"])


@blp.route("/me/notifications/read", methods=["POST"])
@require()
@blp.arguments(schemas.MarkRead, required=False)
@blp.response(200, schemas.MarkedRead)
@doc_errors(422)
def mark_read(data):
    """Mark my notifications read: the listed ones, or all of them."""
    return {"updated": notifications.mark_read(user=current_user, ids=data.get("ids"))}
