"""Factories: build and commit rows through the services (or as they would), with sensible defaults: users and
their tokens, ID numbers, venues and inspectors, health codes, volunteers and groups."""
import itertools
import uuid

from flask_jwt_extended import create_access_token

from app.auth import service as auth_service
from app.auth.models import RoleGrant, User
from app.common.crypto import cipher
from app.extensions import db
from app.health_codes.models import HealthCode
from app.venues.models import Venue
from app.volunteers.models import Group, Volunteer

_seq = itertools.count(1)


def phone() -> str:
    """A fresh valid mainland mobile number."""
    return f"139{next(_seq) + 10_000_000:08d}"


def user(*, roles=(("resident", "4401"),), phone_number: str | None = None, username: str | None = None,
         password: str | None = None) -> User:
    """A committed user with the given (role, area) grants."""
    from werkzeug.security import generate_password_hash

    number = phone_number or (None if username else phone())
    u = User(username=username, password_hash=generate_password_hash(password, method="pbkdf2:sha256:1000")
             if password else None)
    if number:
        u.phone_hash = auth_service.phone_hash(number)
        u.phone_enc = cipher().encrypt(number, b"phone")
    u.grants = [RoleGrant(role=r, area_code=a) for r, a in roles]
    db.session.add(u)
    db.session.commit()
    return u


def auth_headers(u: User, *, fresh: bool = True) -> dict:
    """Authorization header with an access token for u, as from a sign-in that passed the second factor."""
    token = create_access_token(identity=str(u.id), fresh=fresh,
                                additional_claims={"fam": str(uuid.uuid4()), "mfa": True})
    return {"Authorization": f"Bearer {token}"}


def id_number(*, region: str = "440106", birth: str = "19900307", seq: int | None = None) -> str:
    """A valid 18-character mainland ID number (GB 11643 check character), unique per call by default."""
    number = seq if seq is not None else next(_seq) % 999 + 1  # never 000, which the fake identity check refuses
    body = f"{region}{birth}{number % 1000:03d}"
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    check = (12 - sum(int(d) * w for d, w in zip(body, weights)) % 11) % 11
    return body + ("X" if check == 10 else str(check))


def inspector(*, area: str = "440106001001") -> User:
    """A committed account that a checkpoint (a venue in that community) assigned as its inspector (检测员)."""
    from app.venues.models import VenueStaff

    account = user(roles=[("resident", "4401"), ("venue_staff", area)])
    checkpoint = venue(name="五山路口检查点", category="社区出入口", address="五山路", area=area)
    db.session.add(VenueStaff(venue_id=checkpoint.id, user_id=account.id, role="inspector"))
    db.session.commit()
    return account


def venue(*, owner: User | None = None, name: str = "天河城购物中心", category: str = "商场",
          address: str = "天河路208号", area: str = "440106001001", lat: float = 23.1375,
          lng: float = 113.3235) -> Venue:
    """A committed venue (场所) registered by `owner` (a fresh resident by default), its admin."""
    from app.venues import service as venue_service

    made = venue_service.create(user=owner or user(), name=name, category=category, address=address,
                                area=area, lat=lat, lng=lng)
    db.session.commit()
    return made


def health_code(*, owner: User | None = None, name: str = "张三明", number: str | None = None,
                relation: str = "self", phone: str | None = None) -> HealthCode:
    """A committed 穗康码 that `owner` (a fresh resident by default) applied for, for themself by default."""
    from app.health_codes import service as health_code_service

    holder = owner or user()
    code = health_code_service.apply(owner_id=holder.id, name=name, id_type="cn_resident_id",
                                     id_number=number or id_number(), phone=phone,
                                     relation=relation, consent=True)
    db.session.commit()
    return code


def volunteer(*, owner: User | None = None, name: str = "陈大文", grid: str = "44010600100101",
              trade: str = "express", interests=("running",), service_roles=("patroller",)) -> Volunteer:
    """A registered volunteer (广州街坊) living in `grid`, for `owner` (a fresh resident by default)."""
    from app.volunteers import service as volunteer_service

    return volunteer_service.register(user=owner or user(), real_name=name, grid=grid, trade=trade,
                                      interests=list(interests), service_roles=list(service_roles))


def community_group(grid: str = "44010600100101") -> Group:
    """The automatic group of the grid's community (every volunteer living there is a member)."""
    from app.volunteers import locality

    locality.ensure_auto_groups({grid[:12]})
    db.session.commit()
    return locality.auto_group_of(grid)


def trade_group(actor: User, *, area: str = "440106001", name: str | None = None,
                join_policy: str = "open") -> Group:
    """A trade group (express) over an area with no members yet, created by `actor` (an organiser there)."""
    from app.volunteers import groups

    return groups.create(actor=actor, data={"name": name or f"快递群{next(_seq)}", "kind": "trade",
                                            "area": area, "trade": "express", "join_policy": join_policy})
