"""Patrols: schedule, read, list, change and cancel; who manages one (organisers over its area, its group's leaders)."""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from app.areas import service as area_service
from app.common import time as clock
from app.common.pagination import time_page
from app.common.views import View
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.patrols import notifications
from app.patrols.models import Attendance, Patrol, Signup
from app.subscriptions import service as subscriptions
from app.volunteers import groups as group_service
from app.volunteers import membership
from app.volunteers import service as volunteer_service

STAFF = ("organiser", "admin")
MAX_LENGTH = timedelta(hours=12)
EDITABLE = ("title", "description", "radius_m", "points_per_hour")


def get(patrol_id: int, *, lock: bool = False) -> Patrol:
    """A patrol by id (lock=True: FOR UPDATE, which serialises seat changes), or NotFound(patrol_not_found)."""
    query = select(Patrol).where(Patrol.id == patrol_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    patrol = db.session.execute(query).scalar_one_or_none()
    if patrol is None:
        raise NotFound("patrol_not_found", "巡逻活动不存在或已删除")
    return patrol


def leads(user, group_id: int) -> bool:
    """Whether the user is a leader of the group."""
    v = volunteer_service.volunteer_of(user)
    return v is not None and membership.is_leader(group_id, v.id)


def ensure_manager(user, patrol: Patrol) -> None:
    """Forbidden(patrol_forbidden) unless the user organises the patrol's area or leads its group."""
    if not (user.acts_on(patrol.area_code, *STAFF) or leads(user, patrol.group_id)):
        raise Forbidden("patrol_forbidden", "只有辖区组织者或本群负责人可以管理这次巡逻")


def _ensure_may_set_points(actor, area_code: str, points_per_hour: int) -> None:
    """Points above the configured default per hour are set by organisers and admins of the area only."""
    default = current_app.config["PATROL_POINTS_PER_HOUR_DEFAULT"]
    if points_per_hour > default and not actor.acts_on(area_code, *STAFF):
        raise Forbidden("points_per_hour_forbidden", "每小时积分高于默认值，须由辖区组织者或管理员设置",
                        extra={"default": default})


def ensure_open(patrol: Patrol, now: datetime) -> None:
    """Conflict unless the patrol is scheduled and has not ended."""
    if patrol.status != "scheduled":
        raise Conflict("patrol_not_open", "这次巡逻已取消或已结束")
    if patrol.ends_at <= now:
        raise Conflict("patrol_ended", "这次巡逻已经结束")


def _check_times(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if not starts_at < ends_at <= starts_at + MAX_LENGTH:
        raise ValidationFailed("patrol_times_invalid", "结束时间应晚于开始时间，且一次巡逻不超过 12 小时",
                               errors={"json": {"ends_at": ["应晚于开始时间且不超过 12 小时"]}})
    if ends_at <= now:
        raise ValidationFailed("patrol_in_past", "结束时间已过，不能发布已经结束的巡逻",
                               errors={"json": {"ends_at": ["应晚于当前时间"]}})


def create(*, actor, data: dict) -> Patrol:
    """An organiser over the area, or a leader of the group, schedules a patrol for the group."""
    group = group_service.get_group(data["group_id"])
    area = area_service.get_at_level(data["area"], "community", "grid")
    if not (area.code.startswith(group.area_code) or group.area_code.startswith(area.code)):
        raise ValidationFailed("patrol_area_outside_group", "巡逻区域应在该街坊群的范围之内",
                               errors={"json": {"area": ["不在该群的范围内"]}})
    if not (actor.acts_on(area.code, *STAFF) or leads(actor, group.id)):
        raise Forbidden("patrol_forbidden", "只有辖区组织者或本群负责人可以发布巡逻")
    data.setdefault("points_per_hour", current_app.config["PATROL_POINTS_PER_HOUR_DEFAULT"])
    _ensure_may_set_points(actor, area.code, data["points_per_hour"])
    now = clock.utcnow()
    _check_times(data["starts_at"], data["ends_at"], now)
    point = data["meeting_point"]
    patrol = Patrol(group_id=group.id, area_code=area.code, title=data["title"],
                    description=data.get("description", ""), starts_at=data["starts_at"], ends_at=data["ends_at"],
                    meeting_lat=point["lat"], meeting_lng=point["lng"], radius_m=data["radius_m"],
                    capacity=data["capacity"], points_per_hour=data["points_per_hour"], active_count=0,
                    waitlist_seq=0, status="scheduled", created_by=actor.id, created_at=now, updated_at=now)
    db.session.add(patrol)
    db.session.commit()
    return patrol


def update(*, actor, patrol_id: int, data: dict) -> Patrol:
    """Change a patrol that is still open: text, geofence, points, seats (more seats promote the waitlist),
    and times while nobody is signed up."""
    from app.patrols import signups

    patrol = get(patrol_id, lock=True)
    ensure_manager(actor, patrol)
    now = clock.utcnow()
    ensure_open(patrol, now)
    if "points_per_hour" in data:
        _ensure_may_set_points(actor, patrol.area_code, data["points_per_hour"])
    if "starts_at" in data or "ends_at" in data:
        _reschedule(patrol, data.get("starts_at", patrol.starts_at), data.get("ends_at", patrol.ends_at), now)
    if "capacity" in data and data["capacity"] < patrol.active_count:
        raise Conflict("capacity_below_signups", f"已有 {patrol.active_count} 人报名，名额不能少于已报名人数",
                       extra={"active": patrol.active_count})
    for field in EDITABLE:
        if field in data:
            setattr(patrol, field, data[field])
    if "meeting_point" in data:
        patrol.meeting_lat, patrol.meeting_lng = data["meeting_point"]["lat"], data["meeting_point"]["lng"]
    if "capacity" in data:
        patrol.capacity = data["capacity"]
        db.session.flush()
        signups.promote(patrol, patrol.capacity - patrol.active_count)
    patrol.updated_at = now
    db.session.commit()
    return patrol


def _reschedule(patrol: Patrol, starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    _check_times(starts_at, ends_at, now)
    if (starts_at, ends_at) == (patrol.starts_at, patrol.ends_at):
        return
    taken = db.session.execute(select(Signup.id).where(Signup.patrol_id == patrol.id,
                                                       Signup.status != "cancelled").limit(1)).first()
    if taken:
        raise Conflict("patrol_has_signups", "已有志愿者报名，不能再改时间；如需改期，请取消后重新发布")
    patrol.starts_at, patrol.ends_at = starts_at, ends_at


def cancel(*, actor, patrol_id: int, reason: str | None) -> Patrol:
    """Cancel a patrol nobody has checked in to; everyone signed up or waiting is told."""
    patrol = get(patrol_id, lock=True)
    ensure_manager(actor, patrol)
    if patrol.status != "scheduled":
        raise Conflict("patrol_not_open", "这次巡逻已取消或已结束")
    if db.session.execute(select(Attendance.id).where(Attendance.patrol_id == patrol.id).limit(1)).first():
        raise Conflict("patrol_has_attendance", "已有志愿者签到，不能取消这次巡逻")
    now = clock.utcnow()
    user_ids = db.session.execute(select(Signup.user_id).where(
        Signup.patrol_id == patrol.id, Signup.status != "cancelled")).scalars().all()
    db.session.execute(Signup.__table__.update().where(Signup.patrol_id == patrol.id, Signup.status != "cancelled")
                       .values(status="cancelled", updated_at=now))
    patrol.status, patrol.active_count, patrol.cancelled_at, patrol.updated_at = "cancelled", 0, now, now
    patrol.cancel_reason = reason
    when = clock.to_shanghai(patrol.starts_at).strftime("%m月%d日 %H:%M")
    notifications.send(user_ids, kind="patrol_cancelled", patrol_id=patrol.id, title="巡逻已取消",
                       body=f"您报名的“{patrol.title}”（{when}）已取消" + (f"：{reason}" if reason else "。"))
    subscriptions.enqueue(user_ids, kind="patrol_cancelled", page=f"pages/patrol/detail?id={patrol.id}",
                          data=patrol_message(patrol, reason or "巡逻已取消"))
    db.session.commit()
    return patrol


def patrol_message(patrol: Patrol, note: str) -> dict[str, str]:
    """A patrol's subscribe-message fields: thing1 title, time2 start (Shanghai), thing3 note."""
    return {"thing1": subscriptions.thing(patrol.title),
            "time2": clock.to_shanghai(patrol.starts_at).strftime("%Y年%m月%d日 %H:%M"),
            "thing3": subscriptions.thing(note)}


def listing(*, group: int | None, area: str | None, start: datetime | None, end: datetime | None,
            open_only: bool, cursor: str | None, limit: int) -> dict:
    """Patrols by group, area (inside), time and openness, in start order, keyset-paginated."""
    query = select(Patrol)
    if group is not None:
        query = query.where(Patrol.group_id == group)
    if area:
        query = query.where(area_service.in_subtree(Patrol.area_code, area_service.get(area).code))
    if start:
        query = query.where(Patrol.ends_at > start)
    if end:
        query = query.where(Patrol.starts_at < end)
    if open_only:
        query = query.where(Patrol.status == "scheduled", Patrol.ends_at > clock.utcnow())
    result = time_page(query, Patrol.starts_at, Patrol.id, cursor=cursor, limit=limit)
    result["items"] = views(result["items"])
    return result


def views(patrols: list[Patrol]) -> list[View]:
    """Patrols with their areas' names (one query)."""
    names = area_service.names({p.area_code for p in patrols})
    return [View(p, area_name=names.get(p.area_code)) for p in patrols]


def detail(*, user, patrol_id: int) -> View:
    """One patrol, with the caller's own sign-up (status and place in line) when they have one."""
    from app.patrols import signups

    patrol = get(patrol_id)
    v = volunteer_service.volunteer_of(user)
    mine = signups.own(patrol.id, v.id) if v is not None else None
    waiting = db.session.execute(select(func.count()).select_from(Signup).where(
        Signup.patrol_id == patrol.id, Signup.status == "waitlisted")).scalar()
    shown = signups.view(mine) if mine is not None and mine.status != "cancelled" else None
    return View(views([patrol])[0], waitlisted=waiting, my_signup=shown)
