"""Finding volunteers inside an area by trade, interest, service role, name or phone; the masked CSV export.

Both walk (grid_code, id) in index order with a keyset cursor, so page 1,000 costs what page 1 costs."""
import csv
import io
import re

from sqlalchemy import select, tuple_

from app.areas import service as area_service
from app.areas.models import LEVELS
from app.auth import service as auth_service
from app.common.masking import mask_phone
from app.common.pagination import decode_cursor, page
from app.common.time import to_shanghai
from app.errors import ValidationFailed
from app.extensions import db
from app.volunteers.models import Volunteer
from app.volunteers.service import masked_name, name_index, profile
from app.volunteers.taxonomy import ROLE_CODES, ROLE_NAMES, Catalogue, role_codes

_PHONE_LIKE = re.compile(r"^\+?[\d\s-]{7,20}$")
EXPORT_BATCH = 2000
EXPORT_COLUMNS = ["志愿者编号", "姓名", "手机号", "区", "街道", "社区", "网格", "网格代码", "行业", "兴趣", "服务岗位",
                  "注册时间"]


def _filtered(catalogue: Catalogue, *, area: str, trade=None, interest=None, service_role=None, q=None):
    query = select(Volunteer).where(area_service.in_subtree(Volunteer.grid_code, area_service.get(area).code))
    if trade:
        query = query.where(Volunteer.trade_id == catalogue.get("trade", trade, "query").id)
    if interest:
        bit = 1 << (catalogue.get("interest", interest, "query").id - 1)
        query = query.where(Volunteer.interest_mask.op("&")(bit) != 0)
    if service_role:
        bit = 1 << ROLE_CODES.index(catalogue.get("service_role", service_role, "query").code)
        query = query.where(Volunteer.service_roles.op("&")(bit) != 0)
    if q:
        query = query.where(_matches(q.strip()))
    return query


def _matches(q: str):
    """An exact phone number or an exact full name (names are stored encrypted: no partial match)."""
    if _PHONE_LIKE.match(q):
        try:
            user = auth_service.find_by_phone(q)
        except ValidationFailed:  # not a mainland mobile number: it matches nobody
            user = None
        return Volunteer.user_id == (user.id if user else -1)
    return Volunteer.name_index == name_index(q)


def search(*, area: str, trade=None, interest=None, service_role=None, q=None, cursor=None, limit=20) -> dict:
    """A page of masked volunteers inside an area, in (grid, id) order."""
    catalogue = Catalogue()
    query = _filtered(catalogue, area=area, trade=trade, interest=interest, service_role=service_role, q=q)
    after = decode_cursor(cursor, 2)
    if after:
        query = query.where(tuple_(Volunteer.grid_code, Volunteer.id) > (str(after[0]), int(after[1])))
    rows = db.session.execute(query.order_by(Volunteer.grid_code, Volunteer.id).limit(limit + 1)).scalars().all()
    result = page(rows, limit, lambda v: [v.grid_code, v.id])
    phones = auth_service.phones_of(v.user_id for v in result["items"])
    result["items"] = [profile(v, catalogue, phones.get(v.user_id)) for v in result["items"]]
    return result


def export(*, area: str):
    """The masked CSV of an area as text chunks (UTF-8 BOM and header, then a batch of rows at a time).
    The area is checked now; rows are read as the response is sent."""
    catalogue = Catalogue()
    query = _filtered(catalogue, area=area).with_only_columns(*_EXPORT_FIELDS)
    level = area_service.level_of(area)
    names = area_service.names({area[:n] for n in (6, 9, 12, 14) if len(area) >= n})
    for below in LEVELS[LEVELS.index(level) + 1:]:
        names.update(dict(area_service.within(area, below)))
    return _chunks(query, _Labels(names, catalogue))


_EXPORT_FIELDS = (Volunteer.id, Volunteer.grid_code, Volunteer.user_id, Volunteer.real_name_enc, Volunteer.trade_id,
                  Volunteer.interest_mask, Volunteer.service_roles, Volunteer.created_at)


def _chunks(query, labels: "_Labels"):
    yield "\ufeff" + _csv([EXPORT_COLUMNS])
    after = None
    while True:
        batch = query if after is None else query.where(tuple_(Volunteer.grid_code, Volunteer.id) > after)
        # plain rows (no ORM objects): an export of the whole city is 1.31 million of them
        rows = db.session.connection().execute(batch.order_by(Volunteer.grid_code, Volunteer.id)
                                               .limit(EXPORT_BATCH)).all()
        if not rows:
            return
        phones = auth_service.phones_of(v.user_id for v in rows)
        yield _csv(labels.row(v, phones.get(v.user_id)) for v in rows)
        after = (rows[-1].grid_code, rows[-1].id)
        db.session.rollback()  # end the read transaction between batches: a long export holds no snapshot


class _Labels:
    """Area, trade, interest and role names for export rows (tag combinations repeat: each is joined once)."""

    def __init__(self, names: dict, catalogue: Catalogue):
        self.names, self.catalogue, self.interests, self.roles = names, catalogue, {}, {}

    def row(self, v, phone) -> list:
        g, names, catalogue = v.grid_code, self.names, self.catalogue
        interests = self.interests.get(v.interest_mask)
        if interests is None:
            interests = self.interests[v.interest_mask] = "、".join(
                i.name for i in catalogue.interests if v.interest_mask >> (i.id - 1) & 1)
        roles = self.roles.get(v.service_roles)
        if roles is None:
            roles = self.roles[v.service_roles] = "、".join(ROLE_NAMES[c] for c in role_codes(v.service_roles))
        return [str(v.id), masked_name(v), mask_phone(phone), names.get(g[:6], ""), names.get(g[:9], ""),
                names.get(g[:12], ""), names.get(g, ""), g,
                catalogue.trade_by_id[v.trade_id].name if v.trade_id else "", interests, roles,
                to_shanghai(v.created_at).strftime("%Y-%m-%d %H:%M")]


def _csv(rows) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()
