"""/admin/health-codes/colour-counts: city-wide colour counts per day, for officials and admins."""

from app.auth.access import ensure_acts_on, require
from app.common.blueprint import Blueprint
from app.errors import doc_errors
from app.health_codes import stats
from app.health_codes import stats_schemas as schemas

CITY = "4401"

blp = Blueprint(
    "health_code_stats",
    __name__,
    url_prefix="/api/v1/admin/health-codes",
    description="卫健人员：全市健康码颜色统计",
)


@blp.route("/colour-counts", methods=["GET"])
@require("health_official", "admin")
@blp.arguments(schemas.ColourCountsQuery, location="query")
@blp.response(200, schemas.ColourCountsRead)
@doc_errors(422)
def colour_counts(args):
    """各色码人数：green, yellow and red holders at each day's end, city-wide (at most 92 days).

    Counts persons, never names; today's figures are as of `as_of`. Errors: 403 `area_forbidden`
    (an admin of one district only); 422 `period_invalid`, `period_too_long`."""
    ensure_acts_on(CITY, "health_official", "admin")
    return stats.colour_counts(first=args["from_"], last=args["to"])
