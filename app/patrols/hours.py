"""工时认证 (谁记录谁证明): the patrol's managers confirm the recorded hours or correct them with a reason.

Every certification is a new row, never an edit; the ledger follows: the points of the previous certification
are reversed by a new line and the new hours earn theirs. A manager never certifies their own hours.
Certification starts when the patrol has ended. Leaders certify at most the recorded hours plus
PATROL_HOURS_TOLERANCE_TENTHS; more, and any attendance flagged for review (a check-out far outside the
geofence), is certified by an organiser or admin of the area, with a reason (the certification row is the audit)."""
from flask import current_app
from sqlalchemy import or_, select

from app.common import time as clock
from app.common.pagination import time_page
from app.common.views import View
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.patrols import points
from app.patrols import service as patrols
from app.patrols.models import Attendance, HoursCertification, Patrol, PointsEntry
from app.volunteers import service as volunteer_service


def _tenths(hours) -> int:
    return int(round(float(hours) * 10))


def certify(*, actor, patrol_id: int, volunteer_id: int, hours=None,
            reason: str | None = None) -> View:
    """Confirm (hours omitted or equal to the record) or correct (other hours, with a reason) one attendance."""
    patrol = patrols.get(patrol_id)
    patrols.ensure_manager(actor, patrol)
    _ensure_ended(patrol)
    own = volunteer_service.volunteer_of(actor)
    if own is not None and own.id == volunteer_id:
        raise Forbidden("self_certification", "不能认证自己的工时，请由本群其他负责人或辖区组织者认证")
    attendance = db.session.execute(select(Attendance).where(
        Attendance.patrol_id == patrol.id, Attendance.volunteer_id == volunteer_id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one_or_none()
    if attendance is None:
        raise NotFound("attendance_not_found", "该志愿者没有这次巡逻的签到记录")
    certification = _record(actor, patrol, attendance, None if hours is None else _tenths(hours), reason)
    db.session.commit()
    names = volunteer_service.masked_names([attendance.volunteer_id])
    return View(attendance, name=names.get(attendance.volunteer_id), certification=certification)


def _record(actor, patrol: Patrol, attendance: Attendance, tenths: int | None,
            reason: str | None) -> HoursCertification:
    """Append the next certification and its ledger lines (the caller holds the attendance row lock)."""
    if attendance.checked_out_at is None:
        raise Conflict("not_checked_out", "该志愿者尚未签退，签退（或巡逻结束自动签退）后才能认证工时")
    previous = attendance.certified_tenths
    if tenths is None:
        if previous is not None:
            raise Conflict("hours_already_certified", "工时已经认证过；如需更正，请填写新的工时和原因")
        tenths = attendance.hours_tenths
    if tenths > _length_tenths(patrol):
        raise ValidationFailed("hours_exceed_patrol", "认证的工时不能超过这次巡逻的时长",
                               errors={"json": {"hours": ["超过巡逻时长"]}})
    if previous is not None and tenths == previous:
        raise Conflict("hours_unchanged", "与已认证的工时相同，无需更正")
    _ensure_may_certify(actor, patrol, attendance, tenths)
    if (previous is not None or tenths != attendance.hours_tenths or attendance.review == "pending") \
            and not (reason or "").strip():
        raise ValidationFailed("reason_required", "更正工时须说明原因（谁记录谁证明）",
                               errors={"json": {"reason": ["更正工时须填写原因"]}})
    now = clock.utcnow()
    certification = HoursCertification(attendance_id=attendance.id, seq=attendance.certifications + 1,
                                       hours_tenths=tenths, recorded_tenths=attendance.hours_tenths,
                                       reason=reason, certified_by=actor.id, created_at=now)
    db.session.add(certification)
    db.session.flush()
    entries = []
    if previous is not None:
        entries.append(_reversal(attendance, reason, actor, now))
    earned_on = clock.to_shanghai(patrol.starts_at).date()
    entries.append(PointsEntry(volunteer_id=attendance.volunteer_id, kind="hours", hours_tenths=tenths,
                               points=points.points_for(patrol.points_per_hour, tenths), patrol_id=patrol.id,
                               group_id=patrol.group_id,
                               certification_id=certification.id, reason=reason, earned_on=earned_on,
                               created_by=actor.id, created_at=now))
    points.append(entries)
    attendance.certified_tenths, attendance.certifications = tenths, certification.seq
    if attendance.review == "pending":
        attendance.review = "done"
    return certification


def _ensure_ended(patrol: Patrol) -> None:
    if clock.utcnow() < patrol.ends_at:
        raise Conflict("patrol_not_ended", "巡逻结束后才能认证工时",
                       extra={"ends_at": clock.to_shanghai(patrol.ends_at).isoformat()})


def _ensure_may_certify(actor, patrol: Patrol, attendance: Attendance, tenths: int) -> None:
    """A flagged attendance, or hours above the record's tolerance, need an organiser or admin of the area."""
    if actor.acts_on(patrol.area_code, *patrols.STAFF):
        return
    if attendance.review == "pending":
        raise Forbidden("review_required", "签退地点远离集合点，须由辖区组织者审核后认证工时")
    allowed = attendance.hours_tenths + current_app.config["PATROL_HOURS_TOLERANCE_TENTHS"]
    if tenths > allowed:
        raise Forbidden("hours_above_record", f"认证工时最多为 {allowed / 10} 小时（记录工时加允许误差）；"
                        "更多须由辖区组织者认证并说明原因", extra={"max_hours": allowed / 10})


def _reversal(attendance: Attendance, reason: str | None, actor, now) -> PointsEntry:
    """A line cancelling the hours line of the attendance's current certification."""
    current = db.session.execute(select(PointsEntry).join(
        HoursCertification, HoursCertification.id == PointsEntry.certification_id).where(
        HoursCertification.attendance_id == attendance.id, HoursCertification.seq == attendance.certifications,
        PointsEntry.kind == "hours")).scalar_one()
    return PointsEntry(volunteer_id=current.volunteer_id, kind="reversal", points=-current.points,
                       hours_tenths=-current.hours_tenths, patrol_id=current.patrol_id, group_id=current.group_id,
                       reverses_id=current.id,
                       reason=reason, earned_on=current.earned_on, created_by=actor.id, created_at=now)


def _length_tenths(patrol: Patrol) -> int:
    return int((patrol.ends_at - patrol.starts_at).total_seconds()) // 360


def certify_all(*, actor, patrol_id: int) -> dict:
    """Confirm, as recorded, every checked-out attendance of the patrol not yet certified (but the actor's own,
    and those flagged for review)."""
    patrol = patrols.get(patrol_id)
    patrols.ensure_manager(actor, patrol)
    _ensure_ended(patrol)
    own = volunteer_service.volunteer_of(actor)
    waiting = db.session.execute(select(Attendance).where(
        Attendance.patrol_id == patrol.id, Attendance.checked_out_at.is_not(None), Attendance.certifications == 0,
        or_(Attendance.review.is_(None), Attendance.review != "pending"),
        Attendance.volunteer_id != (own.id if own else 0)).order_by(Attendance.id).with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)).scalars().all()
    for attendance in waiting:
        _record(actor, patrol, attendance, None, None)
    db.session.commit()
    return {"certified": len(waiting)}


def attendances(*, actor, patrol_id: int, cursor: str | None, limit: int) -> dict:
    """A patrol's attendance for its managers (names masked, locations as distances), in check-in
    order, keyset-paginated."""
    patrol = patrols.get(patrol_id)
    patrols.ensure_manager(actor, patrol)
    query = select(Attendance).where(Attendance.patrol_id == patrol.id)
    result = time_page(query, Attendance.checked_in_at, Attendance.id, cursor=cursor, limit=limit)
    names = volunteer_service.masked_names(a.volunteer_id for a in result["items"])
    result["items"] = [View(a, name=names.get(a.volunteer_id)) for a in result["items"]]
    return result
