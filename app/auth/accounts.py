"""Account tools for operators (`flask users …`) and admins (/admin/users/…): disable, enable, revoke a role,
reset a password or a second factor. Each takes effect on the account's very next request: the change is
committed, its cached principal deleted (`principal` forgets on every ORM change of an account or a grant) and
every sign-in it has is revoked (refresh tokens and, for their remaining life, their access tokens)."""
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.auth import lockout, principal, second_factor, tokens
from app.auth.models import ROLES, RefreshToken, User
from app.errors import Forbidden, NotFound, ValidationFailed
from app.extensions import db

MIN_PASSWORD = 10


def find(*, user_id: int | None = None, username: str | None = None) -> User:
    """An account by id or username, or NotFound."""
    query = select(User).where(User.id == user_id) if user_id is not None else select(User).where(
        User.username == username)
    user = db.session.execute(query).scalar_one_or_none()
    if user is None:
        raise NotFound("user_not_found", "用户不存在")
    return user


def ensure_may_manage(actor, user: User) -> None:
    """An admin manages another account only when every grant it holds lies inside the admin's own areas."""
    if actor.id == user.id:
        raise Forbidden("self_forbidden", "不能对自己的账号执行此操作")
    if not all(actor.acts_on(grant.area_code, "admin") for grant in user.grants):
        raise Forbidden("area_forbidden", "该账号的角色超出您的管辖范围")


def _signed_out(user: User) -> None:
    """Commit the change, revoking every sign-in of the account with it, and drop its cached principal."""
    families = db.session.execute(select(RefreshToken.family).where(RefreshToken.user_id == user.id,
                                                                    RefreshToken.revoked_at.is_(None))
                                  .distinct()).scalars().all()
    entries = [entry for family in families for entry in tokens.revoke_family(family)]
    tokens.commit_revocations(entries)  # the ORM change commits with them; principal.forget runs after commit
    principal.forget([user.id])


def disable(user: User) -> User:
    """Stop the account: no sign-in, no request with a token it already has."""
    user.is_active = False
    _signed_out(user)
    return user


def enable(user: User) -> User:
    """Let a disabled account sign in again (its old sign-ins stay revoked)."""
    user.is_active = True
    _signed_out(user)
    return user


def revoke_role(user: User, *, role: str, area_code: str | None = None) -> User:
    """撤销角色：Take a role away, over one area or everywhere; NotFound when the account does not hold it."""
    if role not in ROLES:
        raise ValidationFailed("role_invalid", f"角色无效：{role}")
    kept = [g for g in user.grants if not (g.role == role and area_code in (None, g.area_code))]
    if len(kept) == len(user.grants):
        raise NotFound("grant_not_found", "该账号没有这个角色")
    user.grants = kept
    _signed_out(user)
    return user


def reset_password(user: User, *, password: str) -> User:
    """Set a new password, lift the username's lockout and sign the account out everywhere."""
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed("password_too_short", f"密码至少 {MIN_PASSWORD} 位")
    user.password_hash = generate_password_hash(password)
    if user.username:
        lockout.clear(user.username)
    _signed_out(user)
    return user


def reset_totp(user: User) -> User:
    """Forget the account's authenticator: it enrols again before its next sign-in; signed out everywhere."""
    second_factor.reset(user)
    _signed_out(user)
    return user


def grants_text(user: User) -> str:
    """`admin@4401, organiser@440106` (for the command line)."""
    return ", ".join(f"{g.role}@{g.area_code}" for g in user.grants_in_order) \
        or "(no roles)"
