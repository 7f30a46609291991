"""排行榜: the top volunteers by points in an area (everyone living there, all their points) or a group (points
earned on the group's patrols) for this week, this month or all time, masked, with the caller's own rank. Every
board is one range of a summary index, already in points order, and a rank is one count over the same range:
both stay fast at 1.31 million volunteers."""
from sqlalchemy import func, select

from app.areas import service as area_service
from app.errors import ValidationFailed
from app.extensions import db
from app.patrols import points
from app.patrols.models import GroupPointsSummary, PointsSummary
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
    if scope == "group":
        group = _group(scope_id)
        model, code, name = GroupPointsSummary, str(group.id), group.name
        condition = GroupPointsSummary.group_id == group.id
        own = db.session.get(GroupPointsSummary, (key, group.id, v.id)) if v is not None else None
        inside = own is not None or (v is not None and membership.is_member(group.id, v.id))
    else:
        model = PointsSummary
        code, name, inside, condition = _area_scope(scope, scope_id, v)
        own = db.session.get(PointsSummary, (key, v.id)) if inside else None
    mine = own.points if own is not None else 0
    top, ahead = _ranked(model, (model.period == key, condition), mine, limit)
    names = volunteer_service.masked_names(r.volunteer_id for r in top)
    # Kept as dicts for speed: GET /leaderboards is a bench hot path.
    items, rank = [], 0
    for i, row in enumerate(top):
        rank = rank if i and row.points == top[i - 1].points else i + 1
        items.append({"rank": rank, "name": names.get(row.volunteer_id), "points": row.points,
                      "hours": row.hours_tenths / 10, "is_me": v is not None and row.volunteer_id == v.id})
    me = {"rank": ahead + 1 if mine > 0 else None, "points": mine,
          "hours": (own.hours_tenths if own is not None else 0) / 10} if inside else None
    return {"scope": scope, "id": code, "name": name, "period": period, "period_key": _label(key),
            "items": items, "me": me}


def _ranked(model, in_board: tuple, mine: int, limit: int) -> tuple[list, int]:
    """The top rows, read backwards off the board's index (it stops after `limit`), and how many are ahead of
    `mine` (a count over the same index range)."""
    top = db.session.execute(select(model.volunteer_id, model.points, model.hours_tenths)
                             .where(*in_board, model.points > 0)
                             .order_by(model.points.desc(), model.volunteer_id.desc()).limit(limit)).all()
    ahead = db.session.execute(select(func.count()).select_from(model).where(*in_board, model.points > mine)) \
        .scalar() if mine > 0 else 0
    return top, ahead


def _label(key: str) -> str:
    """all, 2026-W48, 2026-11."""
    if key.startswith("w"):
        return f"{key[1:5]}-W{key[5:]}"
    if key.startswith("m"):
        return f"{key[1:5]}-{key[5:]}"
    return key
