"""排行榜: the top volunteers by points in a group or an area for this week, this month or all time, masked,
with the caller's own rank. Each board is one range of a points_summaries index, already in points order, and
a rank is one count over the same range: both stay fast at 1.31 million volunteers."""
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
    """(condition, name, whether the caller lives there) for an area board; default: the caller's own area."""
    code = code or (v.grid_code[:points.LEVELS[scope]] if v is not None and v.grid_code else None)
    if not code:
        raise _invalid("id", "请指定要查看的区域代码")
    area = area_service.get(code)
    if area.level != scope:
        raise _invalid("id", "区域代码与排行范围的级别不符")
    mine = v is not None and bool(v.grid_code) and v.grid_code.startswith(area.code)
    return getattr(PointsSummary, f"{scope}_code") == area.code, area.code, area.name, mine


def _group_scope(group_id: str | None, v) -> tuple:
    """(condition, name, whether the caller is a member) for a group board; a community group is its community."""
    if not group_id or not group_id.isdigit() or int(group_id) >= 2**63:
        raise _invalid("id", "请指定要查看的街坊群")
    group = group_service.get_group(int(group_id))
    if group.auto:
        condition = PointsSummary.community_code == group.auto_area
    else:
        condition = PointsSummary.volunteer_id.in_(membership.member_ids(group))
    mine = v is not None and membership.is_member(group.id, v.id)
    return condition, str(group.id), group.name, mine


def board(*, user, scope: str, scope_id: str | None, period: str, limit: int) -> dict:
    """The board of one scope and period: the top `limit` (ties share a rank) and the caller's own standing."""
    key = points.period_keys(points.today())[_PERIOD_INDEX[period]]
    v = volunteer_service.volunteer_of(user)
    condition, code, name, mine = _group_scope(scope_id, v) if scope == "group" else _area_scope(scope, scope_id, v)
    in_board = (PointsSummary.period == key, condition)
    top = db.session.execute(select(PointsSummary.volunteer_id, PointsSummary.points, PointsSummary.hours_tenths)
                             .where(*in_board, PointsSummary.points > 0)
                             .order_by(PointsSummary.points.desc(), PointsSummary.volunteer_id.desc())
                             .limit(limit)).all()
    names = people.masked_names(r.volunteer_id for r in top)
    items, rank = [], 0
    for i, row in enumerate(top):
        rank = rank if i and row.points == top[i - 1].points else i + 1
        items.append({"rank": rank, "name": names.get(row.volunteer_id), "points": row.points,
                      "hours": row.hours_tenths / 10, "is_me": v is not None and row.volunteer_id == v.id})
    return {"scope": scope, "id": code, "name": name, "period": period, "period_key": _label(key),
            "items": items, "me": _standing(v, key, in_board) if mine else None}


def _standing(v, key: str, in_board: tuple) -> dict:
    own = db.session.get(PointsSummary, (key, v.id))
    mine = own.points if own is not None else 0
    rank = None
    if mine > 0:
        rank = 1 + db.session.execute(select(func.count()).select_from(PointsSummary)
                                      .where(*in_board, PointsSummary.points > mine)).scalar()
    return {"rank": rank, "points": mine, "hours": (own.hours_tenths if own is not None else 0) / 10}


def _label(key: str) -> str:
    """all, 2026-W48, 2026-11."""
    if key.startswith("w"):
        return f"{key[1:5]}-W{key[5:]}"
    if key.startswith("m"):
        return f"{key[1:5]}-{key[5:]}"
    return key
