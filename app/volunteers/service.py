"""Volunteer profiles: register, read, change, leave (erasing the person), and the look-ups other domains use."""
import re
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.areas import service as area_service
from app.auth import service as auth_service
from app.common.crypto import cipher
from app.common.masking import mask_name
from app.common.time import utcnow
from app.common.views import View
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.volunteers import counts, locality, signals
from app.volunteers.models import Volunteer
from app.volunteers.taxonomy import Catalogue, interest_mask, role_mask

NAME_AAD = b"volunteer_name"
# 1–32 characters: Chinese (incl. rare CJK), Latin letters, and the middle dot and spaces of minority/foreign names.
REAL_NAME = re.compile(r"[\u3400-\u9fffA-Za-z][\u3400-\u9fffA-Za-z·• ]{0,31}")
COUNTED = ("grid_code", "trade_id", "interest_mask", "service_roles")


def name_index(real_name: str, data_cipher=None) -> str:
    """Keyed hash of a real name, for exact-name search without keeping the name in clear."""
    return (data_cipher or cipher()).blind_index("".join(real_name.split()), "volunteer_name")


def masked_name(v: Volunteer) -> str | None:
    """张*明, or None for a volunteer who has left."""
    return mask_name(cipher().decrypt(v.real_name_enc, NAME_AAD)) if v.real_name_enc else None


def _one(query, lock: bool | str) -> Volunteer | None:
    """lock=True (or "update") for a change of the row, "share" to keep it from changing until commit."""
    if lock:
        query = query.with_for_update(read=lock == "share").execution_options(populate_existing=True)
    return db.session.execute(query).scalar_one_or_none()


def volunteer_of(user, *, lock: bool | str = False) -> Volunteer | None:
    """The active volunteer profile of a user (None if they are not a volunteer)."""
    return _one(select(Volunteer).where(Volunteer.user_id == user.id), lock)


def my_volunteer(user, *, lock: bool | str = False) -> Volunteer:
    """The caller's volunteer profile, or NotFound(volunteer_not_found)."""
    v = volunteer_of(user, lock=lock)
    if v is None:
        raise NotFound("volunteer_not_found", "您还不是广州街坊志愿者，请先注册")
    return v


def get_volunteer(volunteer_id: int, *, lock: bool | str = False) -> Volunteer:
    """An active volunteer by id, or NotFound."""
    v = _one(select(Volunteer).where(Volunteer.id == volunteer_id, Volunteer.left_at.is_(None)), lock)
    if v is None:
        raise NotFound("volunteer_not_found", "志愿者不存在或已退出")
    return v


def _tags(catalogue: Catalogue, data: dict) -> dict:
    """Validated column values for the trade, interests and service roles present in data."""
    values = {}
    if "trade" in data:
        values["trade_id"] = catalogue.get("trade", data["trade"]).id
    if "interests" in data:
        ids = {catalogue.get("interest", code).id for code in data["interests"]}
        values["interest_mask"] = interest_mask(ids)
    if "service_roles" in data:
        values["service_roles"] = role_mask(catalogue.get("service_role", c).code for c in data["service_roles"])
    if "grid" in data:
        values["grid_code"] = area_service.get_at_level(data["grid"], "grid").code
    return values


def register(*, user, real_name: str, grid: str, trade: str, interests: list[str],
             service_roles: list[str]) -> Volunteer:
    """Make the caller a volunteer: profile, `volunteer` role, counts, community group; one commit."""
    if not user.phone_enc:
        raise ValidationFailed("phone_required", "请先使用手机号登录或绑定手机号，再注册志愿者")
    if volunteer_of(user) is not None:
        raise Conflict("volunteer_exists", "您已经是志愿者，无需重复注册")
    catalogue, now = Catalogue(), utcnow()
    v = Volunteer(user_id=user.id, real_name_enc=cipher().encrypt(real_name, NAME_AAD),
                  name_index=name_index(real_name),
                  source="self", consent_at=now, created_at=now, updated_at=now, moved_at=now,
                  **_tags(catalogue, dict(grid=grid, trade=trade, interests=interests, service_roles=service_roles)))
    db.session.add(v)
    try:
        db.session.flush()
    except IntegrityError:  # a second registration racing this one: volunteers.user_id is unique
        db.session.rollback()
        raise Conflict("volunteer_exists", "您已经是志愿者，无需重复注册") from None
    auth_service.grant_role(user=user, role="volunteer")
    tally = counts.Tally()
    tally.add_volunteer(v)
    counts.apply(tally, catalogue)
    locality.ensure_auto_groups({v.grid_code[:12]})
    db.session.commit()
    return v


def update(*, user, data: dict) -> Volunteer:
    """Change the caller's profile; counts move with it, a new community moves the volunteer's group."""
    v = my_volunteer(user, lock=True)
    catalogue = Catalogue()
    values = _tags(catalogue, data)
    before = SimpleNamespace(**{c: getattr(v, c) for c in COUNTED})
    if "real_name" in data:
        v.real_name_enc, v.name_index = cipher().encrypt(data["real_name"], NAME_AAD), name_index(data["real_name"])
    for column, value in values.items():
        setattr(v, column, value)
    now = utcnow()
    if any(getattr(before, c) != getattr(v, c) for c in COUNTED):
        tally = counts.Tally()
        tally.add_volunteer(before, -1)
        tally.add_volunteer(v)
        counts.apply(tally, catalogue)
    if v.grid_code != before.grid_code:
        v.moved_at = now
        locality.drop_memberships({v.id: v.grid_code})
        locality.ensure_auto_groups({v.grid_code[:12]})
        signals.volunteers_moved.send(None, moved={v.id: v.grid_code})
    v.updated_at = now
    db.session.commit()
    return v


def leave(*, user) -> None:
    """Leave the force: counts and memberships end, the person is erased, the anonymous row (and its id) stays."""
    v = my_volunteer(user, lock=True)
    tally = counts.Tally()
    tally.add_volunteer(v, -1)
    counts.apply(tally, Catalogue())
    locality.drop_memberships({v.id: None})
    now = utcnow()
    for column in ("user_id", "real_name_enc", "name_index", "grid_code", "trade_id"):
        setattr(v, column, None)
    v.interest_mask = v.service_roles = 0
    v.left_at = v.updated_at = now
    auth_service.revoke_role(user=user, role="volunteer")
    signals.volunteers_moved.send(None, moved={v.id: None})
    db.session.commit()


def masked_names(ids) -> dict[int, str | None]:
    """{volunteer id: masked name (None once they left)} in one query."""
    ids = list(set(ids))
    if not ids:
        return {}
    rows = db.session.execute(select(Volunteer).where(Volunteer.id.in_(ids))).scalars()
    return {v.id: masked_name(v) for v in rows}


def grid_of(volunteer_id: int) -> str | None:
    """Where a volunteer lives now (None once they left)."""
    query = select(Volunteer.grid_code).where(Volunteer.id == volunteer_id)
    return db.session.execute(query).scalar()


def profile(v: Volunteer, catalogue: Catalogue | None = None, phone: str | None = None,
            **values) -> View:
    """A volunteer with their phone (in clear: the schema masks it) and tags as codes."""
    catalogue = catalogue or Catalogue()
    trade = catalogue.trade_by_id[v.trade_id].code if v.trade_id else None
    return View(v, phone=phone, trade=trade, interests=catalogue.interest_codes(v.interest_mask),
                **values)


def me(user) -> View:
    """The caller's profile with their areas by level (district to grid) and their groups."""
    from app.volunteers import membership

    v = my_volunteer(user)
    grid = area_service.get(v.grid_code)
    areas = {a.level: a for a in area_service.ancestors(grid) + [grid]}
    return profile(v, phone=auth_service.phone_of(user), areas=areas,
                   groups=membership.memberships_of(v))
