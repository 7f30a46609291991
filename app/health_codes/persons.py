"""持码人: find or create the person a document names, unlink a code from it, and erase it when its time is up.

A person is kept while any code links to it. When the last link goes, it keeps only what a public-health decision
needs (PIPL Art. 13(4)): the blind index, the colour state, the official decisions and, while it is not green, the
declarations the colour rests on. Once it has been green with no link for HEALTH_CODE_PERSON_RETENTION_DAYS, it
is erased with everything that named it (`flask health-codes erase`)."""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from app.common import upsert
from app.common.ids import random_id
from app.common.time import utcnow
from app.extensions import db
from app.health_codes import personal, rules, signals, state
from app.health_codes.models import ColourChange, Declaration, HealthCode, Person


def claim(*, doc_hash: str, id_type: str, now: datetime) -> tuple[Person, bool]:
    """(the document's person, row-locked; whether it was created now, green): one atomic upsert, then the lock."""
    new = upsert.insert(Person).values(
        id=random_id(), doc_hash=doc_hash, id_type=id_type, colour="green", colour_reason="no_risk",
        colour_since=now, rules_version=rules.RULES_VERSION, created_at=now,
    ).on_conflict_do_nothing(index_elements=["doc_hash"]).returning(Person.id)
    created = db.session.execute(new).scalar()
    person_id = created or db.session.execute(select(Person.id).where(Person.doc_hash == doc_hash)).scalar_one()
    return state.lock(person_id), created is not None


def live_links(person_id: int, relation: str | None = None) -> list[HealthCode]:
    """The person's live codes (of one relation if given), oldest first."""
    stmt = select(HealthCode).where(HealthCode.person_id == person_id, HealthCode.revoked_at.is_(None))
    if relation is not None:
        stmt = stmt.where(HealthCode.relation == relation)
    return list(db.session.execute(stmt.order_by(HealthCode.created_at)).scalars())


def unlink(code: HealthCode, person: Person | None, now: datetime) -> None:
    """Withdraw one code (its personal data erased); when it was the person's last, the person keeps the minimum."""
    personal.erase(code)
    code.slot, code.revoked_at = None, now
    db.session.flush()
    if person is None or live_links(person.id):
        return
    person.unlinked_at = now
    if person.colour == "green":  # nothing rests on the declarations any more
        db.session.execute(delete(Declaration).where(Declaration.health_code_id.in_(state.codes_of(person.id))))


def erase_due(*, now: datetime | None = None) -> int:
    """Erase every person green with no link for the retention period (refreshing due verdicts first); returns how
    many. Their codes' tombstones, declarations, colour changes and visit markers go with them."""
    now = now or utcnow()
    state.refresh_due(now=now)
    cutoff = now - timedelta(days=current_app.config["HEALTH_CODE_PERSON_RETENTION_DAYS"])
    due = db.session.execute(select(Person.id).where(
        Person.unlinked_at <= cutoff, Person.colour == "green", Person.colour_since <= cutoff)).scalars().all()
    for person_id in due:
        _erase(person_id)
    db.session.commit()
    return len(due)


def _erase(person_id: int) -> None:
    state.lock(person_id)
    live = select(func.count()).where(HealthCode.person_id == person_id, HealthCode.revoked_at.is_(None))
    if db.session.execute(live).scalar():  # linked again meanwhile
        return
    codes = state.codes_of(person_id)
    db.session.execute(delete(ColourChange).where(ColourChange.health_code_id.in_(codes)))
    db.session.execute(delete(Declaration).where(Declaration.health_code_id.in_(codes)))
    signals.person_erasing.send(None, person_id=person_id)
    db.session.execute(delete(HealthCode).where(HealthCode.person_id == person_id))
    db.session.execute(delete(Person).where(Person.id == person_id))
