"""Record wx.requestSubscribeMessage's answers, and queue messages in the outbox in the event's transaction."""
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update

from app.common import time as clock
from app.errors import ValidationFailed
from app.extensions import db
from app.subscriptions.models import OutboxMessage, SubscribeGrant

KINDS = ("waitlist_promoted", "patrol_cancelled", "colour_changed", "report_dispatched")
MAX_REMAINING = 50  # accepts kept per template; more taps of "允许" add nothing


def templates() -> dict[str, str]:
    """{kind: template id} for the kinds configured (WECHAT_TEMPLATE_*); an unconfigured kind is not sent."""
    cfg = current_app.config
    return {kind: cfg[f"WECHAT_TEMPLATE_{kind.upper()}"] for kind in KINDS
            if cfg.get(f"WECHAT_TEMPLATE_{kind.upper()}")}


@dataclass(frozen=True)
class Subscriptions:
    """What a user may subscribe to (`templates`: {kind: template id}) and the `grants` they
    hold."""

    templates: dict[str, str]
    grants: list[SubscribeGrant]


def mine(*, user) -> Subscriptions:
    """The templates to ask for and the user's grants."""
    return Subscriptions(templates(), grants(user=user))


def grants(*, user) -> list[SubscribeGrant]:
    """The user's grants, by template id."""
    return db.session.execute(select(SubscribeGrant).where(SubscribeGrant.user_id == user.id)
                              .order_by(SubscribeGrant.template_id)).scalars().all()


def record(*, user, results: dict[str, str]) -> Subscriptions:
    """Store what wx.requestSubscribeMessage answered: each accept allows one more message of that template."""
    known = set(templates().values())
    unknown = sorted(set(results) - known)
    if unknown:
        raise ValidationFailed("template_unknown", "订阅消息模板不存在", errors={"json": {"results": unknown}})
    now = clock.utcnow()
    held = {g.template_id: g for g in grants(user=user)}
    for template_id, result in results.items():
        grant = held.get(template_id) or SubscribeGrant(user_id=user.id, template_id=template_id,
                                                         remaining=0)
        db.session.add(grant)
        grant.last_result, grant.updated_at = result, now
        if result == "accept":
            grant.remaining = min(MAX_REMAINING, (grant.remaining or 0) + 1)
    db.session.commit()
    return mine(user=user)


def enqueue(user_ids, *, kind: str, page: str, data: dict[str, str]) -> int:
    """Queue a message of `kind` to each user holding a grant for its template (no commit: the caller's
    transaction is the event's, so the message exists if and only if the event does)."""
    template_id = templates().get(kind)
    ids = sorted({u for u in user_ids if u is not None})
    if template_id is None or not ids:
        return 0
    holders = db.session.execute(select(SubscribeGrant.user_id).where(
        SubscribeGrant.template_id == template_id, SubscribeGrant.remaining > 0,
        SubscribeGrant.user_id.in_(ids))).scalars().all()
    now = clock.utcnow()
    body = {key: {"value": value} for key, value in data.items()}
    db.session.add_all([OutboxMessage(user_id=uid, kind=kind, template_id=template_id, page=page, data=body,
                                      next_attempt_at=now, created_at=now) for uid in holders])
    return len(holders)


def has_grant(user_id: int, template_id: str) -> bool:
    """Whether the user still allows a message of this template."""
    remaining = db.session.execute(select(SubscribeGrant.remaining).where(
        SubscribeGrant.user_id == user_id, SubscribeGrant.template_id == template_id)).scalar()
    return (remaining or 0) > 0


def note_refused(user_id: int, template_id: str, now) -> None:
    """Record that WeChat answered 43101 for this grant (nothing is used up; no commit)."""
    db.session.execute(update(SubscribeGrant).where(SubscribeGrant.user_id == user_id,
                                                    SubscribeGrant.template_id == template_id).values(refused_at=now))


def use_grant(user_id: int, template_id: str) -> bool:
    """Take one message off the user's grant; False when none is left (no commit)."""
    return db.session.execute(update(SubscribeGrant).where(
        SubscribeGrant.user_id == user_id, SubscribeGrant.template_id == template_id, SubscribeGrant.remaining > 0)
        .values(remaining=SubscribeGrant.remaining - 1)).rowcount == 1


def thing(text: str) -> str:
    """A `thing` value of a template: at most 20 characters."""
    return text if len(text) <= 20 else text[:19] + "…"


def follow_merge(_sender, *, from_user: int, to_user: int) -> None:
    """Receive `auth.signals.accounts_merging`: the merged-away account's grants move (`move_grants`)."""
    move_grants(from_user=from_user, to_user=to_user)


def move_grants(*, from_user: int, to_user: int) -> None:
    """Account merge: from_user's grants join to_user's (counts added up); no commit."""
    mine = {g.template_id: g for g in db.session.execute(select(SubscribeGrant).where(
        SubscribeGrant.user_id == to_user)).scalars()}
    for grant in db.session.execute(select(SubscribeGrant).where(SubscribeGrant.user_id == from_user)).scalars().all():
        kept = mine.get(grant.template_id)
        if kept is None:
            db.session.add(SubscribeGrant(user_id=to_user, template_id=grant.template_id, remaining=grant.remaining,
                                          last_result=grant.last_result, updated_at=grant.updated_at,
                                          refused_at=grant.refused_at))
        else:
            kept.remaining = min(MAX_REMAINING, kept.remaining + grant.remaining)
        db.session.delete(grant)
    db.session.flush()
