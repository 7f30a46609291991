"""通知: the caller's messages (a patrol was cancelled, a waitlisted seat came free), newest first; mark as read."""
from sqlalchemy import func, select, update

from app.common import time as clock
from app.common.ids import random_id
from app.common.pagination import time_page
from app.extensions import db
from app.patrols.models import Notification


def send(user_ids, *, kind: str, patrol_id: int | None, title: str, body: str) -> int:
    """Queue one message per user (accounts that are gone are skipped); no commit."""
    now = clock.utcnow()
    rows = [dict(id=random_id(), user_id=uid, kind=kind, patrol_id=patrol_id, title=title, body=body[:300],
                 created_at=now) for uid in sorted({u for u in user_ids if u is not None})]
    if rows:
        db.session.execute(Notification.__table__.insert(), rows)
    return len(rows)


def listing(*, user, unread_only: bool, cursor: str | None, limit: int) -> dict:
    """The user's messages, newest first, keyset-paginated, with the number still unread."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    result = time_page(query, Notification.created_at, Notification.id, cursor=cursor, limit=limit, newest_first=True)
    result["unread"] = db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))).scalar()
    return result


def mark_read(*, user, ids: list[int] | None) -> int:
    """Mark the user's messages read (the listed ones, or all); returns how many changed."""
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    changed = db.session.execute(query.values(read_at=clock.utcnow())
                                 .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return changed
