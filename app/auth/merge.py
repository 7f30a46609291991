"""One person, one account: when a WeChat sign-in brings a phone that already has an account (made by SMS), the
WeChat account is merged into the phone's account, which is kept.

What moves: the WeChat identity (openid, session key); role grants (the union); what the domains receiving
`signals.accounts_merging` move themselves (health codes into free slots, subscribe grants); and every other
row that refers to the account — volunteer profile, venue staff bindings, sign-ups, notifications, points … —
found through the foreign keys to users.id, so a new table is covered without a hook. When both accounts hold
something that can exist only once (two volunteer profiles, two "self" health codes, the same venue twice)
nothing moves: 409 accounts_conflict. The merged-away account's sign-ins are revoked and the account deleted."""
import logging

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from app.auth import signals
from app.auth.models import RefreshToken, RoleGrant, User
from app.errors import Conflict
from app.extensions import db

log = logging.getLogger("jiefang.auth")
_OWN = {"users", "role_grants", "refresh_tokens", "health_codes", "subscribe_grants"}  # handled one by one below


def _referring_columns():
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "users" and fk.column.name == "id" and not (
                    table.name in _OWN and fk.parent.name in ("user_id", "owner_id")):
                yield table, fk.parent


def merge_into(*, keep: User, gone: User) -> None:
    """Move everything of `gone` to `keep`, then delete `gone` (no commit; Conflict leaves the session rolled back)."""
    try:
        for grant in list(gone.grants):
            if not any(g.role == grant.role and g.area_code == grant.area_code for g in keep.grants):
                keep.grants.append(RoleGrant(role=grant.role, area_code=grant.area_code))
        db.session.flush()
        signals.accounts_merging.send(None, from_user=gone.id, to_user=keep.id)
        for table, column in _referring_columns():
            db.session.execute(update(table).where(column == gone.id).values({column.name: keep.id}))
        # its access tokens die with the account (their subject no longer exists); its refresh tokens go now
        db.session.execute(delete(RefreshToken).where(RefreshToken.user_id == gone.id))
        db.session.delete(gone)
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("accounts_conflict",
                       "微信账号与手机号账号都有无法合并的数据（如都已注册志愿者），请联系社区工作人员")
    except Conflict:
        db.session.rollback()
        raise
    log.info("account merged: user=%s into user=%s", gone.id, keep.id)
