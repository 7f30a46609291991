"""/checkins, /scans/batch, /venues/{id}/stats and /health-codes/{id}/visits."""
from flask import request

from app.api import hot_route
from app.auth.access import require
from app.common.blueprint import Blueprint
from app.common.caller import current_user
from app.common.pagination import page_schema
from app.errors import doc_errors
from app.ops.idempotency import idempotent
from app.venues import scan_schemas as schemas
from app.venues import scans, service, stats

blp = Blueprint("scans", __name__, url_prefix="/api/v1", description="扫码：场所登记、离线批量上传、场所统计、到访记录")


@hot_route(blp, "/checkins", method="POST", keys=lambda: scans.checkin_keys(request.get_json(silent=True)),
           idempotent=True, arguments=schemas.CheckinCreate, response=(201, schemas.CheckinRead),
           alt_response=(200, schemas.CheckinRead, "5 分钟内已在该场所登记：返回原记录"), errors=(404, 410, 422))
def check_in(data):
    """扫场所码: a resident checks in at a venue with one of their own codes, and shows the result at the door."""
    result, created = scans.check_in(user=current_user, venue_code=data["venue_code"],
                                     health_code_id=data["health_code_id"])
    return result, 201 if created else 200


@blp.route("/scans/batch", methods=["POST"])
@require("venue_staff")
@idempotent
@blp.arguments(schemas.BatchCreate)
@blp.response(200, schemas.BatchRead)
@doc_errors(404, 422)
def upload_batch(data):
    """Upload offline scans (≤ 500); each is judged at its scan time and reported one by one."""
    service.get(data["venue_id"])
    items = scans.upload_batch(user=current_user, venue_id=data["venue_id"], items=data["items"])
    counts = {s: sum(1 for i in items if i["status"] == s) for s in ("accepted", "duplicate", "rejected")}
    return {"accepted": counts["accepted"], "duplicates": counts["duplicate"], "rejected": counts["rejected"],
            "items": items}


@blp.route("/venues/<int:venue_id>/stats", methods=["GET"])
@require()
@blp.arguments(schemas.StatsQuery, location="query")
@blp.response(200, schemas.StatsRead)
@doc_errors(404, 422)
def venue_stats(args, venue_id):
    """Scans per hour and per colour on one day: counts, never people."""
    venue = service.get(venue_id)
    scans.ensure_official_or_staff(venue, current_user)
    return stats.day_stats(venue_id=venue.id, day=args["date"])


@blp.route("/health-codes/<int:code_id>/visits", methods=["GET"])
@require("resident")
@blp.arguments(schemas.VisitQuery, location="query")
@blp.response(200, page_schema(schemas.VisitRead))
@doc_errors(404, 422)
def visits(args, code_id):
    """A resident's own visit history for one of their codes (nobody else can read a person's scans)."""
    return scans.visits(user=current_user, code_id=code_id, cursor=args["cursor"], limit=args["limit"])
