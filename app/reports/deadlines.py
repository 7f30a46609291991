"""Deadlines: `flask reports escalate` (cron) moves each overdue open case one level up (community → street →
district), gives the new level a fresh stage deadline, notifies its staff and the followers, and records it; a
case escalated twice is flagged. Resolutions nobody confirmed or reopened in time are closed."""
from datetime import datetime, timedelta

from sqlalchemy import select

from app.auth import service as auth_service
from app.common import time as clock
from app.extensions import db
from app.patrols import notifications
from app.reports import catalogue, service
from app.reports.models import LEVELS, OPEN_STATES, Category, Report

LEVEL_NAMES = {"community": "社区", "street": "街道", "district": "区"}
BATCH = 500


def _staff_of(report: Report) -> list[int]:
    """The accounts that answer for a case at its (new) level: street staff over its street, or over its district
    (the district's command centre)."""
    area = report.grid_code[:9] if report.level == "street" else report.grid_code[:6]
    return auth_service.holders(roles=("street_staff",), area_code=area)


def escalate_one(report: Report, now: datetime) -> None:
    """Move one overdue case a level up; no commit."""
    report.level = LEVELS[LEVELS.index(report.level) + 1]
    report.escalations += 1
    report.flagged = report.flagged or report.escalations >= 2
    accept_h, _ = catalogue.deadlines(db.session.get(Category, report.category_id), report.urgency)
    report.due_at, report.updated_at = now + timedelta(hours=accept_h), now
    service.record(report, action="escalate", actor_id=None, from_state=report.state,
                   reason=f"超时未办，升级至{LEVEL_NAMES[report.level]}")
    notifications.send(_staff_of(report), kind="report_escalated", patrol_id=None, title="报事超时升级",
                       body=f"报事已超时，升级至{LEVEL_NAMES[report.level]}级督办：{report.text[:60]}")


def close_one(report: Report, now: datetime) -> None:
    """Close a resolution its reporter let lapse; no commit."""
    report.state, report.closed_at, report.due_at, report.updated_at = "closed", now, None, now
    service.record(report, action="close", actor_id=None, from_state="resolved", reason="确认期满，自动结案")


def run(now: datetime | None = None) -> dict:
    """Escalate every overdue open case below district level and close lapsed resolutions, in batches."""
    now = now or clock.utcnow()
    done = {"escalated": 0, "flagged": 0, "closed": 0}
    while True:
        batch = db.session.execute(select(Report).where(
            Report.state.in_(OPEN_STATES), Report.due_at < now, Report.level != "district")
            .order_by(Report.due_at).limit(BATCH).with_for_update(skip_locked=True)).scalars().all()
        for report in batch:
            was_flagged = report.flagged
            escalate_one(report, now)
            done["escalated"] += 1
            done["flagged"] += report.flagged and not was_flagged
        db.session.commit()
        if len(batch) < BATCH:
            break
    lapsed = db.session.execute(select(Report).where(Report.state == "resolved", Report.due_at < now)
                                .with_for_update(skip_locked=True)).scalars().all()
    for report in lapsed:
        close_one(report, now)
    done["closed"] = len(lapsed)
    db.session.commit()
    return done
