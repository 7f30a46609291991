"""Health officials' side: colour decisions with an append-only audit, history, look-ups by id. A decision made
through any code (a withdrawn one included) is the person's; the history is the person's across all codes.
Reached through service.py."""
import logging
from datetime import datetime

from sqlalchemy import select

from app.common.time import to_shanghai, utcnow
from app.common.views import View
from app.errors import ValidationFailed
from app.extensions import db
from app.health_codes import personal, rules, state
from app.health_codes.models import COLOURS, ColourChange, Declaration, HealthCode, Person
from app.subscriptions import service as subscriptions

log = logging.getLogger("jiefang.health_codes")


def get(*, code_id: int) -> HealthCode:
    """Any code, live or withdrawn, by id (for officials); NotFound health_code_not_found."""
    code = db.session.get(HealthCode, code_id) if state.in_range(code_id) else None
    if code is None:
        raise state.not_found()
    return code


def masked_holders(code_ids) -> dict[int, str | None]:
    """{code id: masked holder name} for many codes in one SELECT (None once withdrawn), e.g. for tracing."""
    wanted = {i for i in code_ids if state.in_range(i)}
    if not wanted:
        return {}
    return personal.masked_names(db.session.execute(select(HealthCode.id, HealthCode.name_enc)
                                                    .where(HealthCode.id.in_(wanted))).all())


_OFFICIAL_REASON = {"red": "official_red", "yellow": "official_yellow", "green": "official_release"}


_COLOUR_NAMES = {"green": "绿码", "yellow": "黄码", "red": "红码"}


def person_of(code_id: int) -> Person:
    """The person a code (live or withdrawn) belongs to, row-locked; NotFound health_code_not_found, Gone
    code_revoked once the person was erased."""
    code = get(code_id=code_id)
    person = state.lock(code.person_id) if code.person_id is not None else None
    if person is None:
        raise state.revoked()
    return person


def official_set_colour(*, code_id: int, colour: str, reason: str, official_id: int, commit: bool = True,
                        now: datetime | None = None) -> Person:
    """A health official's decision on the person of a code: appends an audit row (who, when, from, to, reason),
    then re-runs the rules.

    Red is sticky until the next decision; yellow turns green after 7 clean declared days; green releases.
    The person stays locked until commit; commit=False lets a caller apply several decisions in one transaction.
    Raises NotFound health_code_not_found, Gone code_revoked, ValidationFailed colour_invalid / reason_invalid."""
    now = now or utcnow()
    reason = " ".join((reason or "").split())
    if colour not in COLOURS:
        raise ValidationFailed("colour_invalid", "颜色应为 green、yellow 或 red",
                               errors={"json": {"colour": ["无效的颜色"]}})
    if not 1 <= len(reason) <= 200:
        raise ValidationFailed("reason_invalid", "请填写 1 至 200 字的赋码原因",
                               errors={"json": {"reason": ["长度无效"]}})
    person = person_of(code_id)
    db.session.add(ColourChange(health_code_id=code_id, changed_at=now, changed_by=official_id, source="official",
                                from_colour=person.colour, to_colour=colour, reason_code=_OFFICIAL_REASON[colour],
                                note=reason))
    db.session.flush()
    before = person.colour
    state.store(person, state.evaluate(person, now), now, code_id=code_id, audit=False)
    if person.colour != before:
        _notify_holders(person, now)
    if commit:
        db.session.commit()
    log.info("health code colour set code=%s colour=%s by=%s", code_id, colour, official_id)
    return person


def _notify_holders(person: Person, now: datetime) -> None:
    """A subscribe message to every account holding a live code of the person: their colour changed."""
    links = db.session.execute(select(HealthCode.id, HealthCode.owner_id).where(
        HealthCode.person_id == person.id, HealthCode.revoked_at.is_(None))).all()
    for code_id, owner_id in links:
        subscriptions.enqueue([owner_id], kind="colour_changed", page=f"pages/code/index?id={code_id}",
                              data={"phrase1": _COLOUR_NAMES[person.colour], "thing2": "请打开穗康码查看详情",
                                    "time3": to_shanghai(now).strftime("%Y年%m月%d日 %H:%M")})


def history(*, code_id: int) -> list[View]:
    """Colour changes and declarations of a code's person, through all its codes, newest first: Views of
    ColourChange rows (`type` "colour_change", `at`, `reason`) and of Declaration rows (`type` "declaration",
    `at`, `risk`: the reason code of a risky declaration, or None). Raises NotFound health_code_not_found."""
    code = get(code_id=code_id)
    codes = state.codes_of(code.person_id) if code.person_id is not None else [code_id]
    changes = db.session.execute(select(ColourChange).where(ColourChange.health_code_id.in_(codes))).scalars()
    declarations = db.session.execute(select(Declaration).where(Declaration.health_code_id.in_(codes))).scalars()
    items = [View(c, type="colour_change", at=c.changed_at, reason=rules.Reason(c.reason_code)) for c in changes]
    items += [View(d, type="declaration", at=d.declared_at, risk=rules.risk_of(d)) for d in declarations]
    return sorted(items, key=lambda i: i.at, reverse=True)
