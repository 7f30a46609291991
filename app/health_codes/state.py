"""A person's colour state: the rules' last verdict stored on the person, re-evaluated whenever it could change.

The stored columns (colour, colour_reason, colour_since, review_at, rules_version) make a venue check one
indexed read. They are rewritten on every declaration and official decision, and lazily when `review_at`
has passed or the rules' version changed, so no code of the person ever shows a stale colour. The rules read
the declarations and official decisions made through every code of the person, withdrawn ones included."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from app.common.sql import transaction
from app.common.time import utcnow
from app.errors import Gone, NotFound
from app.extensions import db
from app.health_codes import personal, rules
from app.health_codes.models import ColourChange, Declaration, HealthCode, Person

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


def lock(person_id: int) -> Person | None:
    """The person, row-locked until commit (SELECT ... FOR UPDATE; a no-op on SQLite), refreshed in the session."""
    return db.session.execute(select(Person).where(Person.id == person_id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one_or_none()


def codes_of(person_id: int):
    """SELECT the ids of every code (live or withdrawn) of a person (for IN)."""
    return select(HealthCode.id).where(HealthCode.person_id == person_id)


def is_stale(person: Person, now: datetime) -> bool:
    """Whether time or a new rules version may have changed the stored verdict."""
    return person.rules_version != rules.RULES_VERSION or (person.review_at is not None and person.review_at <= now)


def evaluate(person: Person, now: datetime) -> rules.Verdict:
    """Run the rules over the person's declarations and official decisions (two indexed reads)."""
    codes = codes_of(person.id)
    declarations = db.session.execute(select(Declaration).where(Declaration.health_code_id.in_(codes))).scalars()
    decisions = db.session.execute(select(ColourChange).where(ColourChange.health_code_id.in_(codes),
                                                              ColourChange.source == "official")).scalars()
    return rules.evaluate(list(declarations), list(decisions), now)


def store(person: Person, verdict: rules.Verdict, now: datetime, *, code_id: int, audit: bool = True) -> None:
    """Write a verdict onto the (locked) person; a changed colour gets a "rules" audit row on the code through
    which it changed, unless audit=False."""
    if audit and verdict.colour != person.colour:
        db.session.add(ColourChange(health_code_id=code_id, changed_at=verdict.since or now, source="rules",
                                    from_colour=person.colour, to_colour=verdict.colour, reason_code=verdict.reason))
    person.colour, person.colour_reason = verdict.colour, verdict.reason
    person.colour_since = verdict.since or person.created_at or now
    person.review_at, person.rules_version = verdict.next_review_at, rules.RULES_VERSION


def _any_code(person_id: int) -> int | None:
    return db.session.execute(select(HealthCode.id).where(HealthCode.person_id == person_id)
                              .order_by(HealthCode.revoked_at.is_not(None), HealthCode.created_at).limit(1)).scalar()


def refresh(person: Person, now: datetime) -> Person:
    """Re-evaluate a stale person under a row lock (another request may have done it meanwhile) and commit."""
    transaction()  # the lock must be held until the commit, also when called from an autocommit hot path
    locked = lock(person.id)
    if locked is not None and is_stale(locked, now):
        store(locked, evaluate(locked, now), now, code_id=_any_code(locked.id))
    db.session.commit()
    return locked or person


def status(code: HealthCode, *, now: datetime | None = None) -> Status:
    """The code's current colour (its person's) + reason + masked holder; no SQL unless the verdict is due."""
    now = now or utcnow()
    person = code.person
    if person is not None and is_stale(person, now):
        person = refresh(person, now)
    if person is None:  # a tombstone whose person was erased: nothing to show but that it is gone
        raise revoked()
    return Status(person.colour, person.colour_reason, rules.REASONS[person.colour_reason], person.colour_since,
                  person.review_at, personal.masked_name(code))


def refresh_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """Re-evaluate every person whose timed change is due or whose verdict came from older rules, in batches
    (the job behind `flask health-codes refresh`; reads do the same lazily). Returns how many."""
    now, done = now or utcnow(), 0
    due = select(Person.id).where(or_(Person.review_at <= now, Person.rules_version != rules.RULES_VERSION)) \
        .limit(batch)
    while ids := db.session.execute(due).scalars().all():
        for person_id in ids:
            person = lock(person_id)
            if person is not None and is_stale(person, now):
                store(person, evaluate(person, now), now, code_id=_any_code(person_id))
                done += 1
        db.session.commit()
    return done
