"""穗康码 rules: apply, list, withdraw, verify the holder, family holders, declare, show (token, QR) and verify.

This module is the domain's interface. For venues, scans and officials: verify_token, status, masked_holders,
masked_names (tracing: names already read with its own statement), get, official_set_colour and history (the last
three live in officials.py, and act on the code's person); for the scans at the door: token_ref, unverified_ref,
code_by_ref, verdict, cached_verdict, may_show, and the cached Card (with the person's id, for one visit per person)
with card_key, ref_key and cached_card. Each says what it raises. Beside it, joins.py builds the code and its person
into venues' own statements (a check-in's one SELECT, a trace). Personal data never leaves the domain unmasked (a
card keeps the name encrypted; a trace's names go through masked_names)."""
import base64
import functools
import logging
from dataclasses import dataclass
from datetime import datetime, time, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cryptography.exceptions import InvalidTag
from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm.attributes import set_committed_value

from app import qr
from app.common import cache
from app.common.time import SHANGHAI, to_shanghai, utcnow
from app.common.views import View
from app.errors import Forbidden, TooManyRequests, ValidationFailed
from app.extensions import db
from app.health_codes import keys, links, personal, rules, state, tokens
from app.health_codes.models import Declaration, HealthCode, Person

# The rest of the interface other domains use (the officials' side).
from app.health_codes.officials import get, history, masked_holders, official_set_colour  # noqa: F401
from app.health_codes.personal import masked, masked_names, move_codes  # noqa: F401
from app.health_codes.state import Status, refresh_due, status  # noqa: F401

log = logging.getLogger("jiefang.health_codes")
MAX_DECLARATIONS_PER_DAY = 10


# ---- apply, list, show, withdraw, verify, family holders ---------------------------------------------------

def apply(**fields) -> HealthCode:
    """申领 (see links.py): 201 with the person's current colour; raises what links.apply raises."""
    return links.apply(**fields)


def get_own(*, code_id: int, owner_id: int, lock: bool = False) -> HealthCode:
    """A live code of this account, its person read in the same SELECT (locked: the code alone);
    anyone else's (or a withdrawn one) is 404 health_code_not_found."""
    if not state.in_range(code_id):
        raise state.not_found()
    if lock:  # FOR NO KEY UPDATE: an official's audit row, whose foreign key share-locks the code, is not held up
        code = db.session.execute(select(HealthCode).where(HealthCode.id == code_id).with_for_update(key_share=True)) \
            .scalar_one_or_none()
    else:
        row = db.session.execute(_OWN, {"code_id": code_id}).first()
        code = row[0] if row else None
        if code is not None:
            set_committed_value(code, "person", row[1])
    if code is None or code.owner_id != owner_id or code.revoked_at is not None:
        raise state.not_found()
    return code


_OWN = select(HealthCode, Person).outerjoin(Person, Person.id == HealthCode.person_id).where(
    HealthCode.id == bindparam("code_id"))


@dataclass(frozen=True)
class Consent:
    """The separate consent a code was applied with: when, and to which version of the policy."""

    given_at: datetime
    policy_version: str


def _colour_state(current: Status) -> dict:
    return {"colour": current.colour, "reason": rules.Reason(current.reason), "next_review_at": current.next_review_at}


def view(code: HealthCode) -> View:
    """A code as its owner sees it: personal data masked, colour current (re-evaluated first if it was due)."""
    current = status(code)
    return View(code, **masked(code), **_colour_state(current), colour_since=current.since,
                verified=code.verified_at is not None, consent=Consent(code.consent_at, code.consent_policy))


def list_own(*, owner_id: int) -> list[HealthCode]:
    """The account's live codes, oldest first (at most ten)."""
    return list(db.session.execute(select(HealthCode).where(
        HealthCode.owner_id == owner_id, HealthCode.revoked_at.is_(None))
        .order_by(HealthCode.created_at, HealthCode.slot)).scalars())


def withdraw(*, code_id: int, owner_id: int) -> None:
    """撤回同意: unlink the account's code (personal data erased); the person stays as long as the law needs."""
    links.withdraw(code=get_own(code_id=code_id, owner_id=owner_id, lock=True))


def verify_holder(*, code_id: int, owner_id: int) -> HealthCode:
    """核验 an unverified code with the identity provider (see links.py)."""
    return links.verify(code=get_own(code_id=code_id, owner_id=owner_id, lock=True))


def family_holders(*, code_id: int, owner_id: int) -> list[View]:
    """The family holders of the person of the caller's self code, masked."""
    return links.family_holders(code=get_own(code_id=code_id, owner_id=owner_id))


def revoke_family(*, code_id: int, owner_id: int, holder_id: int) -> None:
    """The self holder removes a family holder's code."""
    links.revoke_family(code=get_own(code_id=code_id, owner_id=owner_id), holder_id=holder_id)


def may_show(*, verified: bool, verify_by: datetime | None, now: datetime) -> None:
    """An unverified code gets tokens (and checks in) only until its verify_by: Forbidden verification_required."""
    if not verified and (verify_by is None or verify_by <= now):
        raise Forbidden("verification_required", "该健康码尚未完成实名核验，请先完成核验后再亮码")


# ---- declare --------------------------------------------------------------------------------------------

def _start_of_day(now: datetime) -> datetime:
    return datetime.combine(to_shanghai(now).date(), time(), SHANGHAI).astimezone(timezone.utc)


def declare(*, code_id: int, owner_id: int, temperature_c: float, symptoms: list[str],
            risk_area_visit_14d: bool, case_contact_14d: bool) -> View:
    """健康申报: record a declaration for the code's person and re-evaluate its colour (the person is locked: no lost
    update); the declaration with the person's new colour. An unverified code cannot declare (Forbidden
    verification_required)."""
    now = utcnow()
    code = get_own(code_id=code_id, owner_id=owner_id, lock=True)
    if code.verified_at is None:
        raise Forbidden("verification_required", "该健康码尚未完成实名核验，请先完成核验后再申报")
    person = state.lock(code.person_id)
    today = db.session.execute(select(func.count()).where(Declaration.health_code_id.in_(state.codes_of(person.id)),
                                                          Declaration.declared_at >= _start_of_day(now))).scalar()
    if today >= MAX_DECLARATIONS_PER_DAY:
        raise TooManyRequests("declaration_limit", f"今日已申报 {today} 次，已达上限，请明天再申报")
    declaration = Declaration(health_code_id=code.id, declared_at=now, risk_area_visit_14d=risk_area_visit_14d,
                              case_contact_14d=case_contact_14d,
                              temperature_c=float(Decimal(str(temperature_c)).quantize(Decimal("0.1"), ROUND_HALF_UP)),
                              symptoms=[s for s in rules.SYMPTOMS if s in set(symptoms)])
    db.session.add(declaration)
    db.session.flush()
    state.store(person, state.evaluate(person, now), now, code_id=code.id)
    db.session.commit()
    return View(declaration, **_colour_state(status(code)))


# ---- show: token and QR ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A signed token as 亮码 shows it; the token route adds the signed URL of its QR image (qr_url)."""

    token: str
    colour: str
    issued_at: datetime
    expires_at: datetime
    refresh_in: int  # seconds
    qr_url: str | None = None


def issue_token(*, code: HealthCode, now: datetime | None = None) -> IssuedToken:
    """亮码: a fresh signed token for the code, valid HEALTH_CODE_TOKEN_TTL_SECONDS (≤ 120 s), no write."""
    now = now or utcnow()
    may_show(verified=code.verified_at is not None, verify_by=code.verify_by, now=now)
    return _signed(ref=code.ref, colour=status(code, now=now).colour, now=now)


def _signed(*, ref: str, colour: str, now: datetime) -> IssuedToken:
    ring, cfg = keys.keyring(), current_app.config
    issued = int(now.timestamp())
    ttl = cfg["HEALTH_CODE_TOKEN_TTL_SECONDS"]
    token = tokens.sign(key=ring.signer, kid=ring.kid, ref=bytes.fromhex(ref), colour=colour,
                        issued_at=issued, ttl=ttl)
    return IssuedToken(token, colour, datetime.fromtimestamp(issued, timezone.utc),
                       datetime.fromtimestamp(issued + ttl, timezone.utc), cfg["HEALTH_CODE_TOKEN_REFRESH_SECONDS"])


def qr_image(*, code_id: int, owner_id: int, fmt: str) -> bytes:
    """The owner's current token as a QR image (PNG or SVG) drawn in the code's colour."""
    issued = issue_own_token(code_id=code_id, owner_id=owner_id)
    return qr.render(issued.token, issued.colour, fmt)


# The card: what 亮码, 验码 and 扫场所码 need of a live code (owner, pseudonym, colour and reason, when that verdict
# is due for review, and the holder's name still encrypted), cached under the code's id and under its token's ref so
# that a phone refreshing its code every minute, and a scan at the door, cost no SQL for the code. Deleted after any
# commit that changes the code (cache.forget_on_change); CARD_TTL bounds a card written just before such a change.
CARD_TTL = 60


def card_key(code_id: int) -> str:
    return f"hc:{code_id}"


def ref_key(ref: str) -> str:
    return f"hcref:{ref}"


@dataclass(frozen=True, slots=True)
class Checked:
    """What a checker is shown of a live code (验码, 扫场所码): its current colour, whether that passes, the
    masked holder, the reason, and when it was checked."""

    colour: str
    holder: str | None
    reason: rules.Reason
    checked_at: datetime

    @property
    def passed(self) -> bool:
        """Green passes (shown as `pass`)."""
        return self.colour == "green"


@dataclass(frozen=True)
class Card:
    owner_id: int
    ref: str
    colour: str
    review_at: int | None  # Unix seconds
    rules_version: str
    code_id: int
    reason: str
    person_id: int
    verify_by: int | None  # Unix seconds; None once verified (0: unverified, no grace)
    name_enc: bytes | None  # the holder's name as stored (AES-GCM): the cache holds no clear personal data

    def text(self) -> str:
        name = base64.b64encode(self.name_enc).decode() if self.name_enc else ""
        verify_by = "" if self.verify_by is None else self.verify_by
        return (f"{self.owner_id}|{self.ref}|{self.colour}|{self.review_at or ''}|{self.rules_version}|"
                f"{self.code_id}|{self.reason}|{self.person_id}|{verify_by}|{name}")

    @classmethod
    def parse(cls, text: str | None) -> "Card | None":
        parts = (text or "").split("|")
        if len(parts) != 10 or not parts[0].isdigit() or parts[2] not in tokens.COLOURS or not parts[5].isdigit() \
                or parts[6] not in rules.REASONS or not parts[7].isdigit() \
                or not (parts[8] == "" or parts[8].isdigit()):
            return None
        try:
            name = base64.b64decode(parts[9], validate=True) or None
        except ValueError:
            return None
        review = int(parts[3]) if parts[3].isdigit() else None
        verify_by = int(parts[8]) if parts[8] else None
        return cls(int(parts[0]), parts[1], parts[2], review, parts[4], int(parts[5]), parts[6], int(parts[7]),
                   verify_by, name)

    @classmethod
    def of(cls, code: HealthCode, current: Status) -> "Card":
        """The card of a live code whose status was just read (and refreshed if it was due)."""
        review = int(current.next_review_at.timestamp()) if current.next_review_at else None
        verify_by = None if code.verified_at is not None else int(code.verify_by.timestamp() if code.verify_by else 0)
        return cls(code.owner_id, code.ref, current.colour, review, code.person.rules_version, code.id,
                   current.reason, code.person_id, verify_by, code.name_enc)

    def fresh(self, now: datetime) -> bool:
        """Its colour is still the verdict (no review due, current rules)."""
        return self.rules_version == rules.RULES_VERSION and (self.review_at is None
                                                                 or self.review_at > now.timestamp())

    def usable(self, owner_id: int, now: datetime) -> bool:
        """The owner's, and fresh."""
        return self.owner_id == owner_id and self.fresh(now)

    def may_show(self, now: datetime) -> None:
        """Forbidden verification_required for an unverified code past its grace (see links.py)."""
        verify_by = None if self.verify_by is None else datetime.fromtimestamp(self.verify_by, timezone.utc)
        may_show(verified=self.verify_by is None, verify_by=verify_by, now=now)

    def verdict(self, now: datetime) -> Checked | None:
        """What a checker is shown, or None when the name cannot be read (a retired key): the caller then asks
        the database."""
        try:
            holder = personal.masked_blob(self.code_id, self.name_enc)
        except (KeyError, ValueError, InvalidTag):
            return None
        return Checked(self.colour, holder, rules.Reason(self.reason), now)


def cached_card(key: str) -> Card | None:
    """The card under a key (prefetched in this request if it was), or None."""
    return Card.parse(cache.get_text(key))


def remember(card: Card) -> None:
    """Cache a card under the code's id and its ref (one round trip; nothing without Redis)."""
    text = card.text()
    cache.set_texts({card_key(card.code_id): text, ref_key(card.ref): text}, CARD_TTL)


def issue_own_token(*, code_id: int, owner_id: int, now: datetime | None = None) -> IssuedToken:
    """亮码 for the owner: from the cached card when it is usable, else from the database (404
    health_code_not_found for someone else's or a withdrawn code), which then caches the card."""
    now = now or utcnow()
    card = cached_card(card_key(code_id))
    if card is None or not card.usable(owner_id, now):
        code = get_own(code_id=code_id, owner_id=owner_id)
        card = Card.of(code, status(code, now=now))  # re-evaluated first if the stored verdict was due
        remember(card)
    card.may_show(now)
    return _signed(ref=card.ref, colour=card.colour, now=now)


def _card_keys(code: HealthCode) -> list[str]:
    return [card_key(code.id), ref_key(code.ref)] if code.id is not None and code.ref else []


def _person_card_keys(person: Person) -> list[str]:
    """The cards of every live code of a changed person (read only when there is a cache to clear)."""
    if current_app.extensions.get("redis") is None or person.id is None:
        return []
    rows = db.session.connection().execute(select(HealthCode.id, HealthCode.ref).where(
        HealthCode.person_id == person.id, HealthCode.revoked_at.is_(None)))
    return [key for code_id, ref in rows for key in (card_key(code_id), ref_key(ref))]


cache.forget_on_change(HealthCode, _card_keys)
cache.forget_on_change(Person, _person_card_keys)


# ---- verify (验码) --------------------------------------------------------------------------------------

def verify_token(token: str, *, at: datetime | None = None) -> HealthCode:
    """The live code a token names, judged at `at` (default now; an offline scan passes its scan time).

    One indexed SELECT (by the token's pseudonymous ref). Raises ValidationFailed token_invalid (malformed,
    flipped bit, unknown or retired key id, another key's signature) or token_expired, Gone code_revoked."""
    return code_by_ref(token_ref(token, at=at))[0]


@functools.cache
def _by_ref(extra=None):
    """SELECT the code by its token's ref (bound as :ref), with one more column if given: built once per column,
    so that a scan does not rebuild (and re-key) the statement."""
    columns = (HealthCode, Person) if extra is None else (HealthCode, Person, extra)
    return select(*columns).outerjoin(Person, Person.id == HealthCode.person_id).where(
        HealthCode.ref == bindparam("ref"))


def token_ref(token: str, *, at: datetime | None = None) -> str:
    """The pseudonymous ref (hex) a token names, once its signature and time are checked (no SQL). Raises
    ValidationFailed token_invalid or token_expired."""
    try:
        return tokens.verify(token, keys.keyring().verifiers, at or utcnow()).ref.hex()
    except tokens.TokenExpired:
        raise _token_error("token_expired", "健康码已过期，请持码人刷新健康码后重新扫码") from None
    except tokens.TokenError:
        raise _token_error("token_invalid", "无法识别的健康码，请持码人打开穗康码后重新扫码") from None


def unverified_ref(token) -> str | None:
    """The ref a token claims, without checking it (to name cache keys before the check), or None."""
    try:
        return tokens.parse(token)[0].ref.hex()
    except tokens.TokenError:
        return None


def code_by_ref(ref: str, extra=None, params: dict | None = None) -> tuple[HealthCode, Any]:
    """(the live code with this ref, `extra`): one indexed SELECT, with one more column if given (a scalar subquery
    another domain needs, a module constant whose bound parameters come in `params`: a hot path saves a round
    trip). Raises ValidationFailed token_invalid (no such code), Gone code_revoked."""
    row = db.session.execute(_by_ref(extra), {"ref": ref, **(params or {})}).first()
    if row is None:
        raise _token_error("token_invalid", "无法识别的健康码，请持码人打开穗康码后重新扫码")
    if row[0].revoked_at is not None or row[1] is None:
        raise state.revoked()
    set_committed_value(row[0], "person", row[1])  # read in the same SELECT: no lazy load
    return row[0], (row[2] if extra is not None else None)


def _token_error(error: str, message: str) -> ValidationFailed:
    return ValidationFailed(error, message, errors={"json": {"token": [message]}})


def check(*, token: str) -> Checked:
    """A checkpoint's verdict: the colour from the code's card or the database (not the token's hint) and the
    masked holder."""
    ref = token_ref(token)
    hit = cached_verdict(ref)
    return hit[1] if hit else verdict(code_by_ref(ref)[0])


def cached_verdict(ref: str) -> tuple[Card, Checked] | None:
    """(card, verdict) from the card cached under the ref (read with the request's prefetch), or None: no
    fresh card."""
    now = utcnow()
    card = cached_card(ref_key(ref))
    result = card.verdict(now) if card is not None and card.fresh(now) else None
    return (card, result) if result else None


def verdict(code: HealthCode) -> Checked:
    """What a checker is shown for a live code: current colour, pass, masked holder, reason, time. The code's
    card is cached on the way (the next scan of this code reads no SQL for it)."""
    current = status(code)
    remember(Card.of(code, current))
    return Checked(current.colour, current.holder, rules.Reason(current.reason), utcnow())
