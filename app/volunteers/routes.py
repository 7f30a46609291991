"""/trades, /interests, /volunteers, /stats/volunteers, /admin/volunteers/imports: thin views over the services."""
from functools import wraps

from flask import Response, current_app, request, send_file, stream_with_context, url_for

from app.auth import service as auth_service
from app.auth.access import ensure_acts_on, require
from app.common.blueprint import Blueprint
from app.common.caller import current_user
from app.common.pagination import page_schema
from app.errors import ValidationFailed, doc_errors
from app.ops.idempotency import idempotent
from app.volunteers import counts, export, groups, import_jobs, schemas, search, service, taxonomy

blp = Blueprint("volunteers", __name__, url_prefix="/api/v1",
                description="广州街坊志愿者：档案、行业与兴趣、检索、统计、导入导出")
STAFF = ("organiser", "admin")
IMPORT_MAX_BYTES = 8 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def body_limit(max_bytes: int):
    """Raise this route's request size limit above the global one (set before the body is parsed)."""

    def decorator(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            request.max_content_length = max_bytes
            return func(*args, **kwargs)

        return wrapper

    return decorator


def scope(area: str | None) -> str:
    """The area asked for (default: the caller's widest), checked against the caller's organiser/admin grants."""
    area = area or min(current_user.areas_for(*STAFF), key=lambda code: (len(code), code))
    ensure_acts_on(area, *STAFF)
    return area


# ---- taxonomies ----------------------------------------------------------------------------------------------------
def _taxonomy_routes(kind: str, label: str) -> None:
    """GET (anyone) and POST (city-wide admins) for one taxonomy."""

    def listing():
        return {"items": taxonomy.listing(kind)}

    def create(data):
        ensure_acts_on(auth_service.CITY_CODE, "admin")
        return taxonomy.create(kind, **data)

    listing.__doc__ = f"All {label}, for the registration form and filters."
    create.__doc__ = f"Add to the {label} (city-wide admins)."
    path = f"/{kind}s"
    blp.route(path, methods=["GET"], endpoint=f"list_{kind}s")(blp.response(200, schemas.TaxonomyList)(listing))
    blp.route(path, methods=["POST"], endpoint=f"create_{kind}")(
        require("admin")(idempotent(blp.arguments(schemas.TaxonomyCreate)(blp.response(201, schemas.TaxonomyRead)(
            doc_errors(409, 422)(create))))))


_taxonomy_routes("trade", "trades (行业)")
_taxonomy_routes("interest", "interests (兴趣; at most 63)")


# ---- the volunteer's own profile -----------------------------------------------------------------------------------
@blp.route("/volunteers", methods=["POST"])
@require()
@idempotent
@blp.arguments(schemas.VolunteerCreate)
@blp.response(201, schemas.VolunteerRead)
@doc_errors(404, 409, 422)
def register(data):
    """Become a 广州街坊 volunteer (grants the volunteer role; joins the community group)."""
    data.pop("consent")
    v = service.register(user=current_user, **data)
    return service.profile(v, phone=auth_service.phone_of(current_user))


@blp.route("/volunteers/me", methods=["GET"])
@require()
@blp.response(200, schemas.VolunteerMe)
@doc_errors(404)
def get_me():
    """My volunteer profile, areas and groups."""
    return service.me(current_user)


@blp.route("/volunteers/me", methods=["PATCH"])
@require()
@blp.arguments(schemas.VolunteerUpdate)
@blp.response(200, schemas.VolunteerMe)
@doc_errors(404, 422)
def update_me(data):
    """Change my profile; a new grid in another community moves me to its group."""
    service.update(user=current_user, data=data)
    return service.me(current_user)


@blp.route("/volunteers/me", methods=["DELETE"])
@require(fresh=True)
@blp.response(204)
@doc_errors(404)
def leave():
    """Leave the force: my personal data is erased; my service history stays, anonymised."""
    service.leave(user=current_user)


@blp.route("/volunteers/me/group-suggestions", methods=["GET"])
@require()
@blp.response(200, schemas.GroupSuggestionList)
@doc_errors(404)
def group_suggestions():
    """Trade and interest groups near me that match me (same street first, then district), not yet joined."""
    return {"items": groups.suggestions(user=current_user)}


# ---- organisers: search, stats, export, import ---------------------------------------------------------------------
@blp.route("/volunteers", methods=["GET"])
@require(*STAFF)
@blp.arguments(schemas.VolunteerQuery, location="query")
@blp.response(200, page_schema(schemas.VolunteerRead))
@doc_errors(404, 422)
def search_volunteers(args):
    """Find volunteers inside my area by trade, interest, service role, full name or phone (masked, keyset pages)."""
    area = scope(args.pop("area", None))
    return search.search(area=area, **args)


@blp.route("/stats/volunteers", methods=["GET"])
@require(*STAFF)
@blp.arguments(schemas.VolunteerStatsQuery, location="query")
@blp.response(200, schemas.VolunteerStatsRead)
@doc_errors(404, 422)
def volunteer_stats(args):
    """Exact volunteer counts inside my area, by district, street, community, grid, trade, interest or role."""
    # Built by counts.stats_json in exactly the StatsRead shape and sent as it is: by grid, the city has 19,500
    # rows, which marshmallow would take longer than the route's whole latency budget to dump.
    body = counts.stats_json(by=args["by"], area_code=scope(args.get("area")))
    return current_app.response_class(body, mimetype="application/json")


@blp.route("/volunteers/export.csv", methods=["GET"])
@require(*STAFF)
@blp.arguments(schemas.ExportQuery, location="query")
@blp.response(200, content_type="text/csv")
@blp.doc(responses={"200": {"description": "CSV（UTF-8 带 BOM，姓名与手机号已脱敏）",
                            "content": {"text/csv": {"schema": {"type": "string"}}}}})
@doc_errors(404, 422)
def export_volunteers(args):
    """Download the volunteers inside my area as a masked CSV that Excel opens (streamed)."""
    area = scope(args.get("area"))
    chunks = export.csv_chunks(area=area)
    return Response(stream_with_context(chunks), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="volunteers-{area}.csv"'})


@blp.route("/volunteers/export.xlsx", methods=["GET"])
@require(*STAFF)
@blp.arguments(schemas.ExportQuery, location="query")
@blp.response(200, content_type=XLSX)
@blp.doc(responses={"200": {"description": "XLSX（文本单元格，姓名与手机号已脱敏）",
                            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
@doc_errors(404, 422)
def export_volunteers_xlsx(args):
    """导出志愿者（XLSX）：Download the volunteers inside my area as a masked XLSX workbook
    (same rows as the CSV, text cells)."""
    area = scope(args.get("area"))
    response = send_file(export.xlsx_file(area=area), mimetype=XLSX, as_attachment=True,
                         download_name=f"volunteers-{area}.xlsx")
    response.headers["Cache-Control"] = "no-store"  # send_file's no-cache would let a cache keep it
    return response


@blp.route("/admin/volunteers/imports", methods=["POST"])
@require("admin")
@idempotent
@body_limit(IMPORT_MAX_BYTES)
@blp.arguments(schemas.ImportFile, location="files")
@blp.response(202, schemas.ImportJobRead)
@doc_errors(413, 422)
def import_volunteers(files):
    """Upload volunteers as a CSV or XLSX file (up to 8 MB) to import in the background; follow the job's progress
    (idempotent on phone; rows outside my area refused)."""
    unexpected = sorted({*request.form, *request.files} - {"file"})
    if unexpected:  # the multipart body holds the one file and nothing else, as the document says
        raise ValidationFailed(errors={"files": {name: ["未知的字段"] for name in unexpected[:20]}})
    job = import_jobs.enqueue(user_id=current_user.id, upload=files["file"].stream)
    return import_jobs.progress(import_jobs.get_for(job_id=job.id, user_id=current_user.id)), 202, {
        "Location": url_for("volunteers.import_job", job_id=job.id)}


@blp.route("/admin/volunteers/imports/<int:job_id>", methods=["GET"])
@require("admin")
@blp.response(200, schemas.ImportJobRead)
@doc_errors(404)
def import_job(job_id):
    """导入进度：An import I uploaded: state, rows done of rows total, counts, the first rejected rows."""
    return import_jobs.progress(import_jobs.get_for(job_id=job_id, user_id=current_user.id))


@blp.route("/admin/volunteers/imports/<int:job_id>/rejected.csv", methods=["GET"])
@require("admin")
@blp.response(200, content_type="text/csv")
@blp.doc(responses={"200": {"description": "CSV（UTF-8 带 BOM）：行号、原因",
                            "content": {"text/csv": {"schema": {"type": "string"}}}}})
@doc_errors(404)
def import_rejected(job_id):
    """导入被拒行：Every rejected row of an import I uploaded: line number and reasons (never the row's contents)."""
    body = import_jobs.rejected_csv(import_jobs.get_for(job_id=job_id, user_id=current_user.id))
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="import-{job_id}-rejected.csv"'})

