"""Points for useful reports: a volunteer whose report is accepted earns REPORT_POINTS on the patrols' ledger, at
most REPORT_POINTS_DAILY_CAP a day."""
from datetime import datetime
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.patrols import points
from app.reports.models import Report
from app.volunteers import service as volunteer_service

REASON = "有效报事"


def reward(report: Report, *, now: datetime) -> int:
    """Credit the reporter (if a volunteer) for an accepted report, within the daily cap; no commit."""
    if report.reporter_id is None or report.points_awarded:
        return 0
    volunteer = volunteer_service.volunteer_of(SimpleNamespace(id=report.reporter_id))
    if volunteer is None:
        return 0
    today = points.today()
    earned = db.session.execute(select(func.coalesce(func.sum(Report.points_awarded), 0)).where(
        Report.reporter_id == report.reporter_id, Report.points_awarded_on == today)).scalar()
    award = min(current_app.config["REPORT_POINTS"], current_app.config["REPORT_POINTS_DAILY_CAP"] - earned)
    if award <= 0:
        return 0
    points.credit(volunteer_id=volunteer.id, points=award, reason=f"{REASON} {report.id}",
                  earned_on=today, at=now)
    report.points_awarded, report.points_awarded_on = award, today
    return award
