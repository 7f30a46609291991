"""/admin/health-codes/{id}/colour and /history, /admin/tracing and /admin/tracing/apply: health officials' routes.

Tracing reads venues' scans and this domain's codes in one statement, so the tracing service is venues'
(`app.venues.tracing`: venues builds on this domain and this domain imports nothing of venues); create_app hands
it to these routes with `use_tracing`."""
from types import ModuleType

from app.api import hot_route
from app.auth.access import require
from app.common.blueprint import Blueprint
from app.common.caller import current_user
from app.common.views import View
from app.errors import doc_errors
from app.health_codes import official_schemas as schemas
from app.health_codes import service
from app.ops.idempotency import idempotent

admin = Blueprint("admin_health", __name__, url_prefix="/api/v1/admin", description="卫健人员：改码（留痕）、流调追踪")
tracing: ModuleType | None = None  # venues' tracing service: `trace`, `apply` (use_tracing)


def use_tracing(module: ModuleType) -> None:
    """Serve /admin/tracing with this service module (venues' `tracing`), set once by create_app."""
    global tracing
    tracing = module


@admin.route("/health-codes/<int:code_id>/colour", methods=["PATCH"])
@require("health_official", fresh=True)
@admin.arguments(schemas.ColourSet)
@admin.response(200, schemas.AppliedRead)
@doc_errors(404, 410, 422)
def set_colour(data, code_id):
    """Change the colour of a code's person, with a reason (needs a fresh sign-in; every change is an audit row).

    Acts through any code of the person, a withdrawn one included; 410 `code_revoked` once the person is erased."""
    person = service.official_set_colour(code_id=code_id, colour=data["colour"], reason=data["reason"],
                                         official_id=current_user.id)
    return View(person, health_code_id=code_id)


@admin.route("/health-codes/<int:code_id>/history", methods=["GET"])
@require("health_official")
@admin.response(200, schemas.HistoryList)
@doc_errors(404)
def history(code_id):
    """The colour changes and declarations of a code's person, through all its codes, newest first."""
    return {"items": service.history(code_id=code_id)}


@hot_route(admin, "/tracing", method="POST", roles=("health_official",), idempotent=True,
           arguments=schemas.TracingCreate, response=(200, schemas.TracingRead), errors=(404, 422))
def trace(data):
    """Who shared a venue with a case within ±window of each visit (masked); the query is audited."""
    return tracing.trace(official=current_user, **data)


@admin.route("/tracing/apply", methods=["POST"])
@require("health_official", fresh=True)
@idempotent
@admin.arguments(schemas.TracingApply)
@admin.response(200, schemas.AppliedList)
@doc_errors(404, 410, 422)
def apply_tracing(data):
    """Turn traced contacts' persons yellow in one transaction, one audit row per person."""
    return {"items": tracing.apply(official=current_user, health_code_ids=data["health_code_ids"],
                                   colour=data["colour"], reason=data["reason"])}
