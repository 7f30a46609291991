"""Finding volunteers inside an area by trade, interest, service role, name or phone (the export, in
app.volunteers.export, reads the same query).

Both walk (grid_code, id) in index order with a keyset cursor, so page 1,000 costs what page 1 costs."""
import re

from sqlalchemy import select, tuple_

from app.areas import service as area_service
from app.auth import service as auth_service
from app.common.pagination import decode_cursor, key_code, key_id, page
from app.errors import ValidationFailed
from app.extensions import db
from app.volunteers.models import Volunteer
from app.volunteers.service import name_index, profile
from app.volunteers.taxonomy import ROLE_CODES, Catalogue

_PHONE_LIKE = re.compile(r"^\+?[\d\s-]{7,20}$")


def filtered(catalogue: Catalogue, *, area: str, trade=None, interest=None, service_role=None, q=None):
    """Volunteers inside an area (checked now) that match the filters, as an unordered select."""
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
    query = filtered(catalogue, area=area, trade=trade, interest=interest, service_role=service_role, q=q)
    after = decode_cursor(cursor, key_code, key_id)
    if after:
        query = query.where(tuple_(Volunteer.grid_code, Volunteer.id) > tuple(after))
    rows = db.session.execute(query.order_by(Volunteer.grid_code, Volunteer.id).limit(limit + 1)).scalars().all()
    result = page(rows, limit, lambda v: [v.grid_code, v.id])
    phones = auth_service.phones_of(v.user_id for v in result["items"])
    result["items"] = [profile(v, catalogue, phones.get(v.user_id)) for v in result["items"]]
    return result
