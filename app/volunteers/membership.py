"""Joining, approving, leading and leaving groups, member lists, and the checks patrols ask for.

An automatic (community) group's members are the volunteers living in that community: no rows, except for its
leaders. Every other membership is a row; member_count moves atomically with each active row."""
from collections import Counter

from sqlalchemy import and_, delete, select, tuple_, update

from app.areas import service as area_service
from app.auth import service as auth_service
from app.common.pagination import decode_cursor, key_code, key_id, page
from app.common.time import utcnow
from app.common.upsert import insert
from app.common.views import View
from app.errors import Conflict, Forbidden, NotFound
from app.extensions import db
from app.volunteers import service
from app.volunteers.groups import RESIDENT, STAFF, get_group
from app.volunteers.locality import adjust_member_counts
from app.volunteers.models import Group, GroupMember, Volunteer


def _row(group_id: int, volunteer_id: int, *, lock: bool = False) -> GroupMember | None:
    query = select(GroupMember).where(GroupMember.group_id == group_id, GroupMember.volunteer_id == volunteer_id)
    return db.session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def lives_in(group: Group, v: Volunteer) -> bool:
    """Whether a volunteer lives inside a group's area."""
    return bool(v.grid_code) and v.grid_code.startswith(group.area_code)


def is_member(group_id: int, volunteer_id: int) -> bool:
    """Whether a volunteer is an active member of a group (a community group: whether they live there)."""
    group = get_group(group_id)
    if group.auto:
        v = db.session.get(Volunteer, volunteer_id)
        return v is not None and v.left_at is None and lives_in(group, v)
    row = _row(group_id, volunteer_id)
    return row is not None and row.status == "active"


def is_leader(group_id: int, volunteer_id: int) -> bool:
    """Whether a volunteer leads a group."""
    row = _row(group_id, volunteer_id)
    return row is not None and row.status == "active" and row.role == "leader"


def can_manage(user, group: Group) -> bool:
    """Organisers and admins over the group's area, and the group's leaders, manage it (and its patrols)."""
    if user.acts_on(group.area_code, *STAFF):
        return True
    v = service.volunteer_of(user)
    return v is not None and is_leader(group.id, v.id)


def ensure_manager(user, group: Group, *, staff_only: bool = False) -> None:
    if user.acts_on(group.area_code, *STAFF) or (not staff_only and can_manage(user, group)):
        return
    raise Forbidden("group_forbidden", "只有本群群主（负责人）或辖区组织者可以执行此操作")


def member_ids(group: Group):
    """A SELECT of the volunteer ids of a group's active members (for joins, e.g. leaderboards)."""
    if group.auto:
        return select(Volunteer.id).where(area_service.in_subtree(Volunteer.grid_code, group.auto_area))
    return select(GroupMember.volunteer_id).where(GroupMember.group_id == group.id, GroupMember.status == "active")


def join(*, actor, group_id: int) -> tuple[View, bool]:
    """The caller joins (open: active, approval: pending); joining twice returns the membership that exists.
    Returns (membership, created). Managers invite others instead (`group_invites`)."""
    group = get_group(group_id)
    if group.auto:
        raise Conflict("group_automatic", "社区街坊群按居住网格自动加入，无需申请")
    # the volunteer row is share-locked: a concurrent move or departure waits, so the area check below holds
    v = service.my_volunteer(actor, lock="share")
    status = "active" if group.join_policy == "open" else "pending"
    created = add_member(group, v, status)
    db.session.commit()
    return membership_view(_row(group.id, v.id), v), created


def add_member(group: Group, v: Volunteer, status: str) -> bool:
    """Insert a membership (a locality group only for those living there); no commit. Returns whether created."""
    if group.kind == "locality" and not lives_in(group, v):
        raise Conflict("group_out_of_area", "该地缘群仅限在本区域居住的志愿者加入")
    now = utcnow()
    created = db.session.execute(insert(GroupMember.__table__).values(
        group_id=group.id, volunteer_id=v.id, status=status, role="member", created_at=now,
        decided_at=now if status == "active" else None).on_conflict_do_nothing()
        .execution_options(preserve_rowcount=True)).rowcount == 1
    if created and status == "active":
        adjust_member_counts(Counter({group.id: 1}))
    return created


def approve(group_id: int, volunteer_id: int) -> bool:
    done = db.session.execute(update(GroupMember).where(
        GroupMember.group_id == group_id, GroupMember.volunteer_id == volunteer_id, GroupMember.status == "pending")
        .values(status="active", decided_at=utcnow())).rowcount == 1
    if done:
        adjust_member_counts(Counter({group_id: 1}))
    return done


def decide(*, actor, group_id: int, volunteer_id: int, status: str | None,
           role: str | None) -> View:
    """Approve or reject a pending member (managers), make or unmake a leader (organisers and admins)."""
    group = get_group(group_id)
    ensure_manager(actor, group, staff_only=role is not None)
    v = service.get_volunteer(volunteer_id)
    if status:
        if group.auto:
            raise Conflict("group_automatic", "社区街坊群按居住网格自动加入，无需审批")
        result = _decide_status(group, v, status)
        if result is not None:
            db.session.commit()
            return result
    if role:
        _set_role(group, v, role)
    db.session.commit()
    return membership_view(_row(group.id, v.id), v)


def _decide_status(group: Group, v: Volunteer, status: str) -> View | None:
    row = _row(group.id, v.id, lock=True)
    if row is None:
        raise NotFound("membership_not_found", "该志愿者没有加入或申请加入本群")
    if status == "active":
        approve(group.id, v.id)
        return None
    if row.status != "pending":
        raise Conflict("membership_active", "该志愿者已是正式成员；如需移出，请使用移出操作")
    db.session.execute(delete(GroupMember).where(GroupMember.group_id == group.id, GroupMember.volunteer_id == v.id,
                                                 GroupMember.status == "pending"))
    return View(membership_view(row, v), status="rejected", role="member")


def _set_role(group: Group, v: Volunteer, role: str) -> None:
    if group.auto:
        if not lives_in(group, v):
            raise NotFound("membership_not_found", "该志愿者不住在本社区，不是本群成员")
        if role == "leader":
            db.session.execute(insert(GroupMember.__table__).values(
                group_id=group.id, volunteer_id=v.id, status="active", role="leader", created_at=utcnow(),
                decided_at=utcnow()).on_conflict_do_nothing())
        else:
            db.session.execute(delete(GroupMember).where(GroupMember.group_id == group.id,
                                                         GroupMember.volunteer_id == v.id))
        return
    done = db.session.execute(update(GroupMember).where(
        GroupMember.group_id == group.id, GroupMember.volunteer_id == v.id, GroupMember.status == "active")
        .values(role=role)).rowcount
    if not done:
        raise Conflict("membership_not_active", "只有正式成员可以设为或取消群负责人")


def remove(*, actor, group_id: int, volunteer_id: int) -> None:
    """A volunteer leaves, or a manager removes them (only organisers and admins remove a leader)."""
    group = get_group(group_id)
    if group.auto:
        raise Conflict("group_automatic", "社区街坊群按居住网格自动加入，搬到其他社区时自动转群")
    own = service.volunteer_of(actor)
    row = _row(group.id, volunteer_id, lock=True)
    if own is None or own.id != volunteer_id:
        ensure_manager(actor, group, staff_only=row is not None and row.role == "leader")
    if row is None:
        raise NotFound("membership_not_found", "该志愿者没有加入或申请加入本群")
    gone = db.session.execute(delete(GroupMember).where(GroupMember.group_id == group.id,
                                                        GroupMember.volunteer_id == volunteer_id)
                              .returning(GroupMember.status)).scalars().all()
    if gone == ["active"]:
        adjust_member_counts(Counter({group.id: 1}), sign=-1)
    db.session.commit()


def membership_view(row: GroupMember | None, v: Volunteer, phone: str | None = None) -> View:
    """One membership: the volunteer with their phone (in clear: the schema masks it), status, role
    and since when (a resident of a community group without a row: since they moved there)."""
    place = row or RESIDENT
    return View(v, phone=phone, status=place.status, role=place.role,
                joined_at=row.created_at if row else v.moved_at)


def members(*, actor, group_id: int, status: str | None = None, cursor: str | None = None, limit: int = 20) -> dict:
    """A group's members for its managers, masked, keyset-paginated."""
    group = get_group(group_id)
    ensure_manager(actor, group)
    if group.auto:
        return _auto_members(group, cursor, limit, status)
    query = select(GroupMember, Volunteer).join(Volunteer, Volunteer.id == GroupMember.volunteer_id) \
        .where(GroupMember.group_id == group.id)
    if status:
        query = query.where(GroupMember.status == status)
    after = decode_cursor(cursor, key_id)
    if after:
        query = query.where(GroupMember.volunteer_id > after[0])
    rows = db.session.execute(query.order_by(GroupMember.volunteer_id).limit(limit + 1)).all()
    result = page(rows, limit, lambda r: [r[1].id])
    phones = auth_service.phones_of(v.user_id for _, v in result["items"])
    result["items"] = [membership_view(m, v, phone=phones.get(v.user_id)) for m, v in result["items"]]
    return result


def _auto_members(group: Group, cursor: str | None, limit: int, status: str | None) -> dict:
    if status == "pending":
        return {"items": [], "next_cursor": None}
    query = select(Volunteer).where(area_service.in_subtree(Volunteer.grid_code, group.auto_area))
    after = decode_cursor(cursor, key_code, key_id)
    if after:
        query = query.where(tuple_(Volunteer.grid_code, Volunteer.id) > tuple(after))
    rows = db.session.execute(query.order_by(Volunteer.grid_code, Volunteer.id).limit(limit + 1)).scalars().all()
    result = page(rows, limit, lambda v: [v.grid_code, v.id])
    ids = [v.id for v in result["items"]]
    leaders = {m.volunteer_id: m for m in db.session.execute(select(GroupMember).where(
        and_(GroupMember.group_id == group.id, GroupMember.volunteer_id.in_(ids)))).scalars()} if ids else {}
    phones = auth_service.phones_of(v.user_id for v in result["items"])
    result["items"] = [membership_view(leaders.get(v.id), v, phone=phones.get(v.user_id)) for v in result["items"]]
    return result


def memberships_of(v: Volunteer) -> list[View]:
    """A volunteer's groups: their community's group first, then the ones they joined or asked to join."""
    rows = db.session.execute(select(GroupMember, Group).join(Group, Group.id == GroupMember.group_id)
                              .where(GroupMember.volunteer_id == v.id).order_by(Group.area_code, Group.id)).all()
    auto = db.session.execute(select(Group).where(Group.auto_area == v.grid_code[:12])).scalar_one_or_none()
    own = {g.id: m for m, g in rows}
    result = []
    if auto is not None:
        result.append(_mine(auto, own.get(auto.id)))
    return result + [_mine(g, m) for m, g in rows if g.id != getattr(auto, "id", None)]


def _mine(group: Group, row: GroupMember | None) -> View:
    place = row or RESIDENT
    return View(group, status=place.status, role=place.role)
