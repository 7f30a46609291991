"""报名: seats claimed by one atomic UPDATE, a waitlist in arrival order, promotion when a seat comes free.

Lock order everywhere: the volunteer row, then the patrol row, then sign-up rows, so that sign-ups, withdrawals,
cancellations and departures never deadlock. A seat is free only while nobody waits (promotion fills it in the
same transaction), so "no seat" and "join the line" are decided under the patrol's row lock."""
from sqlalchemy import func, select, update

from app.common import time as clock
from app.common.pagination import time_page
from app.common.views import View
from app.errors import Conflict, Forbidden, NotFound
from app.extensions import db
from app.patrols import notifications
from app.patrols import service as patrols
from app.patrols.models import Attendance, Patrol, Signup
from app.subscriptions import service as subscriptions
from app.volunteers import membership
from app.volunteers import service as volunteer_service

LIVE = ("active", "waitlisted")


def own(patrol_id: int, volunteer_id: int, *, lock: bool = False) -> Signup | None:
    """A volunteer's sign-up row for a patrol (any status)."""
    query = select(Signup).where(Signup.patrol_id == patrol_id, Signup.volunteer_id == volunteer_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.execute(query).scalar_one_or_none()


def place_in_line(signup: Signup) -> int | None:
    """1 for the first waitlisted person, and so on (None unless waitlisted)."""
    if signup.status != "waitlisted":
        return None
    ahead = db.session.execute(select(func.count()).select_from(Signup).where(
        Signup.patrol_id == signup.patrol_id, Signup.status == "waitlisted",
        Signup.position < signup.position)).scalar()
    return ahead + 1


def view(signup: Signup) -> View:
    """A sign-up as its volunteer sees it, with their place in line."""
    return View(signup, waitlist_position=place_in_line(signup))


def sign_up(*, user, patrol_id: int) -> tuple[Signup, bool]:
    """A member of the patrol's group signs up: a seat if one is free, else a place in line.
    Signing up again returns the sign-up that exists. Returns (sign-up, created)."""
    v = volunteer_service.my_volunteer(user, lock=True)  # serialises this volunteer's own sign-ups
    patrol = patrols.get(patrol_id)
    now = clock.utcnow()
    patrols.ensure_open(patrol, now)
    existing = own(patrol.id, v.id)
    if existing is not None and existing.status in LIVE:
        return existing, False
    if not membership.is_member(patrol.group_id, v.id):
        raise Forbidden("not_group_member", "只有本群成员可以报名，请先加入该街坊群")
    _ensure_free(v.id, patrol)
    status, position = _claim(patrol.id)
    signup = existing or Signup(patrol_id=patrol.id, volunteer_id=v.id)
    signup.user_id, signup.status, signup.position = user.id, status, position
    signup.created_at = signup.updated_at = now
    signup.starts_at, signup.ends_at = patrol.starts_at, patrol.ends_at
    db.session.add(signup)
    db.session.commit()
    return signup, True


def _ensure_free(volunteer_id: int, patrol: Patrol) -> None:
    clash = db.session.execute(select(Signup.patrol_id).where(
        Signup.volunteer_id == volunteer_id, Signup.starts_at > patrol.starts_at - patrols.MAX_LENGTH,
        Signup.starts_at < patrol.ends_at, Signup.ends_at > patrol.starts_at, Signup.status.in_(LIVE),
        Signup.patrol_id != patrol.id).limit(1)).scalar()
    if clash is not None:
        raise Conflict("schedule_conflict", "您在这个时段已报名了另一场巡逻，同一时间只能参加一场",
                       extra={"conflicting_patrol_id": str(clash)})


def _claim(patrol_id: int) -> tuple[str, int | None]:
    """("active", None) after taking a seat, or ("waitlisted", position); each decided by one atomic UPDATE."""
    seat = update(Patrol).where(Patrol.id == patrol_id, Patrol.status == "scheduled",
                                Patrol.active_count < Patrol.capacity).values(active_count=Patrol.active_count + 1)
    line = update(Patrol).where(Patrol.id == patrol_id, Patrol.status == "scheduled",
                                Patrol.active_count >= Patrol.capacity).values(waitlist_seq=Patrol.waitlist_seq + 1)
    while True:
        if db.session.execute(seat.returning(Patrol.active_count), execution_options=_NO_SYNC).first():
            return "active", None
        position = db.session.execute(line.returning(Patrol.waitlist_seq), execution_options=_NO_SYNC).scalar()
        if position is not None:
            return "waitlisted", position
        # Neither matched: the patrol was cancelled meanwhile, or a seat came free between the two statements.
        if db.session.execute(select(Patrol.status).where(Patrol.id == patrol_id)).scalar() != "scheduled":
            raise Conflict("patrol_not_open", "这次巡逻已取消或已结束")


_NO_SYNC = {"synchronize_session": False}


def withdraw(*, user, patrol_id: int) -> Signup:
    """The volunteer withdraws before the start; a freed seat goes to the first person waiting."""
    v = volunteer_service.my_volunteer(user, lock=True)
    patrol = patrols.get(patrol_id, lock=True)
    signup = own(patrol.id, v.id, lock=True)
    if signup is None or signup.status not in LIVE:
        raise NotFound("signup_not_found", "您没有报名这次巡逻")
    now = clock.utcnow()
    if patrol.starts_at <= now:
        raise Conflict("patrol_started", "巡逻已经开始，不能再取消报名；如有变故请联系本群负责人")
    if db.session.execute(select(Attendance.id).where(Attendance.patrol_id == patrol.id,
                                                      Attendance.volunteer_id == v.id)).first():
        raise Conflict("already_checked_in", "您已签到，不能再取消报名；如需离开请签退")
    _cancel(patrol, signup, now)
    db.session.commit()
    return signup


def _cancel(patrol: Patrol, signup: Signup, now) -> None:
    was = signup.status
    signup.status, signup.updated_at = "cancelled", now
    if was == "active":
        release(patrol, 1)


def drop_future(volunteer_id: int) -> int:
    """A departed volunteer's sign-ups to patrols not yet over end, their seats going to the people waiting;
    no commit."""
    now = clock.utcnow()
    patrol_ids = db.session.execute(select(Signup.patrol_id).where(
        Signup.volunteer_id == volunteer_id, Signup.starts_at > now - patrols.MAX_LENGTH, Signup.ends_at > now,
        Signup.status.in_(LIVE))
        .order_by(Signup.patrol_id)).scalars().all()
    for patrol_id in patrol_ids:
        patrol = patrols.get(patrol_id, lock=True)
        signup = own(patrol_id, volunteer_id, lock=True)
        if signup.status in LIVE:
            _cancel(patrol, signup, now)
    return len(patrol_ids)


def release(patrol: Patrol, seats: int) -> None:
    """Give up seats of a patrol whose row the caller has locked; the people waiting longest take them."""
    patrol.active_count -= seats
    db.session.flush()
    promote(patrol, seats)


def promote(patrol: Patrol, seats: int) -> int:
    """Move up to `seats` waitlisted people (first come, first served) into free seats and tell them; the
    caller holds the patrol's row lock. Returns how many moved."""
    if seats <= 0 or patrol.status != "scheduled":
        return 0
    chosen = db.session.execute(select(Signup).where(Signup.patrol_id == patrol.id, Signup.status == "waitlisted")
                                .order_by(Signup.position).limit(seats)
                                .with_for_update(skip_locked=True)).scalars().all()
    if not chosen:
        return 0
    now = clock.utcnow()
    for signup in chosen:
        signup.status, signup.updated_at = "active", now
    patrol.active_count += len(chosen)
    when = clock.to_shanghai(patrol.starts_at).strftime("%m月%d日 %H:%M")
    notifications.send([s.user_id for s in chosen], kind="waitlist_promoted", patrol_id=patrol.id,
                       title="候补成功",
                       body=f"您候补的“{patrol.title}”（{when}）有了空位，您已报名成功，请准时到场签到。")
    subscriptions.enqueue([s.user_id for s in chosen], kind="waitlist_promoted",
                          page=f"pages/patrol/detail?id={patrol.id}",
                          data=patrols.patrol_message(patrol, "候补成功，请准时到场签到"))
    db.session.flush()
    return len(chosen)


def roster(*, actor, patrol_id: int, status: str | None, cursor: str | None, limit: int) -> dict:
    """A patrol's sign-ups for its managers, masked, in sign-up order."""
    patrol = patrols.get(patrol_id)
    patrols.ensure_manager(actor, patrol)
    query = select(Signup).where(Signup.patrol_id == patrol.id)
    if status:
        query = query.where(Signup.status == status)
    result = time_page(query, Signup.created_at, Signup.id, cursor=cursor, limit=limit)
    names = volunteer_service.masked_names(s.volunteer_id for s in result["items"])
    result["items"] = [View(s, name=names.get(s.volunteer_id)) for s in result["items"]]
    return result


MINE_LIMIT = 100


def mine(*, user) -> list[View]:
    """The caller's seats and waitlist places: patrols not yet over first (soonest first), then past ones."""
    v = volunteer_service.volunteer_of(user)
    if v is None:
        return []
    now = clock.utcnow()
    rows = select(Signup, Patrol).join(Patrol, Patrol.id == Signup.patrol_id).where(
        Signup.volunteer_id == v.id, Signup.status != "cancelled")
    found = db.session.execute(rows.where(Patrol.ends_at >= now).order_by(Patrol.starts_at, Patrol.id)
                               .limit(MINE_LIMIT)).all()
    found += db.session.execute(rows.where(Patrol.ends_at < now).order_by(Patrol.starts_at.desc(), Patrol.id)
                                .limit(MINE_LIMIT - len(found))).all() if len(found) < MINE_LIMIT else []
    return [View(view(signup), upcoming=patrol.ends_at >= now, patrol=patrols.views([patrol])[0])
            for signup, patrol in found]
