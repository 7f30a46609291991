"""Factories: build and commit rows the way the services would, with sensible defaults."""
import itertools
import uuid

from flask_jwt_extended import create_access_token

from app.auth import service as auth_service
from app.auth.models import RoleGrant, User
from app.common.crypto import cipher
from app.extensions import db

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
    body = f"{region}{birth}{(seq if seq is not None else next(_seq)) % 1000:03d}"
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    check = (12 - sum(int(d) * w for d, w in zip(body, weights)) % 11) % 11
    return body + ("X" if check == 10 else str(check))


def inspector(*, area: str = "440106001001") -> User:
    """A committed account that a checkpoint (a venue in that community) assigned as its inspector (检测员)."""
    from app.venues.models import Venue, VenueStaff

    owner = user()
    account = user(roles=[("resident", "4401"), ("venue_staff", area)])
    venue = Venue(name="五山路口检查点", category="社区出入口", address="五山路", area_code=area, lat=23.15,
                  lng=113.35, created_by=owner.id)
    db.session.add(venue)
    db.session.flush()
    db.session.add_all([VenueStaff(venue_id=venue.id, user_id=owner.id, role="admin"),
                        VenueStaff(venue_id=venue.id, user_id=account.id, role="inspector")])
    db.session.commit()
    return account
