"""Area look-ups. Other domains ask here whether a code is inside an area, and for subtree filters."""
from sqlalchemy import and_, func, or_, select

from app.areas.models import CODE_LENGTH, LEVELS, Area
from app.common.pagination import decode_cursor, key_code, page
from app.common.views import View
from app.errors import NotFound, ValidationFailed
from app.extensions import db

_LEVEL_BY_LENGTH = {v: k for k, v in CODE_LENGTH.items()}


def level_of(code: str) -> str | None:
    """The level a code's length implies (None for a malformed code)."""
    return _LEVEL_BY_LENGTH.get(len(code)) if code.isdigit() else None


def is_within(code: str, ancestor: str) -> bool:
    """Whether area `code` is `ancestor` or lies below it (codes nest by prefix)."""
    return code.startswith(ancestor)


def in_subtree(column, area_code: str):
    """SQL condition: column holds area_code or a code below it, as an index range scan."""
    return and_(column >= area_code, column < area_code + "~")


def child_level(area_code: str) -> str | None:
    """The level just below an area's level."""
    level = level_of(area_code)
    return LEVELS[LEVELS.index(level) + 1] if level and level != "grid" else None


def child_key(column, level: str):
    """SQL expression: the code of column's ancestor at `level` (for counts per child)."""
    return func.substr(column, 1, CODE_LENGTH[level])


def get(code: str) -> Area:
    """An area by code, or NotFound(area_not_found)."""
    area = db.session.get(Area, code) if level_of(code or "") else None
    if area is None:
        raise NotFound("area_not_found", "区域不存在，请检查区域代码")
    return area


def get_at_level(code: str, *levels: str) -> Area:
    """An area that must be at one of the given levels (e.g. a volunteer's grid)."""
    area = get(code)
    if area.level not in levels:
        names = {"city": "市", "district": "区", "street": "街道/镇", "community": "社区/村", "grid": "网格"}
        raise ValidationFailed("area_level_invalid", f"区域应为{'或'.join(names[lv] for lv in levels)}级",
                               errors={"json": {"area": ["区域级别不符"]}})
    return area


def ancestors(area: Area) -> list[Area]:
    """The area's ancestors, city first (one query: ancestor codes are prefixes of the code)."""
    codes = [area.code[:n] for n in sorted(CODE_LENGTH.values()) if n < len(area.code)]
    rows = db.session.execute(select(Area).where(Area.code.in_(codes))).scalars().all()
    return sorted(rows, key=lambda a: len(a.code))


def detail(code: str) -> View:
    """An area by code with its `ancestors`, city first, or NotFound(area_not_found)."""
    area = get(code)
    return View(area, ancestors=ancestors(area))


def names(codes: set[str]) -> dict[str, str]:
    """{code: name} for a set of codes, in one query."""
    if not codes:
        return {}
    return dict(db.session.execute(select(Area.code, Area.name).where(Area.code.in_(codes))).all())


def list_areas(*, parent: str | None, level: str | None, q: str | None, cursor: str | None, limit: int) -> dict:
    """Areas filtered by parent, level and name, in code order, keyset-paginated."""
    stmt = select(Area)
    if parent:
        get(parent)
        stmt = stmt.where(Area.parent_code == parent)
    if level:
        stmt = stmt.where(Area.level == level)
    if not (parent or level or q):
        stmt = stmt.where(Area.level.in_(("city", "district")))
    if q:
        stmt = stmt.where(or_(Area.name.contains(q, autoescape=True), Area.code.startswith(q, autoescape=True)))
    after = decode_cursor(cursor, key_code)
    if after:
        stmt = stmt.where(Area.code > after[0])
    rows = db.session.execute(stmt.order_by(Area.code).limit(limit + 1)).scalars().all()
    return page(rows, limit, lambda a: [a.code])


def within(area_code: str, level: str) -> list[tuple[str, str]]:
    """(code, name) of every area at `level` inside area_code, in code order (one index range scan)."""
    return db.session.execute(select(Area.code, Area.name).where(in_subtree(Area.code, area_code), Area.level == level)
                              .order_by(Area.code)).all()
