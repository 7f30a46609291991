"""Open311 GeoReport v2: the categories as services, reports as service requests (status open/closed,
expected_datetime, agency_responsible), and filing one. Positions travel in WGS-84 as the standard's clients
expect; the grid goes in address_id."""
from datetime import datetime, timedelta

from sqlalchemy import select

from app.common import time as clock
from app.common.geo import gcj02_to_wgs84
from app.common.ids import random_token
from app.errors import ValidationFailed
from app.extensions import db
from app.reports import catalogue, photos, service
from app.reports.models import Category, Department, Report, Transition
from app.reports.workflow import STATE_NAMES

CLOSED = ("resolved", "confirmed", "closed", "rejected", "duplicate")
MAX_RESULTS = 1000
DEFAULT_DAYS = 90


def _time(value: datetime | None) -> str | None:
    return None if value is None else clock.to_shanghai(value).isoformat(timespec="seconds")


def services() -> list[dict]:
    """GET services: one realtime service per active category, grouped by its department."""
    names = {d.id: d.name for d in catalogue.departments()}
    return [{"service_code": c.code, "service_name": c.name, "metadata": False, "type": "realtime",
             "keywords": c.code.replace("_", ","), "group": names.get(c.department_id, ""),
             "description": f"{c.name}：{c.accept_hours} 小时内受理，{c.resolve_hours} 小时内办结"}
            for c in catalogue.categories()]


def request_view(report: Report, category: Category, department: Department | None, note: str | None) -> dict:
    """A report as a GeoReport v2 service request."""
    lat, lng = gcj02_to_wgs84(report.lat, report.lng) if report.lat is not None else (None, None)
    media = photos.urls(report.id, "report")
    return {"service_request_id": str(report.id), "status": "closed" if report.state in CLOSED else "open",
            "status_notes": STATE_NAMES[report.state] + (f"：{note}" if note else ""),
            "service_name": category.name, "service_code": category.code, "description": report.text,
            "agency_responsible": department.name if department else None, "service_notice": None,
            "requested_datetime": _time(report.submitted_at), "updated_datetime": _time(report.updated_at),
            "expected_datetime": _time(report.resolve_due_at), "address": report.address,
            "address_id": report.grid_code, "zipcode": None, "lat": lat, "long": lng,
            "media_url": media[0] if media else None}


def requests(*, ids: list[int] | None, service_code: str | None, start: datetime | None, end: datetime | None,
             status: str | None) -> list[dict]:
    """GET requests: by ids (which override every other argument), else by service, status and a window of at
    most 90 days (the last 90 by default), newest first, at most 1000 (rejected reports are never listed)."""
    query = select(Report).where(Report.state != "rejected")
    if ids:
        query = query.where(Report.id.in_(ids))
    else:
        end = end or clock.utcnow()
        start = start or end - timedelta(days=DEFAULT_DAYS)
        if start > end or end - start > timedelta(days=DEFAULT_DAYS):
            raise ValidationFailed("window_invalid", "查询时间范围应在 90 天以内",
                                   errors={"query": {"start_date": ["范围过大"]}})
        query = query.where(Report.submitted_at >= start, Report.submitted_at <= end)
        if service_code:
            query = query.where(Report.category_id == catalogue.category(service_code).id)
        if status:
            closed = Report.state.in_(CLOSED)
            query = query.where(closed if status == "closed" else ~closed)
    reports = db.session.execute(query.order_by(Report.submitted_at.desc()).limit(MAX_RESULTS)).scalars().all()
    return _views(reports)


def _views(reports: list[Report]) -> list[dict]:
    categories = {c.id: c for c in catalogue.categories(active_only=False)}
    departments = {d.id: d for d in catalogue.departments()}
    notes = _last_reasons([r.id for r in reports])
    return [request_view(r, categories[r.category_id], departments.get(r.department_id), notes.get(r.id))
            for r in reports]


def _last_reasons(report_ids: list[int]) -> dict[int, str]:
    rows = db.session.execute(select(Transition.report_id, Transition.reason).where(
        Transition.report_id.in_(report_ids), Transition.reason.is_not(None)).order_by(Transition.seq))
    return {report_id: reason for report_id, reason in rows}


def file(*, user, form: dict, client_key: str | None) -> dict:
    """POST requests: file a report from GeoReport fields (WGS-84 lat/long, the grid as address_id)."""
    if not form.get("description"):
        raise ValidationFailed("description_required", "请填写问题描述", errors={"form": {"description": ["必填"]}})
    data = {"client_key": client_key or "open311-" + random_token(12), "category": form["service_code"],
            "text": form["description"], "grid": form.get("address_id"), "address": form.get("address_string")}
    if form.get("lat") is not None and form.get("long") is not None:
        data.update(lat=form["lat"], lng=form["long"], coord_type="wgs84")
    report, _created = service.file(user=user, data=data, source="open311")
    department = db.session.get(Department, report.department_id) if report.department_id else None
    return {"service_request_id": str(report.id), "token": None, "account_id": None,
            "service_notice": f"{department.name if department else ''}将于"
                              f"{_time(report.accept_due_at)}前受理"}


def one(report_id: int) -> list[dict]:
    """GET a request by id: a list of one (rejected reports are not found)."""
    report = db.session.get(Report, report_id)
    if report is None or report.state == "rejected":
        return []
    return _views([report])
