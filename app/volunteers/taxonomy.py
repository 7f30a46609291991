"""Trades (业缘), interests (趣缘) and the six service roles. Trades and interests are seeded by migration 0005 and
extended by admins; everything is looked up by code or Chinese name."""
from dataclasses import dataclass

from sqlalchemy import func, select

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.volunteers.models import MAX_INTERESTS, Interest, Trade

# 信息员, 巡防员, 调解员, 宣传员, 支援员, 引导员: bit n of Volunteer.service_roles is SERVICE_ROLES[n].
SERVICE_ROLES = [("informant", "信息员"), ("patroller", "巡防员"), ("mediator", "调解员"), ("publicity", "宣传员"),
                 ("support", "支援员"), ("guide", "引导员")]
ROLE_CODES = [code for code, _ in SERVICE_ROLES]
ROLE_NAMES = dict(SERVICE_ROLES)
_MODELS = {"trade": Trade, "interest": Interest}


@dataclass(frozen=True)
class Entry:
    """One taxonomy entry as the rest of the domain sees it."""

    id: int
    code: str
    name: str


class Catalogue:
    """Both taxonomies, loaded once (two small queries) and looked up by id, code or Chinese name."""

    def __init__(self):
        self.trades = [Entry(t.id, t.code, t.name) for t in db.session.execute(
            select(Trade).order_by(Trade.id)).scalars()]
        self.interests = [Entry(i.id, i.code, i.name) for i in db.session.execute(
            select(Interest).order_by(Interest.id)).scalars()]
        self.trade_by_id = {t.id: t for t in self.trades}
        self.interest_by_id = {i.id: i for i in self.interests}
        self._lookup = {"trade": _index(self.trades), "interest": _index(self.interests),
                        "service_role": _index([Entry(n, c, name) for n, (c, name) in enumerate(SERVICE_ROLES)])}

    def find(self, kind: str, text: str) -> Entry | None:
        """An entry by code or Chinese name (None when unknown)."""
        return self._lookup[kind].get((text or "").strip().lower())

    def get(self, kind: str, text: str, location: str = "json") -> Entry:
        """An entry by code or name, or ValidationFailed naming the field."""
        entry = self.find(kind, text)
        if entry is None:
            label = {"trade": "行业", "interest": "兴趣", "service_role": "服务岗位"}[kind]
            raise ValidationFailed(f"{kind}_unknown", f"未知的{label}：{text}，请从列表中选择",
                                   errors={location: {kind: [f"未知的{label}"]}})
        return entry

    def interest_codes(self, mask: int) -> list[str]:
        """The interest codes set in a mask."""
        return [i.code for i in self.interests if mask >> (i.id - 1) & 1]


def _index(entries: list[Entry]) -> dict[str, Entry]:
    return {**{e.code.lower(): e for e in entries}, **{e.name.lower(): e for e in entries}}


def interest_mask(ids) -> int:
    """The bit mask of a set of interest ids."""
    mask = 0
    for i in ids:
        mask |= 1 << (i - 1)
    return mask


def role_id_mask(ids) -> int:
    """The bit mask of a set of service-role ids (role id n is bit n)."""
    mask = 0
    for n in ids:
        mask |= 1 << n
    return mask


def role_mask(codes) -> int:
    """The bit mask of a set of service-role codes."""
    mask = 0
    for code in codes:
        mask |= 1 << ROLE_CODES.index(code)
    return mask


def role_codes(mask: int) -> list[str]:
    """The service-role codes set in a mask."""
    return [code for n, code in enumerate(ROLE_CODES) if mask >> n & 1]


def listing(kind: str) -> list:
    """Every trade or interest, in id order."""
    model = _MODELS[kind]
    return db.session.execute(select(model).order_by(model.id)).scalars().all()


def create(kind: str, *, code: str, name: str):
    """Add a trade or interest (admins); codes and names are unique; at most 63 interests."""
    model = _MODELS[kind]
    taken = db.session.execute(select(model.id).where((func.lower(model.code) == code.lower())
                                                      | (model.name == name))).first()
    if taken:
        raise Conflict(f"{kind}_exists", "该代码或名称已存在")
    next_id = (db.session.execute(select(func.max(model.id))).scalar() or 0) + 1
    if model is Interest and next_id > MAX_INTERESTS:
        raise Conflict("interest_limit_reached", f"兴趣类别最多 {MAX_INTERESTS} 个，请复用已有类别")
    entry = model(id=next_id, code=code, name=name)
    db.session.add(entry)
    db.session.commit()  # a racing admin taking the same id or code gets 409 from the unique constraint
    return entry
