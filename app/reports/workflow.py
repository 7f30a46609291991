"""The case as a state machine: each action names the states it leaves, the state it reaches and who may take it;
every step is a transition row. An action the report's state does not allow is a 409 naming the current state."""
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import update

from app.common import time as clock
from app.errors import Conflict, Forbidden, ValidationFailed
from app.extensions import db
from app.patrols import notifications
from app.reports import catalogue, photos, rewards, service
from app.reports.models import OPEN_STATES, Category, Report
from app.subscriptions import service as subscriptions


def takes(user, report: Report) -> bool:
    """Community staff of the grid's community; street (or district) staff once the case escalated; admins."""
    return (user.acts_on(report.grid_code, "community_staff", "admin")
            or (report.level != "community" and user.acts_on(report.grid_code, "street_staff")))


def dispatches(user, report: Report) -> bool:
    """Street staff over the grid (district staff included) and admins."""
    return user.acts_on(report.grid_code, "street_staff", "admin")


def responds(user, report: Report) -> bool:
    """The staff of the department the case went to, over its grid (and admins)."""
    return service.in_department(user, report) or user.acts_on(report.grid_code, "admin")


def follows(user, report: Report) -> bool:
    """The reporter, and the reporters of the reports merged into the case."""
    return user.id in service.followers(report)


@dataclass(frozen=True)
class Action:
    sources: tuple[str, ...]
    target: str
    may: object
    needs_reason: bool = False


ACTIONS = {
    "accept": Action(("submitted",), "accepted", takes),
    "reject": Action(("submitted",), "rejected", takes, needs_reason=True),
    "merge": Action(("submitted",), "duplicate", takes),
    "dispatch": Action(("accepted",), "dispatched", dispatches),
    "hand_back": Action(("dispatched",), "accepted", responds, needs_reason=True),
    "start": Action(("dispatched", "reopened"), "in_progress", responds),
    "resolve": Action(("in_progress",), "resolved", responds, needs_reason=True),
    "confirm": Action(("resolved",), "confirmed", follows),
    "reopen": Action(("resolved",), "reopened", follows, needs_reason=True),
}
STATE_NAMES = {"submitted": "待受理", "accepted": "已受理", "rejected": "不予受理", "duplicate": "已合并",
               "dispatched": "已派单", "in_progress": "处置中", "resolved": "已办结", "reopened": "已重新打开",
               "confirmed": "已确认", "closed": "已关闭"}


def state_conflict(report: Report, action: str) -> Conflict:
    """409 naming the current state."""
    return Conflict("report_state_conflict", f"报事当前状态为「{STATE_NAMES[report.state]}」，不能执行该操作",
                    extra={"state": report.state, "action": action})


def _lock(report_id: int) -> Report:
    report = db.session.get(Report, report_id, with_for_update=True, populate_existing=True)
    return report or service.get(report_id)


def act(*, user, report_id: int, data: dict) -> Report:
    """Take one action on a case (the caller must be allowed to, and the state must allow it)."""
    name = data["action"]
    rule = ACTIONS[name]
    report = _lock(report_id)
    if not rule.may(user, report):
        raise Forbidden("report_action_forbidden", "您无权对该报事执行此操作")
    if report.state not in rule.sources:
        raise state_conflict(report, name)
    reason = data.get("reason")
    if rule.needs_reason and not reason:
        raise ValidationFailed("reason_required", "请填写原因或处置说明", errors={"json": {"reason": ["必填"]}})
    now, before = clock.utcnow(), report.state
    department_id = STEPS[name](report, user=user, data=data, now=now)
    report.state, report.updated_at = rule.target, now
    service.record(report, action=name, actor_id=user.id, from_state=before, reason=reason,
                   department_id=department_id)
    _tell(report, name, actor_id=user.id)
    if name == "dispatch":
        _tell_department(report)
    db.session.commit()
    return report


def _hours(report: Report) -> timedelta:
    accept_h, _ = catalogue.deadlines(db.session.get(Category, report.category_id), report.urgency)
    return timedelta(hours=accept_h)


def _accept(report, *, user, data, now):
    report.responded_at, report.due_at = now, now + _hours(report)
    rewards.reward(report, now=now)


def _reject(report, *, user, data, now):
    report.responded_at, report.due_at = now, None


def _merge(report, *, user, data, now):
    target = service.get(data.get("duplicate_of") or 0) if data.get("duplicate_of") else None
    if target is None:
        raise ValidationFailed("duplicate_of_required", "请选择要合并到的报事",
                               errors={"json": {"duplicate_of": ["必填"]}})
    if target.id == report.id or target.state not in (*OPEN_STATES, "resolved") or not service.may_see(user, target):
        raise Conflict("merge_target_invalid", "只能合并到您可见的、未结案的另一条报事")
    report.responded_at, report.due_at, report.merged_into_id = now, None, target.id
    # reports already merged into this one follow the case it joins
    db.session.execute(update(Report).where(Report.merged_into_id == report.id).values(merged_into_id=target.id))
    return None


def _dispatch(report, *, user, data, now):
    department = catalogue.department(data["department"]) if data.get("department") else None
    if department is not None:
        if not report.grid_code.startswith(department.area_code):
            raise ValidationFailed("department_outside_area", "该部门不负责此区域",
                                   errors={"json": {"department": ["不负责此区域"]}})
        report.department_id = department.id
    report.due_at = now + _hours(report)
    return report.department_id


def _hand_back(report, *, user, data, now):
    if report.hand_backs >= 1:
        raise Conflict("hand_back_used", "每个部门只能退回一次，请协调处置", extra={"state": report.state})
    report.hand_backs += 1
    report.due_at = now + _hours(report)
    return report.department_id


def _start(report, *, user, data, now):
    report.due_at = max(report.resolve_due_at, now) if report.state == "dispatched" else now + _hours(report)


def _resolve(report, *, user, data, now):
    photos.attach(user=user, report_id=report.id, photo_ids=data.get("photos", []), stage="resolution")
    report.resolved_at = now
    report.due_at = now + timedelta(hours=current_app.config["REPORT_CONFIRM_WINDOW_HOURS"])


def _confirm(report, *, user, data, now):
    report.confirmed_at, report.due_at = now, None


def _reopen(report, *, user, data, now):
    if report.due_at is not None and now > report.due_at:
        raise Conflict("reopen_window_closed", "已超过可重新打开的期限", extra={"state": report.state})
    report.resolved_at, report.due_at = None, now + _hours(report)


# What each action does to the row besides its state; returns the department it concerns, if any.
STEPS = {"accept": _accept, "reject": _reject, "merge": _merge, "dispatch": _dispatch, "hand_back": _hand_back,
         "start": _start, "resolve": _resolve, "confirm": _confirm, "reopen": _reopen}


def _tell(report: Report, action: str, *, actor_id: int | None) -> None:
    """Followers hear of every step others take on their case."""
    if action in ("confirm", "reopen"):
        return
    to = service.followers(report) - {actor_id}
    if report.merged_into_id:
        to |= service.followers(service.get(report.merged_into_id))
    notifications.send(to, kind="report_update", patrol_id=None, title="您的报事有新进展",
                       body=f"报事{STATE_NAMES[report.state]}：{report.text[:60]}")


def _tell_department(report: Report) -> None:
    """The staff of the department a case went to, over its grid, hear of it: in the app, and by subscribe message
    where they allowed one."""
    staff = catalogue.staff_over(report.department_id, report.grid_code) if report.department_id else []
    category = db.session.get(Category, report.category_id)
    notifications.send(staff, kind="report_dispatched", patrol_id=None, title="新派单待处置",
                       body=f"{category.name}：{report.text[:60]}")
    subscriptions.enqueue(staff, kind="report_dispatched", page=f"pages/reports/detail?id={report.id}",
                          data={"thing1": subscriptions.thing(category.name),
                                "thing2": subscriptions.thing(report.text),
                                "time3": clock.to_shanghai(report.due_at).strftime("%Y年%m月%d日 %H:%M")})
