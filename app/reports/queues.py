"""Each role's queue: the reporter's own cases, a community's new reports, a street's to dispatch, a district's
escalated ones, a department's own. Oldest first (mine: newest first), keyset-paginated."""
from sqlalchemy import or_, select

from app.areas import service as area_service
from app.common.pagination import time_page
from app.errors import Forbidden
from app.reports import catalogue, service
from app.reports.models import Report

QUEUE_ROLES = {"mine": None, "community": ("community_staff", "admin"), "street": ("street_staff", "admin"),
               "district": ("street_staff", "admin"), "department": ("department_staff",)}


def _within(user, roles: tuple[str, ...], longest: int = 14):
    """SQL: the report's grid lies in one of the areas (codes at most `longest` long) the user holds roles over."""
    areas = [a for a in user.areas_for(*roles) if len(a) <= longest]
    return or_(*[area_service.in_subtree(Report.grid_code, a) for a in areas]) if areas else None


def _condition(user, queue: str):
    if queue == "mine":
        return Report.reporter_id == user.id
    if queue == "community":
        where = _within(user, ("community_staff", "admin"))
        return None if where is None else (Report.state == "submitted") & where
    if queue == "street":
        where = _within(user, ("street_staff", "admin"))
        return None if where is None else where & (
            (Report.state == "accepted") | ((Report.state == "submitted") & (Report.level != "community")))
    if queue == "district":
        where = _within(user, ("street_staff", "admin"), longest=6)
        return None if where is None else where & (Report.level == "district") & Report.state.in_(
            ("submitted", "accepted", "dispatched", "in_progress", "reopened"))
    where = _within(user, ("department_staff",))
    departments = catalogue.departments_of(user.id)
    if where is None or not departments:
        return None
    return where & Report.department_id.in_(departments) & Report.state.in_(("dispatched", "in_progress", "reopened"))


def listing(*, user, queue: str, state: str | None, cursor: str | None, limit: int) -> dict:
    """The caller's queue (403 for a queue their roles have none of)."""
    roles = QUEUE_ROLES[queue]
    if roles is not None and not user.has_role(*roles):
        raise Forbidden("queue_forbidden", "您没有该队列的权限")
    condition = _condition(user, queue)
    if condition is None:
        return {"items": [], "next_cursor": None}
    query = select(Report).where(condition)
    if state:
        query = query.where(Report.state == state)
    result = time_page(query, Report.submitted_at, Report.id, cursor=cursor, limit=limit, newest_first=queue == "mine")
    result["items"] = [service.view(r, user=user) for r in result["items"]]
    return result
