"""/reports, /report-photos, /report-categories, /report-departments and /stats/reports."""
from flask import Response, request

from app.auth.access import require
from app.common.blueprint import Blueprint
from app.common.caller import current_user
from app.common.pagination import page_schema
from app.common.views import View
from app.errors import ValidationFailed, doc_errors
from app.ops.idempotency import idempotent
from app.reports import catalogue, photos, queues, schemas, service, stats, workflow

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="有呼必应：报事、受理、派单、处置、评价与统计")
REPORTERS = ("resident", "volunteer")
STATS_ROLES = stats.ROLES


def filed_view(report, created: bool, user) -> View:
    """A filed report with the open reports near it that may be the same problem."""
    nearby = [service.view(r) for r in service.nearby(report)] if created else []
    return service.view(report, user=user, duplicates_nearby=nearby)


@blp.route("/reports", methods=["POST"])
@require(*REPORTERS)
@idempotent
@blp.arguments(schemas.ReportCreate)
@blp.response(201, schemas.ReportFiled)
@blp.alt_response(200, schema=schemas.ReportFiled, description="该 client_key 已提交过：返回原报事")
@doc_errors(404, 422)
def file_report(data):
    """报事：File a report (residents, volunteers); the same client_key again returns the first one."""
    report, created = service.file(user=current_user, data=data)
    return filed_view(report, created, current_user), 201 if created else 200


@blp.route("/reports", methods=["GET"])
@require()
@blp.arguments(schemas.ReportQuery, location="query")
@blp.response(200, page_schema(schemas.ReportRead))
@doc_errors(403, 422)
def list_reports(args):
    """报事列表与工作队列：My reports, or a staff queue:
    community (to accept), street (to dispatch), district, department."""
    return queues.listing(user=current_user, queue=args["queue"], state=args.get("state"), cursor=args["cursor"],
                          limit=args["limit"])


@blp.route("/reports/<int:report_id>", methods=["GET"])
@require()
@blp.response(200, schemas.ReportFiled)
@doc_errors(403, 404)
def get_report(report_id):
    """报事详情：One report with its history (its followers, staff over its grid, its department)."""
    report = service.visible(user=current_user, report_id=report_id)
    shown = service.view(report, user=current_user, history=True)
    if report.state == "submitted" and current_user.has_role("community_staff", "street_staff", "admin"):
        shown.duplicates_nearby = [service.view(r) for r in service.nearby(report)]
    return shown


@blp.route("/reports/<int:report_id>/transitions", methods=["POST"])
@require()
@blp.arguments(schemas.ReportTransitionCreate)
@blp.response(200, schemas.ReportRead)
@doc_errors(403, 404, 409, 422)
def transition(data, report_id):
    """办理报事：Move a case on: accept, reject, merge, dispatch, hand_back, start, resolve, confirm, reopen."""
    report = workflow.act(user=current_user, report_id=report_id, data=data)
    return service.view(report, user=current_user, history=True)


@blp.route("/report-photos", methods=["POST"])
@require(*REPORTERS, "department_staff")
@idempotent
@blp.response(201, schemas.ReportPhotoRead)
@doc_errors(413, 422)
def upload_photo():
    """上传报事照片：Upload one photo (multipart field `photo`); it is re-encoded without EXIF/GPS.
    Use its id in a report."""
    upload = request.files.get("photo")
    if upload is None:
        raise ValidationFailed("photo_required", "请选择照片", errors={"files": {"photo": ["必填"]}})
    photo = photos.store(user=current_user, raw=upload.read())
    return View(photo, url=photos.url(photo.id))


@blp.route("/report-photos/<string:token>", methods=["GET"])
@doc_errors(404, 410)
def get_photo(token):
    """查看报事照片：A photo through its signed link (no sign-in: the link is the permission, and it expires)."""
    photo = photos.open_signed(token)
    return Response(photo.data, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=600"})


@blp.route("/report-categories", methods=["GET"])
@blp.response(200, schemas.ReportCategoryRead(many=True))
def list_categories():
    """报事类别：Report categories offered, with their handling department and deadlines (hours)."""
    return catalogue.with_departments(catalogue.categories())


@blp.route("/report-categories", methods=["POST"])
@require("admin")
@idempotent
@blp.arguments(schemas.ReportCategoryCreate)
@blp.response(201, schemas.ReportCategoryRead)
@doc_errors(404, 409, 422)
def create_category(data):
    """新增报事类别：Add a category (admins)."""
    return catalogue.with_departments([catalogue.create_category(data=data)])[0]


@blp.route("/report-categories/<int:category_id>", methods=["PUT"])
@require("admin")
@blp.arguments(schemas.ReportCategoryFields)
@blp.response(200, schemas.ReportCategoryRead)
@doc_errors(404, 409, 422)
def update_category(data, category_id):
    """修改报事类别：Change a category's name, department, deadlines or availability (admins)."""
    return catalogue.with_departments([catalogue.update_category(category_id=category_id, data=data)])[0]


@blp.route("/report-departments", methods=["GET"])
@blp.response(200, schemas.ReportDepartmentRead(many=True))
def list_departments():
    """职能部门列表：The departments reports are dispatched to."""
    return catalogue.departments()


@blp.route("/report-departments", methods=["POST"])
@require("admin")
@idempotent
@blp.arguments(schemas.ReportDepartmentCreate)
@blp.response(201, schemas.ReportDepartmentRead)
@doc_errors(404, 409, 422)
def create_department(data):
    """新增职能部门：Add a department over an area (admins)."""
    return catalogue.create_department(data=data)


@blp.route("/report-departments/<int:department_id>/staff", methods=["POST"])
@require("admin")
@idempotent
@blp.arguments(schemas.DepartmentStaffCreate)
@blp.response(201, schemas.DepartmentStaffRead)
@doc_errors(404, 422)
def add_department_staff(data, department_id):
    """部门工作人员账号：Create (or extend) a department staff account over an area of the department's (admins)."""
    return catalogue.add_staff(department_id=department_id, **data)


@blp.route("/stats/reports", methods=["GET"])
@require(*STATS_ROLES)
@blp.arguments(schemas.ReportStatsQuery, location="query")
@blp.response(200, schemas.ReportStatsRead)
@doc_errors(403, 404, 422)
def report_stats(args):
    """响应率, 解决率, 满意率, median time to resolve and open overdue cases, by street, department or category."""
    return stats.report_stats(user=current_user, area=args.get("area"), by=args["by"], start=args.get("from_"),
                              end=args.get("to"))
