"""申领 and 撤回: link an account to a person once the identity provider has matched the holder, and unlink it.

A self code needs the account's phone proven by SMS sign-in and the three-element match (name + ID number + that
mobile): only the person whose mobile is registered to the ID passes, so a passing self claim replaces an earlier
unverified self code of the person (whose account is notified). A family code (代领) needs the two-element match,
and a person has at most HEALTH_CODE_FAMILY_HOLDERS of them; the self holder lists and revokes them. A code made
before checks existed is unverified: it shows its colour and gets tokens until its `verify_by`, then only after
POST /health-codes/{id}/verification; it cannot declare."""
import logging
import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth import service as auth_service
from app.common.ids import random_id
from app.common.masking import mask_phone
from app.common.time import to_shanghai, utcnow
from app.common.views import View
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.health_codes import identity, personal, persons, state, tokens
from app.health_codes.models import MAX_CODES_PER_ACCOUNT, ColourChange, HealthCode, Person

log = logging.getLogger("jiefang.health_codes")


def _require_consent(consent) -> None:
    if consent is not True:
        message = "申领健康码需要您单独同意《个人信息处理规则》中关于敏感个人信息的处理"
        raise ValidationFailed("consent_required", message, errors={"json": {"consent": [message]}})


def account_mobile(owner_id: int) -> str:
    """The mobile the account proved by SMS sign-in; Forbidden phone_unverified without one."""
    mobile = auth_service.phone_of(auth_service.get_user(owner_id))
    if mobile is None:
        raise Forbidden("phone_unverified", "申领或核验本人健康码需先用本人手机号短信验证码登录，以便实名核验")
    return mobile


def _refuse_own(doc_hash: str, owner_id: int) -> None:
    """409 when this account already holds a code of the document's person (it proved the document then)."""
    found = db.session.execute(select(HealthCode.id).join(Person, Person.id == HealthCode.person_id).where(
        Person.doc_hash == doc_hash, HealthCode.owner_id == owner_id, HealthCode.revoked_at.is_(None))).scalar()
    if found is not None:
        raise Conflict("health_code_exists", "您已为该证件申领过健康码，无需重复申领",
                       extra={"health_code_id": str(found)})


def _free_slot(owner_id: int, relation: str) -> int:
    live = db.session.execute(select(HealthCode.slot, HealthCode.relation).where(
        HealthCode.owner_id == owner_id, HealthCode.revoked_at.is_(None))).all()
    if relation == "self" and any(r == "self" for _, r in live):
        raise Conflict("self_code_exists", "您已为本人申领过健康码；为家人申领请选择“家人代领”")
    free = sorted(set(range(MAX_CODES_PER_ACCOUNT)) - {slot for slot, _ in live})
    if not free:
        raise Conflict("health_code_limit", f"每个账号最多可持有 {MAX_CODES_PER_ACCOUNT} 个健康码，"
                                            "请先删除不再使用的健康码")
    return free[0]


def apply(*, owner_id: int, name: str, id_type: str, id_number: str, phone: str | None, relation: str,
          consent: bool) -> HealthCode:
    """申领: check the holder with the identity provider, then link the account to the document's person (created
    green if new; otherwise with the person's current colour and history). Nothing is saved unless all passes."""
    _require_consent(consent)
    now = utcnow()
    mobile = account_mobile(owner_id) if relation == "self" else None
    holder = personal.holder(name=name, id_type=id_type, id_number=id_number, phone=mobile or phone,
                             today=to_shanghai(now).date())
    _refuse_own(holder.doc_hash, owner_id)
    _free_slot(owner_id, relation)
    identity.provider().check(name=holder.name, id_type=id_type, id_number=holder.id_number, mobile=mobile)
    for _attempt in range(3):  # constraints settle races: a lost one re-checks and answers
        _refuse_own(holder.doc_hash, owner_id)
        person, created = persons.claim(doc_hash=holder.doc_hash, id_type=id_type, now=now)
        code = _new_code(owner_id, _free_slot(owner_id, relation), person, relation, now)
        displaced = _make_room(person, relation, now)
        personal.encrypt_into(code, holder)
        db.session.add(code)
        if created:
            db.session.add(ColourChange(health_code_id=code.id, changed_at=now, source="rules", from_colour=None,
                                        to_colour=person.colour, reason_code=person.colour_reason))
        person.unlinked_at = None
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            continue
        _notify_replaced(displaced)
        log.info("health code applied id=%s relation=%s", code.id, relation)
        return code
    raise Conflict("health_code_busy", "申领人数较多，请稍后重试")


def _new_code(owner_id: int, slot: int, person: Person, relation: str, now: datetime) -> HealthCode:
    return HealthCode(id=random_id(), owner_id=owner_id, slot=slot, ref=secrets.token_bytes(tokens.REF_BYTES).hex(),
                      person_id=person.id, id_type=person.id_type, relation=relation, consent_at=now,
                      consent_policy=current_app.config["HEALTH_CODE_CONSENT_POLICY"], verified_at=now,
                      created_at=now)


def _make_room(person: Person, relation: str, now: datetime) -> list[int]:
    """Unlink the unverified self code a verified self claim replaces (returns its owner to notify); refuse a claim
    the person has no room for."""
    if relation == "family":
        cap = current_app.config["HEALTH_CODE_FAMILY_HOLDERS"]
        if len(persons.live_links(person.id, "family")) >= cap:
            raise Conflict("family_holder_limit",
                           f"该证件已有 {cap} 位家人代领健康码，请联系本人在健康码中移除后再申领")
        return []
    existing = persons.live_links(person.id, "self")
    if existing and existing[0].verified_at is not None:
        raise Conflict("health_code_exists", "该证件本人已通过实名核验申领健康码。如非本人操作，请拨打 12345 热线反映")
    for code in existing:
        persons.unlink(code, person, now)
    return [code.owner_id for code in existing]


def _notify_replaced(owner_ids: list[int]) -> None:
    if not owner_ids:
        return
    from app.patrols import notifications  # the existing per-account messages

    notifications.send(owner_ids, kind="health_code_replaced", patrol_id=None, title="您的本人健康码已被替换",
                       body="证件本人已通过手机号实名核验申领健康码，您账号中未核验的本人健康码已失效。"
                            "如有疑问请拨打 12345 热线。")
    db.session.commit()


def verify(*, code: HealthCode) -> HealthCode:
    """核验: check an unverified code's holder now (three elements for self, two for family); idempotent."""
    if code.verified_at is not None:
        return code
    data = personal.clear(code)
    mobile = account_mobile(code.owner_id) if code.relation == "self" else None
    identity.provider().check(name=data["name"], id_type=code.id_type, id_number=data["id_number"], mobile=mobile)
    code.verified_at, code.verify_by = utcnow(), None
    db.session.commit()
    return code


def withdraw(*, code: HealthCode) -> None:
    """撤回同意: unlink the (locked, live) code; the person stays only as long as the module doc says."""
    person = state.lock(code.person_id) if code.person_id is not None else None
    persons.unlink(code, person, utcnow())
    db.session.commit()
    log.info("health code withdrawn id=%s", code.id)


def _self_person(code: HealthCode) -> Person:
    if code.relation != "self" or code.verified_at is None:
        raise Forbidden("self_holder_only", "只有经实名核验的本人健康码可以管理家人代领")
    return state.lock(code.person_id)


def family_holders(*, code: HealthCode) -> list[View]:
    """The person's family holders as the self holder sees them: account phone and name on the code, masked."""
    person = _self_person(code)
    links = persons.live_links(person.id, "family")
    db.session.commit()
    phones = auth_service.phones_of(link.owner_id for link in links)
    return [View(link, name=personal.masked_name(link), account_phone=mask_phone(phones.get(link.owner_id)),
                 verified=link.verified_at is not None) for link in links]


def revoke_family(*, code: HealthCode, holder_id: int) -> None:
    """The self holder revokes one family holder's code (its account is notified)."""
    person = _self_person(code)
    link = next((c for c in persons.live_links(person.id, "family") if c.id == holder_id), None)
    if link is None:
        raise NotFound("holder_not_found", "该家人代领记录不存在或已移除")
    persons.unlink(link, person, utcnow())
    from app.patrols import notifications

    notifications.send([link.owner_id], kind="health_code_revoked", patrol_id=None, title="家人代领的健康码已被移除",
                       body="证件本人已在其健康码中移除您的代领权限，该健康码已失效。")
    db.session.commit()
