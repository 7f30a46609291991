"""Invitations: sent by a domain (groups, venues), answered by the invitee; the domain's handler runs on accept.

A domain registers what accepting its kind of invitation does (`register`, called in create_app); the handler
re-checks its own rules at that moment (the invitee may have moved or left since), and its changes commit with
the invitation's answer. Each sending notifies the invitee; a pending invitation is never sent twice."""
from collections.abc import Callable

from sqlalchemy import select

from app.common import time as clock
from app.common.pagination import time_page
from app.errors import Conflict, NotFound
from app.extensions import db
from app.invitations.models import Invitation

_HANDLERS: dict[str, Callable] = {}
_NOT_FOUND = ("invitation_not_found", "邀请不存在或已失效")


def register(kind: str, on_accept: Callable) -> None:
    """Say what accepting an invitation of this kind does: on_accept(invitation, invitee), no commit."""
    _HANDLERS[kind] = on_accept


def invite(*, kind: str, target_id: int, target_name: str, area_code: str, invitee_id: int, invited_by: int,
           title: str, body: str) -> Invitation:
    """Invite an account (again after a decline; a pending invitation stays as it is); notifies it; no commit."""
    from app.patrols import notifications

    row = db.session.execute(select(Invitation).where(
        Invitation.kind == kind, Invitation.target_id == target_id, Invitation.invitee_id == invitee_id)
        .with_for_update()).scalar_one_or_none()
    if row is not None and row.status == "pending":
        return row
    now = clock.utcnow()
    if row is None:
        row = Invitation(kind=kind, target_id=target_id, invitee_id=invitee_id)
        db.session.add(row)
    row.target_name, row.area_code, row.invited_by = target_name[:100], area_code, invited_by
    row.status, row.created_at, row.decided_at = "pending", now, None
    db.session.flush()
    notifications.send([invitee_id], kind="invitation", patrol_id=None, title=title, body=body)
    return row


def mine(*, user, status: str, cursor: str | None, limit: int) -> dict:
    """The caller's invitations in one status, newest first, keyset-paginated."""
    query = select(Invitation).where(Invitation.invitee_id == user.id, Invitation.status == status)
    return time_page(query, Invitation.created_at, Invitation.id, cursor=cursor, limit=limit,
                     newest_first=True)


def answer(*, user, invitation_id: int, accept: bool) -> Invitation:
    """Accept (the place is taken now, under its domain's rules) or decline one of the caller's invitations."""
    row = db.session.execute(select(Invitation).where(Invitation.id == invitation_id,
                                                      Invitation.invitee_id == user.id)
                             .with_for_update()).scalar_one_or_none()
    if row is None:
        raise NotFound(*_NOT_FOUND)
    if row.status != "pending":
        raise Conflict("invitation_answered", "该邀请已处理", extra={"status": row.status})
    if accept:
        _HANDLERS[row.kind](row, user)
    row.status, row.decided_at = ("accepted" if accept else "declined"), clock.utcnow()
    db.session.commit()
    return row
