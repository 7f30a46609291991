"""A code's colour state: the rules' last verdict stored on the row, re-evaluated whenever it could change.

The stored columns (colour, colour_reason, colour_since, review_at, rules_version) make a venue check one
indexed read. They are rewritten on every declaration and official decision, and lazily when `review_at`
has passed or the rules' version changed, so a code never shows a stale colour."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from app.common.sql import transaction
from app.common.time import utcnow
from app.errors import Gone, NotFound
from app.extensions import db
from app.health_codes import personal, rules
from app.health_codes.models import ColourChange, Declaration, HealthCode

MAX_ID = 2**63 - 1  # ids are positive BIGINTs: anything else is simply not found


def in_range(code_id: int) -> bool:
    """Whether an id can name a code at all (guards the database from out-of-range integers)."""
    return 0 < code_id <= MAX_ID


def not_found() -> NotFound:
    return NotFound("health_code_not_found", "健康码不存在，请返回列表刷新后重试")


def revoked() -> Gone:
    return Gone("code_revoked", "该健康码已注销，请持码人重新申领")


@dataclass(frozen=True)
class Status:
    """What a checker sees: colour, reason (code + Chinese sentence), timing, and the masked holder."""

    colour: str
    reason: str
    message: str
    since: datetime
    next_review_at: datetime | None
    holder: str | None


def lock(code_id: int) -> HealthCode | None:
    """The code, row-locked until commit (SELECT ... FOR UPDATE; a no-op on SQLite), refreshed in the session."""
    return db.session.execute(select(HealthCode).where(HealthCode.id == code_id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one_or_none()


def is_stale(code: HealthCode, now: datetime) -> bool:
    """Whether time or a new rules version may have changed the stored verdict."""
    return code.rules_version != rules.RULES_VERSION or (code.review_at is not None and code.review_at <= now)


def evaluate(code: HealthCode, now: datetime) -> rules.Verdict:
    """Run the rules over the code's declarations and official decisions (two indexed reads)."""
    declarations = db.session.execute(select(Declaration).where(Declaration.health_code_id == code.id)).scalars()
    decisions = db.session.execute(select(ColourChange).where(ColourChange.health_code_id == code.id,
                                                              ColourChange.source == "official")).scalars()
    return rules.evaluate(list(declarations), list(decisions), now)


def store(code: HealthCode, verdict: rules.Verdict, now: datetime, *, audit: bool = True) -> None:
    """Write a verdict onto the (locked) row; a changed colour gets a "rules" audit row unless audit=False."""
    if audit and verdict.colour != code.colour:
        db.session.add(ColourChange(health_code_id=code.id, changed_at=verdict.since or now, source="rules",
                                    from_colour=code.colour, to_colour=verdict.colour, reason_code=verdict.reason))
    code.colour, code.colour_reason = verdict.colour, verdict.reason
    code.colour_since = verdict.since or code.created_at or now
    code.review_at, code.rules_version = verdict.next_review_at, rules.RULES_VERSION


def refresh(code: HealthCode, now: datetime) -> HealthCode:
    """Re-evaluate a stale code under a row lock (another request may have done it meanwhile) and commit."""
    transaction()  # the lock must be held until the commit, also when called from an autocommit hot path
    locked = lock(code.id)
    if locked is not None and locked.revoked_at is None and is_stale(locked, now):
        store(locked, evaluate(locked, now), now)
    db.session.commit()
    return locked or code


def status(code: HealthCode, *, now: datetime | None = None) -> Status:
    """The code's current colour + reason + masked holder; no SQL unless the stored verdict is due."""
    now = now or utcnow()
    if code.revoked_at is None and is_stale(code, now):
        code = refresh(code, now)
    return Status(code.colour, code.colour_reason, rules.REASONS[code.colour_reason], code.colour_since,
                  code.review_at, personal.masked_name(code))


def refresh_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """Re-evaluate every live code whose timed change is due or whose verdict came from older rules, in
    batches (the job behind `flask health-codes refresh`; reads do the same lazily). Returns how many."""
    now, done = now or utcnow(), 0
    due = select(HealthCode.id).where(HealthCode.revoked_at.is_(None), or_(
        HealthCode.review_at <= now, HealthCode.rules_version != rules.RULES_VERSION)).limit(batch)
    while ids := db.session.execute(due).scalars().all():
        for code_id in ids:
            code = lock(code_id)
            if code is not None and code.revoked_at is None and is_stale(code, now):
                store(code, evaluate(code, now), now)
                done += 1
        db.session.commit()
    return done
