"""The signed-in account as each request sees it: its id, whether it is active, and its role grants.

Every request needs these before anything else, so with Redis they come from a short-lived cache entry read in
the same round trip as the token's revocation check (`tokens.is_access_revoked`); without Redis, or on a miss,
from one database statement. Whenever an account or a grant changes through the ORM, the entry is deleted after
the commit (`cache.forget_on_change` below); the bulk import deletes those of the accounts it granted a role. An entry
lives PRINCIPAL_TTL seconds at most, which also bounds how long one written just before a change can be served.

A `Principal` answers `id`, `is_active`, `has_role`, `areas_for`, `acts_on` and `roles` from the cache; any other
attribute (the phone, the WeChat id, `grants`) loads the account row once and is read from, or written to, it."""
from sqlalchemy import select

from app.auth.models import RoleGrant, User
from app.common import cache
from app.extensions import db

PRINCIPAL_TTL = 60


def cache_key(user_id) -> str:
    """The cache key (without cache.PREFIX) of an account's principal."""
    return f"principal:{user_id}"


class Principal:
    """An account's id, state and grants; other attributes come from the account row, loaded on first use."""

    __slots__ = ("id", "is_active", "grants_held", "_account")

    def __init__(self, user_id: int, is_active: bool, grants_held: tuple[tuple[str, str], ...]):
        self.id, self.is_active, self.grants_held, self._account = user_id, is_active, grants_held, None

    @property
    def roles(self) -> set[str]:
        return {role for role, _ in self.grants_held}

    def has_role(self, *roles: str) -> bool:
        """Whether the account holds any of these roles, in any area."""
        return any(role in roles for role, _ in self.grants_held)

    def areas_for(self, *roles: str) -> list[str]:
        """Area codes over which the account holds any of these roles."""
        return sorted({area for role, area in self.grants_held if role in roles})

    def acts_on(self, area_code: str, *roles: str) -> bool:
        """Whether one of these roles is granted over area_code or an area above it."""
        return any(role in roles and area_code.startswith(area) for role, area in self.grants_held)

    def without(self, roles) -> "Principal":
        """The same account, acting without these roles (a sign-in that lacks what they need)."""
        kept = tuple(grant for grant in self.grants_held if grant[0] not in roles)
        if len(kept) == len(self.grants_held):
            return self
        other = Principal(self.id, self.is_active, kept)
        other._account = self._account
        return other

    @property
    def account(self) -> User:
        """The account row (loaded once per request)."""
        if self._account is None:
            self._account = db.session.get(User, self.id)
        return self._account

    def __getattr__(self, name: str):
        # Only reached for names that are not slots or properties above: read them from the account row.
        return getattr(self.account, name)

    def __setattr__(self, name: str, value) -> None:
        if name in Principal.__slots__:
            object.__setattr__(self, name, value)
        else:  # a change to the account (a grant revoked, say) goes to its row
            setattr(self.account, name, value)

    def __repr__(self) -> str:
        return f"<Principal {self.id}>"


def encode(principal: Principal) -> str:
    """`1|resident@4401,organiser@440106`: the cache entry (no personal data)."""
    return f"{int(principal.is_active)}|" + ",".join(f"{role}@{area}" for role, area in principal.grants_held)


def decode(user_id: int, raw: bytes | str) -> Principal | None:
    """A principal from its cache entry; None when the entry is unreadable (then the database answers)."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    active, sep, grants = text.partition("|")
    if not sep or active not in ("0", "1"):
        return None
    held = tuple(tuple(item.split("@", 1)) for item in grants.split(",") if item)
    if any(len(pair) != 2 for pair in held):
        return None
    return Principal(user_id, active == "1", held)


def want_for(payload: dict) -> None:
    """Queue this token's account's cached principal, and the keys the view names for its caller, for the revocation
    check's round trip (`cache.want`)."""
    sub = payload.get("sub")
    if isinstance(sub, str) and sub.isdigit():
        cache.want(cache_key(sub))
        cache.want_for_caller(int(sub))


def load(user_id: int) -> Principal | None:
    """The account's principal for this request: the entry read with the revocation check, else the database
    (and then the cache is filled). None when there is no such account."""
    seen = cache.fetched(cache_key(user_id))
    if cache.was_fetched(seen) and seen is not None:
        principal = decode(user_id, seen)
        if principal is not None:
            return principal
    rows = db.session.execute(select(User.is_active, RoleGrant.role, RoleGrant.area_code)
                              .outerjoin(RoleGrant, RoleGrant.user_id == User.id).where(User.id == user_id)).all()
    if not rows:
        return None
    principal = Principal(user_id, bool(rows[0].is_active),
                          tuple(sorted((r.role, r.area_code) for r in rows if r.role is not None)))
    if cache.was_fetched(seen):  # Redis answered the revocation check (it is up): fill the entry
        cache.set_text(cache_key(user_id), encode(principal), PRINCIPAL_TTL)
    return principal


def forget(user_ids) -> None:
    """Delete the cached principals of these accounts (after a Core statement changed them)."""
    cache.delete(*[cache_key(user_id) for user_id in set(user_ids)])


def _account_keys(user: User) -> list[str]:
    return [cache_key(user.id)] if user.id is not None else []


def _grant_keys(grant: RoleGrant) -> list[str]:
    user_id = grant.user_id if grant.user_id is not None else getattr(grant.user, "id", None)
    return [cache_key(user_id)] if user_id is not None else []


cache.forget_on_change(User, _account_keys)
cache.forget_on_change(RoleGrant, _grant_keys)
