"""街坊群: organisers create locality, trade and interest groups inside their area; volunteers find them."""
from dataclasses import dataclass

from sqlalchemy import func, or_, select, tuple_

from app.areas import service as area_service
from app.common.pagination import decode_cursor, key_code, key_id, page
from app.common.time import utcnow
from app.common.views import View
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.volunteers.models import Group, GroupMember, VolunteerCount
from app.volunteers.service import my_volunteer, volunteer_of
from app.volunteers.taxonomy import Catalogue

STAFF = ("organiser", "admin")


@dataclass(frozen=True)
class Standing:
    """A place in a group that has no membership row: a resident's in their community's group."""

    status: str = "active"
    role: str = "member"


RESIDENT = Standing()


def ensure_area(actor, area_code: str) -> None:
    """Forbidden(area_forbidden) unless the actor is an organiser or admin over the area."""
    if not actor.acts_on(area_code, *STAFF):
        raise Forbidden("area_forbidden", "该区域不在您的管辖范围内")


def get_group(group_id: int, *, lock: bool = False) -> Group:
    """A group by id, or NotFound(group_not_found)."""
    query = select(Group).where(Group.id == group_id)
    group = db.session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if group is None:
        raise NotFound("group_not_found", "街坊群不存在")
    return group


def memberships(groups: list[Group], viewer) -> dict[int, GroupMember | Standing | None]:
    """The viewer's place in each group (its `status`: active|pending, `role`: member|leader), or
    None (not a member). A community group's members are the volunteers living there; its leaders
    have rows like any group's."""
    v = volunteer_of(viewer)
    if v is None:
        return {g.id: None for g in groups}
    rows = {row.group_id: row for row in db.session.execute(select(GroupMember).where(
        GroupMember.volunteer_id == v.id, GroupMember.group_id.in_([g.id for g in groups]))).scalars()}
    lives = {g.id: g.auto and bool(v.grid_code) and v.grid_code.startswith(g.area_code) for g in groups}
    return {g.id: rows.get(g.id) or (RESIDENT if lives[g.id] else None) for g in groups}


def views(groups: list[Group], catalogue: Catalogue | None = None, viewer=None) -> list[View]:
    """Groups with their area's name and their tags as codes; an automatic group's size is its
    community's volunteer count. With a viewer, each has the viewer's `my_membership`."""
    mine = memberships(groups, viewer) if viewer is not None else {}
    catalogue = catalogue or Catalogue()
    autos = [g.auto_area for g in groups if g.auto_area]
    sizes = dict(db.session.execute(select(VolunteerCount.area_code, VolunteerCount.n).where(
        VolunteerCount.dim == "total", VolunteerCount.key == "", VolunteerCount.area_code.in_(autos))).all()) \
        if autos else {}
    names = area_service.names({g.area_code for g in groups})
    return [View(g, area_name=names.get(g.area_code),
                 trade=catalogue.trade_by_id[g.trade_id].code if g.trade_id else None,
                 interest=catalogue.interest_by_id[g.interest_id].code if g.interest_id else None,
                 member_count=sizes.get(g.auto_area, 0) if g.auto else g.member_count,
                 **({"my_membership": mine[g.id]} if viewer is not None else {}))
            for g in groups]


def _check_kind(data: dict, catalogue: Catalogue, area) -> dict:
    kind = data["kind"]
    wrong = {"trade": "interest", "interest": "trade", "locality": None}[kind]
    if (kind != "locality" and not data.get(kind)) or (wrong and data.get(wrong)) or \
            (kind == "locality" and (data.get("trade") or data.get("interest"))):
        raise ValidationFailed("group_fields_invalid", "行业群须指定行业，兴趣群须指定兴趣，地缘群不指定行业和兴趣",
                               errors={"json": {kind: ["与群类型不符"]}})
    if kind == "locality" and area.level not in ("community", "grid"):
        raise ValidationFailed("group_area_invalid", "地缘群的范围应为社区或网格（街道以上已有社区街坊群）",
                               errors={"json": {"area": ["应为社区或网格"]}})
    return {"trade_id": catalogue.get("trade", data["trade"]).id if kind == "trade" else None,
            "interest_id": catalogue.get("interest", data["interest"]).id if kind == "interest" else None}


def _check_name_free(area_code: str, name: str, except_id: int | None = None) -> None:
    taken = db.session.execute(select(Group.id).where(Group.area_code == area_code, Group.name == name,
                                                      Group.id != (except_id or 0))).first()
    if taken:
        raise Conflict("group_name_taken", "本区域已有同名的街坊群，请换一个名称")


def create(*, actor, data: dict) -> Group:
    """An organiser or admin creates a group inside their area."""
    area = area_service.get(data["area"])
    ensure_area(actor, area.code)
    columns = _check_kind(data, Catalogue(), area)
    _check_name_free(area.code, data["name"])
    now = utcnow()
    group = Group(name=data["name"], kind=data["kind"], area_code=area.code, join_policy=data["join_policy"],
                  description=data.get("description", ""), created_by=actor.id, created_at=now, updated_at=now,
                  member_count=0, **columns)
    db.session.add(group)
    db.session.commit()
    return group


def update(*, actor, group_id: int, data: dict) -> Group:
    """Rename a group, change its description or join policy (organisers and admins of its area)."""
    group = get_group(group_id)
    ensure_area(actor, group.area_code)
    if "name" in data:
        _check_name_free(group.area_code, data["name"], except_id=group.id)
    if group.auto and data.get("join_policy", "open") != "open":
        raise Conflict("group_automatic", "社区街坊群按居住地自动加入，不能改为审批加入")
    for field in ("name", "description", "join_policy"):
        if field in data:
            setattr(group, field, data[field])
    group.updated_at = utcnow()
    db.session.commit()
    return group


def listing(*, kind=None, area=None, trade=None, interest=None, q=None, cursor=None, limit=20, viewer=None) -> dict:
    """Groups filtered by kind, area (inside), trade, interest and name, in area order, keyset-paginated."""
    catalogue, query = Catalogue(), select(Group)
    if kind:
        query = query.where(Group.kind == kind)
    if area:
        query = query.where(area_service.in_subtree(Group.area_code, area_service.get(area).code))
    if trade:
        query = query.where(Group.trade_id == catalogue.get("trade", trade, "query").id)
    if interest:
        query = query.where(Group.interest_id == catalogue.get("interest", interest, "query").id)
    if q:
        query = query.where(Group.name.contains(q, autoescape=True))
    after = decode_cursor(cursor, key_code, key_id)
    if after:
        query = query.where(tuple_(Group.area_code, Group.id) > tuple(after))
    rows = db.session.execute(query.order_by(Group.area_code, Group.id).limit(limit + 1)).scalars().all()
    result = page(rows, limit, lambda g: [g.area_code, g.id])
    result["items"] = views(result["items"], catalogue, viewer)
    return result


def awaiting(*, actor, area: str | None = None, cursor: str | None = None, limit: int = 20) -> dict:
    """Groups inside an area the actor organises (default: their widest) with join requests awaiting approval,
    each with how many, in area order, keyset-paginated."""
    code = area_service.get(area).code if area else min(actor.areas_for(*STAFF), key=lambda c: (len(c), c))
    ensure_area(actor, code)
    waiting = select(GroupMember.group_id, func.count().label("n")).where(GroupMember.status == "pending") \
        .group_by(GroupMember.group_id).subquery()
    query = select(Group, waiting.c.n).join(waiting, waiting.c.group_id == Group.id) \
        .where(area_service.in_subtree(Group.area_code, code))
    after = decode_cursor(cursor, key_code, key_id)
    if after:
        query = query.where(tuple_(Group.area_code, Group.id) > tuple(after))
    rows = db.session.execute(query.order_by(Group.area_code, Group.id).limit(limit + 1)).all()
    result = page(rows, limit, lambda r: [r[0].area_code, r[0].id])
    shown = views([g for g, _ in result["items"]])
    for view, (_, n) in zip(shown, result["items"]):
        view.pending = n
    result["items"] = shown
    return result


def suggestions(*, user, limit: int = 20) -> list[View]:
    """Trade and interest groups near the volunteer that match them: same street first, then district, then city."""
    v = my_volunteer(user)
    catalogue = Catalogue()
    interest_ids = [i.id for i in catalogue.interests if v.interest_mask >> (i.id - 1) & 1]
    district, street = v.grid_code[:6], v.grid_code[:9]
    joined = select(GroupMember.group_id).where(GroupMember.volunteer_id == v.id)
    rows = db.session.execute(select(Group).where(
        or_(Group.trade_id == v.trade_id, Group.interest_id.in_(interest_ids)),
        or_(area_service.in_subtree(Group.area_code, district), Group.area_code == v.grid_code[:4]),
        Group.id.not_in(joined))).scalars().all()

    def rank(g: Group):
        near = 0 if g.area_code.startswith(street) else 1 if g.area_code.startswith(district) else 2
        return near, g.kind != "trade", -g.member_count, g.id  # nearest first; 业缘 before 趣缘; bigger first

    ranked = sorted(rows, key=rank)[:limit]
    reasons = {"trade": "与您的行业相同", "interest": "与您的兴趣相同"}
    return [View(view, distance=("street", "district", "city")[rank(g)[0]], reason=reasons[g.kind])
            for g, view in zip(ranked, views(ranked, catalogue))]
