"""A code's personal data: checked and normalised on the way in, encrypted at rest, masked on the way out,
erased when consent is withdrawn. Name, document number and phone are AES-GCM blobs whose associated data
binds them to their row and column; the person is found through a keyed hash of the normalised document."""
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.common.crypto import cipher
from app.common.masking import mask_id_number, mask_name, mask_phone
from app.common.phone import normalise_cn_mobile
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.health_codes import documents
from app.health_codes.models import MAX_CODES_PER_ACCOUNT, HealthCode

FIELDS = ("name", "id_number", "phone")
_NAME = re.compile(r"^[^\W\d_]+(?:[ ·•.'\-][^\W\d_]+)*$")  # words of letters, one separator between


@dataclass(frozen=True)
class Holder:
    name: str
    id_type: str
    id_number: str
    phone: str | None

    @property
    def doc_hash(self) -> str:
        """The blind index of the normalised document (type + number) that names its person."""
        return cipher().blind_index(f"{self.id_type}:{self.id_number}", "health_code_document")


def aad(code_id: int, field: str) -> bytes:
    """Associated data binding an encrypted field to its row and column."""
    return f"health_code:{code_id}:{field}".encode()


def _clean_name(raw: str) -> str:
    name = " ".join(unicodedata.normalize("NFC", raw or "").split())
    if not _NAME.match(name):
        message = "姓名只能包含文字、字母和间隔号“·”，请与证件上的姓名保持一致"
        raise ValidationFailed("name_invalid", message, errors={"json": {"name": [message]}})
    return name


def holder(*, name: str, id_type: str, id_number: str, phone: str | None, today: date) -> Holder:
    """The applicant's data, checked and normalised, or ValidationFailed naming what is wrong."""
    return Holder(_clean_name(name), id_type, documents.normalise(id_type, id_number, today=today),
                  normalise_cn_mobile(phone) if phone else None)


def encrypt_into(code: HealthCode, person: Holder) -> None:
    """Store the holder's data on the row, encrypted (the row's id must be set)."""
    for field in FIELDS:
        setattr(code, f"{field}_enc", cipher().encrypt(getattr(person, field), aad(code.id, field)))


def masked_name(code: HealthCode) -> str | None:
    """张*明 (None once erased)."""
    return masked_blob(code.id, code.name_enc)


def masked_blob(code_id: int, name_enc: bytes | None) -> str | None:
    """张*明 from a code's stored name (None once erased)."""
    return mask_name(cipher().decrypt(name_enc, aad(code_id, "name")))


def masked_names(codes) -> dict[int, str | None]:
    """{code id: 张*明 (None once erased)} for many (id, name_enc) pairs, the cipher looked up once: tracing names
    hundreds of contacts."""
    decrypt = cipher().decrypt
    return {code_id: mask_name(decrypt(blob, aad(code_id, "name"))) for code_id, blob in codes}


def masked(code: HealthCode) -> dict:
    """The holder's personal data as every response shows it: 张*明, 440***********123X, 138****1234."""
    data = clear(code)
    return {"name": mask_name(data["name"]), "id_number": mask_id_number(data["id_number"]),
            "phone": mask_phone(data["phone"])}


def clear(code: HealthCode) -> dict:
    """The holder's personal data in clear (for a new identity check of a code made before checks)."""
    return {f: cipher().decrypt(getattr(code, f"{f}_enc"), aad(code.id, f)) for f in FIELDS}


def erase(code: HealthCode) -> None:
    """Forget who held the code: its personal data is gone (the person, if still kept, is not)."""
    code.name_enc = code.id_number_enc = code.phone_enc = None


def follow_merge(_sender, *, from_user: int, to_user: int) -> None:
    """Receive `auth.signals.accounts_merging`: the merged-away account's codes move (`move_codes`)."""
    move_codes(from_owner=from_user, to_owner=to_user)


def move_codes(*, from_owner: int, to_owner: int) -> int:
    """Account merge: from_owner's codes go to to_owner, live ones into its free slots (no commit). Conflict when
    they do not fit in the ten slots or both accounts hold a live code for the holder themself."""
    codes = db.session.execute(select(HealthCode).where(HealthCode.owner_id == from_owner)).scalars().all()
    live = [c for c in codes if c.revoked_at is None]
    kept = db.session.execute(select(HealthCode.slot, HealthCode.relation).where(
        HealthCode.owner_id == to_owner, HealthCode.revoked_at.is_(None))).all()
    free = sorted(set(range(MAX_CODES_PER_ACCOUNT)) - {slot for slot, _ in kept})
    if len(live) > len(free) or (any(c.relation == "self" for c in live) and any(r == "self" for _, r in kept)):
        raise Conflict("accounts_conflict", "两个账号的健康码无法合并（本人码重复或超过 10 个），请先删除多余的健康码")
    for code in live:
        code.slot = None
    db.session.flush()  # free the (owner, slot) pairs before taking new ones
    for code in codes:
        code.owner_id = to_owner
    for code, slot in zip(live, free):
        code.slot = slot
    db.session.flush()
    return len(codes)
