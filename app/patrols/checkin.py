"""签到/签退: check in on site with the rotating code, check out, and close patrols that ended.

Check-in is the hot path: after the token (no database) it costs two statements, in driver autocommit (the route is
`app.common.sql.autocommit`): the patrol joined with the caller's live sign-up (found by account: the sign-up keeps
it) and attendance, then INSERT ... ON CONFLICT DO NOTHING."""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, select, text, update

from app.common import geo
from app.common import time as clock
from app.common.ids import random_id
from app.common.types import UTCDateTime
from app.errors import Conflict, Forbidden
from app.extensions import db
from app.patrols import codes
from app.patrols import service as patrols
from app.patrols.models import Attendance, Patrol, Signup
from app.volunteers import service as volunteer_service

EARLY = timedelta(minutes=30)
MAX_ACCURACY_ALLOWANCE_M = 50  # a phone's reported accuracy widens the fence this much at most
_NO_SYNC = {"synchronize_session": False}


# One attendance per volunteer and patrol, raced safely by the unique constraint. Text, not an insert() construct:
# SQLAlchemy compiles INSERT … ON CONFLICT afresh on every call (it never caches it), which cost more CPU than
# the statement. The same SQL runs on PostgreSQL and SQLite (3.35+).
_RECORD_ARRIVAL = text("""
INSERT INTO patrol_attendances (id, patrol_id, volunteer_id, checked_in_at, checkin_lat, checkin_lng,
                                checkin_accuracy_m, checkin_distance_m, auto_checkout, certifications)
VALUES (:id, :patrol_id, :volunteer_id, :checked_in_at, :checkin_lat, :checkin_lng,
        :checkin_accuracy_m, :checkin_distance_m, :auto_checkout, :certifications)
ON CONFLICT (patrol_id, volunteer_id) DO NOTHING
RETURNING id
""").bindparams(bindparam("checked_in_at", type_=UTCDateTime))


# The patrol, the caller's live sign-up and any attendance, in one round trip; built once (bound :patrol_id,
# :user_id). A user has at most one live sign-up per patrol: leaving the force cancels the departed volunteer's.
_PATROL_AND_SIGNUP = (
    select(Patrol, Signup.volunteer_id, Signup.status, Attendance).where(Patrol.id == bindparam("patrol_id"))
    .outerjoin(Signup, and_(Signup.patrol_id == Patrol.id, Signup.user_id == bindparam("user_id"),
                            Signup.status != "cancelled"))
    .outerjoin(Attendance, and_(Attendance.patrol_id == Patrol.id, Attendance.volunteer_id == Signup.volunteer_id)))


def hours_tenths(checked_in: datetime, checked_out: datetime, starts_at: datetime, ends_at: datetime) -> int:
    """Tenths of an hour of [check-in, check-out] inside [start, end], rounded half up."""
    seconds = (min(checked_out, ends_at) - max(checked_in, starts_at)).total_seconds()
    return (int(max(0.0, seconds)) * 2 + 360) // 720


def check_in(*, user, token: str, lat: float, lng: float, accuracy_m: int) -> tuple[Attendance, bool]:
    """Record the caller's arrival at the patrol the token names; again → the same attendance.
    Returns (attendance, created)."""
    now = clock.utcnow()
    patrol_id = codes.verify(token, now)
    row = db.session.execute(_PATROL_AND_SIGNUP, {"patrol_id": patrol_id, "user_id": user.id}).first()
    if row is None:
        raise codes.invalid()
    patrol, volunteer_id, status, attendance = row
    if attendance is not None:
        return attendance, False
    if status != "active":
        raise Forbidden("not_signed_up", "您没有报名这次巡逻（或仍在候补），不能签到")
    _ensure_in_window(patrol, now)
    distance = _ensure_on_site(patrol, lat, lng, accuracy_m)
    values = dict(patrol_id=patrol.id, volunteer_id=volunteer_id, checked_in_at=now, checkin_lat=lat, checkin_lng=lng,
                  checkin_accuracy_m=accuracy_m, checkin_distance_m=distance, auto_checkout=False, certifications=0)
    attendance = Attendance(id=random_id(), **values)
    # RETURNING, not rowcount: psycopg 3.3 through SQLAlchemy reports -1 for every INSERT.
    inserted = db.session.execute(_RECORD_ARRIVAL, {"id": attendance.id, **values}).first()
    db.session.commit()
    if inserted is None:  # an identical check-in won the race: answer with its row
        return _attendance(patrol.id, volunteer_id), False
    return attendance, True


def _ensure_in_window(patrol: Patrol, now: datetime) -> None:
    opens = patrol.starts_at - EARLY
    if patrol.status != "scheduled" or not opens <= now <= patrol.ends_at:
        raise Conflict("outside_time_window", "不在签到时间内：开始前 30 分钟至结束前可以签到",
                       extra={"opens_at": clock.to_shanghai(opens).isoformat(),
                              "closes_at": clock.to_shanghai(patrol.ends_at).isoformat()})


def _ensure_on_site(patrol: Patrol, lat: float, lng: float, accuracy_m: int) -> int:
    distance = geo.distance_m(patrol.meeting_lat, patrol.meeting_lng, lat, lng)
    allowed = patrol.radius_m + min(accuracy_m, MAX_ACCURACY_ALLOWANCE_M)
    if distance > allowed:
        raise Forbidden("outside_geofence", f"您距离集合点约 {round(distance)} 米，请到集合点 {allowed} 米范围内再签到",
                        extra={"distance_m": round(distance), "allowed_m": allowed})
    return round(distance)


def _attendance(patrol_id: int, volunteer_id: int) -> Attendance | None:
    return db.session.execute(select(Attendance).where(Attendance.patrol_id == patrol_id,
                                                       Attendance.volunteer_id == volunteer_id)
                              .execution_options(populate_existing=True)).scalar_one_or_none()


def check_out(*, user, patrol_id: int, lat: float, lng: float) -> tuple[Attendance, bool]:
    """Record the caller's departure and the hours it gives; again → the same record. Returns (attendance, changed).
    The point is recorded (with its distance from the meeting point) for the certifier, not refused; one far
    outside the geofence is flagged for review (PATROL_CHECKOUT_REVIEW_M)."""
    v = volunteer_service.my_volunteer(user)
    patrol = patrols.get(patrol_id)
    attendance = _attendance(patrol.id, v.id)
    if attendance is None:
        raise Conflict("not_checked_in", "您还没有签到这次巡逻，不能签退")
    if attendance.checked_out_at is not None:
        return attendance, False
    now = clock.utcnow()
    distance = round(geo.distance_m(patrol.meeting_lat, patrol.meeting_lng, lat, lng))
    far = distance > patrol.radius_m + current_app.config["PATROL_CHECKOUT_REVIEW_M"]
    values = dict(checked_out_at=now, checkout_lat=lat, checkout_lng=lng, checkout_distance_m=distance,
                  hours_tenths=hours_tenths(attendance.checked_in_at, now, patrol.starts_at, patrol.ends_at),
                  review="pending" if far else None)
    done = db.session.execute(update(Attendance).where(Attendance.id == attendance.id,
                                                       Attendance.checked_out_at.is_(None)).values(**values),
                              execution_options=_NO_SYNC).rowcount
    db.session.commit()
    if done != 1:  # the patrol was closed (or another check-out landed) meanwhile
        return _attendance(patrol.id, v.id), False
    for key, value in values.items():
        setattr(attendance, key, value)
    return attendance, True


def close_ended(*, now: datetime | None = None, batch: int = 200) -> dict:
    """Close every scheduled patrol that has ended: whoever forgot to check out is checked out at the end
    (auto_checkout). One transaction per patrol; safe to run again or alongside check-outs."""
    now = now or clock.utcnow()
    closed = auto = 0
    while True:
        ended = db.session.execute(select(Patrol).where(Patrol.status == "scheduled", Patrol.ends_at <= now)
                                   .order_by(Patrol.ends_at, Patrol.id).limit(batch)).scalars().all()
        if not ended:
            return {"patrols": closed, "auto_checkouts": auto}
        for patrol in ended:
            auto += _close(patrol, now)
            closed += 1


def _close(patrol: Patrol, now: datetime) -> int:
    patrol = patrols.get(patrol.id, lock=True)
    if patrol.status != "scheduled":
        db.session.rollback()
        return 0
    forgot = db.session.execute(select(Attendance.id, Attendance.checked_in_at).where(
        Attendance.patrol_id == patrol.id, Attendance.checked_out_at.is_(None))).all()
    for attendance_id, checked_in_at in forgot:
        db.session.execute(update(Attendance).where(Attendance.id == attendance_id,
                                                    Attendance.checked_out_at.is_(None)).values(
            checked_out_at=patrol.ends_at, auto_checkout=True,
            hours_tenths=hours_tenths(checked_in_at, patrol.ends_at, patrol.starts_at, patrol.ends_at)),
            execution_options=_NO_SYNC)
    patrol.status, patrol.closed_at, patrol.updated_at = "closed", now, now
    db.session.commit()
    return len(forgot)
