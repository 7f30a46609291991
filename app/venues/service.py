"""Venue rules: registration, who may see and manage a venue, its staff, the 场所码 and its rotation."""
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, delete, func, or_, select, update
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError

from app.areas import service as area_service
from app.auth import service as auth_service
from app.common import cache, geo
from app.common.masking import mask_phone
from app.common.pagination import decode_cursor, key_id, page
from app.common.time import utcnow
from app.common.views import View
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.venues import codes
from app.venues.models import Venue, VenueStaff

if TYPE_CHECKING:  # accounts are auth's: annotations only
    from app.auth.models import User

AREA_ROLES = ("organiser", "health_official", "admin")  # staff of an area, who see its venues
_NOT_FOUND = ("venue_not_found", "场所不存在")


def get(venue_id: int) -> Venue:
    """A venue by id, or NotFound."""
    venue = db.session.get(Venue, venue_id)
    if venue is None:
        raise NotFound(*_NOT_FOUND)
    return venue


# The user's role at the venue as a scalar subquery (NULL when not staff), to fold into another SELECT; bound
# parameters :staff_venue_id and :staff_user_id (see staff_params). One constant: hot paths do not rebuild it.
STAFF_ROLE = select(VenueStaff.role).where(VenueStaff.venue_id == bindparam("staff_venue_id"),
                                           VenueStaff.user_id == bindparam("staff_user_id")).scalar_subquery()
_STAFF_ROLE_ALONE = select(STAFF_ROLE)


def staff_params(venue_id: int, user_id: int) -> dict:
    return {"staff_venue_id": venue_id, "staff_user_id": user_id}


def staff_role(venue_id: int, user_id: int) -> str | None:
    """The user's role at the venue (admin / inspector), or None."""
    return db.session.execute(_STAFF_ROLE_ALONE, staff_params(venue_id, user_id)).scalar()


# Hot-path caches (验码 and 扫场所码 at the door): a venue's card (what a check-in shows, and its code version)
# and a user's role at a venue ("-": none). Deleted after any commit that changes the row through the ORM; the
# Core statements below delete theirs themselves. CARD_TTL bounds an entry written just before such a change.
CARD_TTL = 60
_NONE = "-"


def card_key(venue_id: int) -> str:
    return f"venue:{venue_id}"


def staff_key(venue_id: int, user_id: int) -> str:
    return f"vstaff:{venue_id}:{user_id}"


@dataclass(frozen=True, slots=True)
class Card:
    """A venue's card: what a check-in shows of it, and its code version (cached as JSON, without the id)."""

    id: int
    name: str
    address: str
    category: str
    code_version: int


def cached_card(venue_id: int) -> Card | None:
    """A venue's card from the cache (prefetched if it was), or None."""
    value = cache.get_json(card_key(venue_id))
    if not (isinstance(value, list) and len(value) == 4 and isinstance(value[3], int)):
        return None
    return Card(venue_id, *value)


def remember_card(venue: Venue) -> Card:
    """Cache the venue's card; returns it."""
    stored = [venue.name, venue.address, venue.category, venue.code_version]
    cache.set_json(card_key(venue.id), stored, CARD_TTL)
    return Card(venue.id, *stored)


def cached_staff_role(venue_id: int, user_id: int) -> tuple[bool, str | None]:
    """(known, role): the user's cached role at the venue, None for none; known False when nothing is cached."""
    role = cache.get_text(staff_key(venue_id, user_id))
    return role is not None, (None if role in (None, _NONE) else role)


def remember_staff_role(venue_id: int, user_id: int, role: str | None) -> None:
    cache.set_text(staff_key(venue_id, user_id), role or _NONE, CARD_TTL)


cache.forget_on_change(Venue, lambda venue: [card_key(venue.id)] if venue.id is not None else [])
cache.forget_on_change(VenueStaff, lambda link: [staff_key(link.venue_id, link.user_id)]
                       if link.venue_id is not None and link.user_id is not None else [])


def ensure_can_view(venue: Venue, user: "User") -> None:
    """The venue's own staff, or staff of its area."""
    if staff_role(venue.id, user.id) is None and not user.acts_on(venue.area_code, *AREA_ROLES):
        raise Forbidden("venue_forbidden", "您不是该场所的工作人员")


def ensure_can_manage(venue: Venue, user: "User") -> None:
    """The venue's admin, or an organiser/admin of its area."""
    if staff_role(venue.id, user.id) != "admin" and not user.acts_on(venue.area_code, "organiser", "admin"):
        raise Forbidden("venue_forbidden", "只有场所管理员可以执行此操作")


def ensure_staff(venue_id: int, user: "User") -> None:
    """The caller must be staff (admin or inspector) of this venue to scan for it."""
    if staff_role(venue_id, user.id) is None:
        raise not_staff()


def is_assigned_inspector(user_id: int) -> bool:
    """Whether a venue's managers assigned the user as an inspector (检测员) there (an accepted invitation)."""
    return db.session.execute(select(VenueStaff.id).where(VenueStaff.user_id == user_id,
                                                          VenueStaff.role == "inspector").limit(1)).first() is not None


def not_staff() -> Forbidden:
    return Forbidden("venue_forbidden", "您不是该场所的工作人员，不能代其扫码")


def _check_location(area_code: str) -> None:
    area_service.get_at_level(area_code, "community")


def _check_position(lat: float, lng: float) -> None:
    if not geo.in_guangzhou(lat, lng):
        raise ValidationFailed("position_outside_city", "坐标不在广州市范围内",
                               errors={"json": {"lat": ["坐标不在广州市范围内"], "lng": ["坐标不在广州市范围内"]}})


def _check_uscc(raw: str | None) -> str | None:
    """The normalised 统一社会信用代码, or ValidationFailed uscc_invalid (python-stdnum's cn.uscc check)."""
    if raw is None:
        return None
    try:
        return uscc.validate(raw)
    except ValidationError:
        message = "统一社会信用代码无效，请核对营业执照上的 18 位代码；没有代码的场所可不填，由社区审核"
        raise ValidationFailed("uscc_invalid", message, errors={"json": {"uscc": [message]}}) from None


def create(*, user: "User", name: str, category: str, address: str, area: str, lat: float, lng: float,
           uscc: str | None = None) -> Venue:
    """Register a venue; the creator becomes its admin and venue staff over its community. A valid 统一社会信用代码
    approves it at once; without one it waits for an organiser of its area."""
    _check_location(area)
    _check_position(lat, lng)
    code = _check_uscc(uscc)
    venue = Venue(name=name, category=category, address=address, area_code=area, lat=lat, lng=lng,
                  created_by=user.id, uscc=code, approved_at=utcnow() if code else None)
    db.session.add(venue)
    db.session.flush()
    db.session.add(VenueStaff(venue_id=venue.id, user_id=user.id, role="admin"))
    auth_service.grant_role(user=user, role="venue_staff", area_code=area)
    db.session.commit()
    return venue


def approve(*, venue: Venue, user: "User") -> Venue:
    """An organiser (or admin) of the venue's area approves it: its visits count as verified in tracing."""
    if not user.acts_on(venue.area_code, "organiser", "admin"):
        raise Forbidden("venue_forbidden", "只有场所所在区域的组织者可以审核场所")
    if venue.approved_at is None:
        venue.approved_at, venue.approved_by = utcnow(), user.id
        db.session.commit()
    return venue


def update_venue(*, venue: Venue, user: "User", changes: dict) -> Venue:
    """Change name, category, address, area or location."""
    ensure_can_manage(venue, user)
    if "area" in changes and changes["area"] != venue.area_code:
        _check_location(changes["area"])
        if not user.acts_on(changes["area"], "organiser", "admin"):
            raise Forbidden("area_forbidden", "只有目标区域的组织者或管理员可以把场所迁入该区域")
    if "lat" in changes or "lng" in changes:
        _check_position(changes.get("lat", venue.lat), changes.get("lng", venue.lng))
    if "area" in changes:
        venue.area_code = changes.pop("area")
    for key, value in changes.items():
        setattr(venue, key, value)
    db.session.commit()
    return venue


def mine(*, user) -> list[View]:
    """The venues the caller is staff of, by name, each with `my_role` (admin or inspector)."""
    rows = db.session.execute(select(Venue, VenueStaff.role).join(VenueStaff, VenueStaff.venue_id == Venue.id)
                              .where(VenueStaff.user_id == user.id).order_by(Venue.name, Venue.id)).all()
    return [View(venue, my_role=role) for venue, role in rows]


def list_venues(*, user: "User", area: str, q: str | None, cursor: str | None, limit: int) -> dict:
    """Venues inside an area the caller oversees, by name, keyset-paginated in id order."""
    area_service.get(area)
    if not user.acts_on(area, *AREA_ROLES):
        raise Forbidden("area_forbidden", "该区域不在您的管辖范围内")
    stmt = select(Venue).where(area_service.in_subtree(Venue.area_code, area))
    if q:
        stmt = stmt.where(or_(Venue.name.contains(q, autoescape=True), Venue.address.contains(q, autoescape=True)))
    after = decode_cursor(cursor, key_id)
    if after:
        stmt = stmt.where(Venue.id > after[0])
    rows = db.session.execute(stmt.order_by(Venue.id).limit(limit + 1)).scalars().all()
    return page(rows, limit, lambda v: [str(v.id)])


def unbind_staff(*, venue: Venue, user: "User", member_id: int) -> None:
    """Unbind a staff member; the last admin stays."""
    ensure_can_manage(venue, user)
    role = staff_role(venue.id, member_id)
    if role is None:
        raise NotFound("staff_not_found", "该用户不是本场所工作人员")
    if role == "admin":
        admins = db.session.execute(select(func.count()).where(VenueStaff.venue_id == venue.id,
                                                               VenueStaff.role == "admin")).scalar()
        if admins <= 1:
            raise Conflict("last_admin", "不能移除场所唯一的管理员")
    db.session.execute(delete(VenueStaff).where(VenueStaff.venue_id == venue.id, VenueStaff.user_id == member_id))
    still_here = db.session.execute(select(func.count()).select_from(VenueStaff).join(Venue).where(
        VenueStaff.user_id == member_id, Venue.area_code == venue.area_code)).scalar()
    if not still_here:
        auth_service.revoke_role(user=auth_service.get_user(member_id), role="venue_staff",
                                 area_code=venue.area_code)
    db.session.commit()
    cache.delete(staff_key(venue.id, member_id))  # a Core DELETE: no ORM event


def list_staff(*, venue: Venue, user: "User") -> list[View]:
    """The venue's staff, each with a masked `phone`."""
    ensure_can_manage(venue, user)
    rows = db.session.execute(select(VenueStaff).where(VenueStaff.venue_id == venue.id)
                              .order_by(VenueStaff.id)).scalars().all()
    phones = auth_service.phones_of(s.user_id for s in rows)
    return [View(s, phone=mask_phone(phones.get(s.user_id))) for s in rows]


def venue_code(venue: Venue) -> str:
    """The venue's current 场所码 token."""
    return codes.sign(venue.id, venue.code_version)


def code_forms(venue: Venue, *, poster_url: str) -> codes.CodeForms:
    """Every form of the venue's current code: the long token, the short id (a 小程序码's scene) and its link,
    with the poster's signed URL."""
    short = codes.short_id(venue.id, venue.code_version)
    return codes.CodeForms(venue_code=venue_code(venue), short_id=short, link=codes.link(short),
                           poster_url=poster_url, code_version=venue.code_version)


def rotate_code(*, venue: Venue, user: "User") -> Venue:
    """Bump the code version: every poster printed before stops working."""
    ensure_can_manage(venue, user)
    db.session.execute(update(Venue).where(Venue.id == venue.id).values(code_version=Venue.code_version + 1))
    db.session.commit()
    cache.delete(card_key(venue.id))  # a Core UPDATE: no ORM event
    db.session.refresh(venue)
    return venue


def resolve_code(token: str) -> Venue:
    """The venue a scanned 场所码 belongs to; an old poster's code is rejected."""
    venue_id, version = codes.parse(token)
    venue = db.session.get(Venue, venue_id)
    if venue is None:
        raise ValidationFailed("venue_code_invalid", "场所码无效，请扫描场所张贴的最新场所码")
    if version != venue.code_version:
        raise ValidationFailed("venue_code_outdated", "该场所码已更新，请扫描场所张贴的最新场所码")
    return venue
