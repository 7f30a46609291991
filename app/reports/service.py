"""Filing a report (idempotent per client key), who may see one, and how it is shown."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from app.areas import service as area_service
from app.auth import service as auth_service
from app.common import time as clock
from app.common.geo import distance_m, to_gcj02
from app.common.masking import mask_phone
from app.common.views import View
from app.errors import Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.reports import catalogue, photos
from app.reports.models import OPEN_STATES, Category, Department, Report, Transition
from app.volunteers import service as volunteer_service

STAFF = ("community_staff", "street_staff", "admin")


def record(report: Report, *, action: str, actor_id: int | None, from_state: str | None, reason: str | None = None,
           department_id: int | None = None) -> Transition:
    """Add the transition row of a step the report just took; no commit."""
    report.steps = (report.steps or 0) + 1
    row = Transition(report_id=report.id, seq=report.steps, action=action, from_state=from_state, to_state=report.state,
                     level=report.level, actor_id=actor_id, reason=reason, department_id=department_id,
                     created_at=clock.utcnow())
    db.session.add(row)
    return row


def _grid_of(user, grid: str | None) -> str:
    if grid is None:
        volunteer = volunteer_service.volunteer_of(user)
        grid = volunteer.grid_code if volunteer else None
    if grid is None:
        raise ValidationFailed("grid_required", "请选择问题所在网格", errors={"json": {"grid": ["必填"]}})
    return area_service.get_at_level(grid, "grid").code


def existing(reporter_id: int | None, client_key: str) -> Report | None:
    """The report a client key already filed, if any."""
    return db.session.execute(select(Report).where(Report.reporter_id == reporter_id,
                                                   Report.client_key == client_key)).scalar_one_or_none()


def file(*, user, data: dict, source: str = "app") -> tuple[Report, bool]:
    """File a report (or find the one this client key filed): (report, created)."""
    found = existing(user.id, data["client_key"])
    if found is not None:
        return found, False
    category = catalogue.category(data["category"])
    if not category.active:
        raise ValidationFailed("category_inactive", "该类别已停用", errors={"json": {"category": ["已停用"]}})
    report = new_report(category=category, grid=_grid_of(user, data.get("grid")), data=data, source=source,
                        reporter_id=user.id, submitted_at=clock.utcnow())
    db.session.add(report)
    try:
        db.session.flush()
    except IntegrityError:  # the same key, filed at the same moment by a retry that committed first
        db.session.rollback()
        return existing(user.id, data["client_key"]), False
    photos.attach(user=user, report_id=report.id, photo_ids=data.get("photos", []), stage="report")
    record(report, action="submit", actor_id=user.id, from_state=None)
    db.session.commit()
    return report, True


def new_report(*, category: Category, grid: str, data: dict, source: str, reporter_id, submitted_at) -> Report:
    """A report row with its deadlines set from the category and urgency (not added to the session)."""
    urgency = data.get("urgency", "normal")
    accept_h, resolve_h = catalogue.deadlines(category, urgency)
    lat, lng = (to_gcj02(data["lat"], data["lng"], data.get("coord_type", "gcj02"))
                if data.get("lat") is not None else (None, None))
    accept_due = submitted_at + timedelta(hours=accept_h)
    return Report(client_key=data["client_key"], source=source, reporter_id=reporter_id,
                  reporter_visible=data.get("reporter_visible", False), category_id=category.id,
                  department_id=category.department_id, urgency=urgency, text=data["text"], grid_code=grid,
                  lat=lat, lng=lng, address=data.get("address"), submitted_at=submitted_at, updated_at=submitted_at,
                  due_at=accept_due, accept_due_at=accept_due,
                  resolve_due_at=submitted_at + timedelta(hours=resolve_h))


def nearby(report: Report) -> list[Report]:
    """Open reports of the same category near this one (same grid when it has no position), filed recently: the
    nearest first (newest first in the grid), at most 20, in the same order on every call."""
    config = current_app.config
    since = clock.utcnow() - timedelta(hours=config["REPORT_DUPLICATE_WINDOW_HOURS"])
    query = select(Report).where(Report.category_id == report.category_id, Report.state.in_(OPEN_STATES),
                                 Report.submitted_at >= since, Report.id != report.id) \
        .order_by(Report.submitted_at.desc(), Report.id)
    if report.lat is None:
        return list(db.session.execute(query.where(Report.grid_code == report.grid_code).limit(20)).scalars())
    radius = config["REPORT_DUPLICATE_RADIUS_M"]
    box = radius / 100_000  # degrees; a degree is over 100 km here
    rows = db.session.execute(query.where(and_(Report.lat.between(report.lat - box, report.lat + box),
                                               Report.lng.between(report.lng - box, report.lng + box)))).scalars()
    near = [(distance_m(report.lat, report.lng, r.lat, r.lng), r) for r in rows]  # newest first at equal distance:
    return [r for d, r in sorted(near, key=lambda found: found[0]) if d <= radius][:20]  # the sort is stable


def get(report_id: int) -> Report:
    """A report by id, or NotFound(report_not_found)."""
    report = db.session.get(Report, report_id)
    if report is None:
        raise NotFound("report_not_found", "报事不存在")
    return report


def followers(report: Report) -> set[int]:
    """Accounts following a case: its reporter and the reporters of the reports merged into it."""
    merged = db.session.execute(select(Report.reporter_id).where(Report.merged_into_id == report.id)).scalars()
    return {uid for uid in (report.reporter_id, *merged) if uid is not None}


def in_department(user, report: Report) -> bool:
    """Whether the user is staff, over the report's grid, of the department it is dispatched to."""
    return (report.department_id is not None and user.acts_on(report.grid_code, "department_staff")
            and report.department_id in catalogue.departments_of(user.id))


def may_see(user, report: Report) -> bool:
    """Followers, staff over its grid and the department it went to see a report."""
    return (user.id in followers(report) or user.acts_on(report.grid_code, *STAFF) or in_department(user, report))


def visible(*, user, report_id: int) -> Report:
    """A report the user may see, or Forbidden(report_forbidden)."""
    report = get(report_id)
    if not may_see(user, report):
        raise Forbidden("report_forbidden", "您无权查看该报事")
    return report


def view(report: Report, *, user=None, history: bool = False, **values) -> View:
    """A report as the API shows it: its category and department, whether it is the caller's, the reporter's
    masked phone only where they allowed it, photo links, its steps (`history`) when asked for, and any
    other `values` (the reports nearby)."""
    if history:
        values["history"] = list(db.session.execute(select(Transition).where(
            Transition.report_id == report.id).order_by(Transition.seq)).scalars())
    department = db.session.get(Department, report.department_id) if report.department_id else None
    return View(report, category=db.session.get(Category, report.category_id), department=department,
                mine=user is not None and user.id == report.reporter_id, reporter=_reporter(report, user),
                photos=photos.urls(report.id, "report"), resolution_photos=photos.urls(report.id, "resolution"),
                **values)


def _reporter(report: Report, user) -> str | None:
    if report.reporter_id is None or user is None:
        return None
    if user.id != report.reporter_id and not report.reporter_visible:
        return None
    return mask_phone(auth_service.phones_of([report.reporter_id]).get(report.reporter_id))
