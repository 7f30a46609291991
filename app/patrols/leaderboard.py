"""排行榜: the top volunteers by points in a group or an area for this week, this month or all time, masked,
with the caller's own rank. An area board is one range of a points_summaries index, already in points order, and
a rank is one count over the same range: both stay fast at 1.31 million volunteers. A group board (other than a
community's own) costs one primary-key probe per member: it grows with the group, not with the city."""
from sqlalchemy import func, select

from app.areas import service as area_service
from app.errors import ValidationFailed
from app.extensions import db
from app.patrols import people, points
from app.patrols.models import PointsSummary
from app.volunteers import groups as group_service
from app.volunteers import membership
from app.volunteers import service as volunteer_service

SCOPES = ("group", "grid", "community", "street", "district")
PERIODS = ("week", "month", "all")
_PERIOD_INDEX = {"all": 0, "week": 1, "month": 2}


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"leaderboard_{field}_invalid", message, errors={"query": {field: [message]}})


def _area_scope(scope: str, code: str | None, v) -> tuple:
    """(code, name, whether the caller lives there, condition) of an area board; default: the caller's own area."""
    code = code or (v.grid_code[:points.LEVELS[scope]] if v is not None and v.grid_code else None)
    if not code:
        raise _invalid("id", "请指定要查看的区域代码")
    area = area_service.get(code)
    if area.level != scope:
        raise _invalid("id", "区域代码与排行范围的级别不符")
    inside = v is not None and bool(v.grid_code) and v.grid_code.startswith(area.code)
    return area.code, area.name, inside, getattr(PointsSummary, f"{scope}_code") == area.code


def _group(group_id: str | None):
    if not group_id or not group_id.isdigit() or int(group_id) >= 2**63:
        raise _invalid("id", "请指定要查看的街坊群")
    return group_service.get_group(int(group_id))


def board(*, user, scope: str, scope_id: str | None, period: str, limit: int) -> dict:
    """The board of one scope and period: the top `limit` (ties share a rank) and the caller's own standing."""
    key = points.period_keys(points.today())[_PERIOD_INDEX[period]]
    v = volunteer_service.volunteer_of(user)
    members = None
    if scope == "group":
        group = _group(scope_id)
        code, name = str(group.id), group.name
        inside = v is not None and membership.is_member(group.id, v.id)
        if group.auto:  # a community's own group: its community board
            condition = PointsSummary.community_code == group.auto_area
        else:
            members = membership.member_ids(group).subquery()
    else:
        code, name, inside, condition = _area_scope(scope, scope_id, v)
    own = db.session.get(PointsSummary, (key, v.id)) if inside else None
    mine = own.points if own is not None else 0
    if members is None:
        top, ahead = _area_board(key, condition, mine if inside else 0, limit)
    else:
        top, ahead = _members_board(key, members, mine, limit)
    names = people.masked_names(r.volunteer_id for r in top)
    items, rank = [], 0
    for i, row in enumerate(top):
        rank = rank if i and row.points == top[i - 1].points else i + 1
        items.append({"rank": rank, "name": names.get(row.volunteer_id), "points": row.points,
                      "hours": row.hours_tenths / 10, "is_me": v is not None and row.volunteer_id == v.id})
    me = {"rank": ahead + 1 if mine > 0 else None, "points": mine,
          "hours": (own.hours_tenths if own is not None else 0) / 10} if inside else None
    return {"scope": scope, "id": code, "name": name, "period": period, "period_key": _label(key),
            "items": items, "me": me}


def _ordered(query, limit: int):
    return query.where(PointsSummary.points > 0).order_by(PointsSummary.points.desc(),
                                                          PointsSummary.volunteer_id.desc()).limit(limit)


def _area_board(key: str, condition, mine: int, limit: int) -> tuple[list, int]:
    """Top rows read backwards off the area's index (stops after `limit`); the rank is a count over the index."""
    in_board = (PointsSummary.period == key, condition)
    top = db.session.execute(_ordered(select(PointsSummary.volunteer_id, PointsSummary.points,
                                             PointsSummary.hours_tenths).where(*in_board), limit)).all()
    ahead = db.session.execute(select(func.count()).select_from(PointsSummary).where(
        *in_board, PointsSummary.points > mine)).scalar() if mine > 0 else 0
    return top, ahead


def _members_board(key: str, members, mine: int, limit: int) -> tuple[list, int]:
    """A group's board in one pass over its members (one primary-key probe each), the rank counted alongside."""
    ahead = func.count().filter(PointsSummary.points > mine).over().label("ahead")
    top = db.session.execute(_ordered(
        select(PointsSummary.volunteer_id, PointsSummary.points, PointsSummary.hours_tenths, ahead)
        .join(members, members.c.volunteer_id == PointsSummary.volunteer_id).where(PointsSummary.period == key),
        limit)).all()
    return top, top[0].ahead if top else 0


def _label(key: str) -> str:
    """all, 2026-W48, 2026-11."""
    if key.startswith("w"):
        return f"{key[1:5]}-W{key[5:]}"
    if key.startswith("m"):
        return f"{key[1:5]}-{key[5:]}"
    return key
