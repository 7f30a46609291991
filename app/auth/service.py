"""Sign-in rules: phone (SMS), WeChat, passwords, staff accounts and role grants."""
import functools
import secrets

from sqlalchemy import BigInteger, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth import lockout, merge, second_factor, sms_codes, tokens, wechat
from app.auth.models import CITY_CODE, CITY_WIDE_ROLES, STAFF_ROLES, RoleGrant, User
from app.common.crypto import cipher
from app.common.phone import normalise_cn_mobile
from app.common.time import utcnow
from app.common.upsert import is_postgres
from app.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from app.extensions import db


def phone_hash(phone: str) -> str:
    """The keyed hash that finds an account by its (normalised) phone."""
    return cipher().blind_index(phone, "phone")


def _check_area(role: str, area_code: str) -> None:
    if role in CITY_WIDE_ROLES and area_code != CITY_CODE:
        raise ValidationFailed("role_city_wide", f"{role} 只能授予全市（{CITY_CODE}），不能按区授予",
                               errors={"area": [f"应为 {CITY_CODE}"]})


def _grant(user: User, role: str, area_code: str = CITY_CODE) -> None:
    _check_area(role, area_code)
    if not any(g.role == role and g.area_code == area_code for g in user.grants):
        user.grants.append(RoleGrant(role=role, area_code=area_code))


def request_sms_code(*, phone: str, ip: str) -> dict:
    """Send a sign-in code to a mainland mobile (+86/86 prefixes and spaces accepted)."""
    phone = normalise_cn_mobile(phone)
    return sms_codes.send_code(phone=phone, p_hash=phone_hash(phone), ip=ip)


def login_sms(*, phone: str, code: str, totp: str | None = None) -> tuple[User, dict]:
    """Check the code; the first login creates the resident."""
    phone = normalise_cn_mobile(phone)
    p_hash = phone_hash(phone)
    sms_codes.consume_code(p_hash, code)
    return _signed_in(resident_by_phone(phone), totp)


def resident_by_phone(phone: str) -> User:
    """The account of a (normalised) phone, created as a resident if there is none yet; no commit."""
    p_hash = phone_hash(phone)
    find = select(User).where(User.phone_hash == p_hash)
    user = db.session.execute(find).scalar_one_or_none()
    if user is None:
        user = _new_resident(User(phone_hash=p_hash, phone_enc=cipher().encrypt(phone, b"phone")), find)
    return user


def _new_resident(user: User, find) -> User:
    """Add a new resident account. On PostgreSQL it is flushed in a savepoint: when a concurrent request created the
    same account first (the same phone or WeChat user: its unique index stops this one), that account is returned
    instead, so that two first sign-ins at once both succeed instead of one answering 409."""
    _grant(user, "resident")
    if not is_postgres():  # SQLite (one writer at a time) would commit at a SAVEPOINT opened outside a transaction
        db.session.add(user)
        return user
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:
        existing = db.session.execute(find).scalar_one_or_none()
        if existing is None:
            raise
        return existing
    return user


def _signed_in(user: User, totp: str | None = None) -> tuple[User, dict]:
    db.session.flush()
    if not user.is_active:
        raise Unauthorized("account_disabled", "账号已停用，如有疑问请联系社区工作人员")
    checked = second_factor.verify_sign_in(user, totp)
    user.last_login_at = utcnow()
    pair = tokens.issue_pair(user, second_factor=checked)
    db.session.commit()
    return user, pair


def login_wechat(*, code: str, phone_code: str | None = None,
                 totp: str | None = None) -> tuple[User, dict]:
    """Exchange a wx.login() code (and, with phone_code, the getPhoneNumber code: the phone is bound, and an account
    that already has it is the one signed in to, the WeChat account merged into it); the session key is kept
    (encrypted) server-side only."""
    provider = wechat.provider()
    session = provider.exchange(code)
    phone = normalise_cn_mobile(provider.phone_number(phone_code)) if phone_code else None
    o_hash = cipher().blind_index(session.openid, "wechat_openid")
    find = select(User).where(User.wechat_openid_hash == o_hash)
    user = db.session.execute(find).scalar_one_or_none()
    if phone is not None:
        user = _with_phone(user, o_hash, phone)
    elif user is None:
        user = _new_resident(User(wechat_openid_hash=o_hash), find)
    user.wechat_session_key_enc = cipher().encrypt(session.session_key, b"wechat_session_key")
    user.wechat_openid_enc = cipher().encrypt(session.openid, b"wechat_openid")
    return _signed_in(user, totp)


def _with_phone(user: User | None, o_hash: str, phone: str) -> User:
    """The one account of this WeChat user and phone: bind the phone, or the openid, or merge the two."""
    p_hash = phone_hash(phone)
    owner = db.session.execute(select(User).where(User.phone_hash == p_hash)).scalar_one_or_none()
    if user is not None and user.phone_hash is not None and user.phone_hash != p_hash:
        raise Conflict("phone_already_bound", "该微信账号已绑定其他手机号")
    if owner is not None and owner.wechat_openid_hash not in (None, o_hash):
        raise Conflict("wechat_already_bound", "该手机号已绑定其他微信账号，请用短信验证码登录")
    if owner is None:
        if user is None:
            return _new_resident(User(wechat_openid_hash=o_hash, phone_hash=p_hash,
                                      phone_enc=cipher().encrypt(phone, b"phone")),
                                 select(User).where(User.wechat_openid_hash == o_hash))
        user.phone_hash, user.phone_enc = p_hash, cipher().encrypt(phone, b"phone")
        return user
    if user is not None and user.id != owner.id:
        user.wechat_openid_hash = None
        db.session.flush()  # the openid's unique index: released before the kept account takes it
        merge.merge_into(keep=owner, gone=user)
    owner.wechat_openid_hash = o_hash
    return owner


def login_password(*, username: str, password: str, totp: str | None = None) -> tuple[User, dict]:
    """Staff sign-in (with a TOTP code for the roles that need one), under the username's lockout."""
    user = staff_by_password(username=username, password=password)
    try:
        result = _signed_in(user, totp)
    except Unauthorized as exc:
        if exc.error.startswith("totp_"):
            db.session.rollback()
            lockout.record_failure(username)
        raise
    lockout.clear(username)
    db.session.commit()
    return result


def confirm_totp(*, username: str, password: str, code: str) -> None:
    """Confirm a pending TOTP enrolment; a wrong code counts against the username like a wrong password."""
    user = staff_by_password(username=username, password=password)
    try:
        second_factor.confirm_enrolment(user, code)
    except Unauthorized:
        db.session.rollback()
        lockout.record_failure(username)
        raise


def staff_by_password(*, username: str, password: str) -> User:
    """The staff account these credentials open; the same answer, after the same work, for an unknown user and a
    wrong password, each failure counted against the username (lockout)."""
    lockout.ensure_unlocked(username)
    user = db.session.execute(select(User).options(selectinload(User.grants))
                              .where(User.username == username)).scalar_one_or_none()
    stored = user.password_hash if user is not None and user.password_hash else _dummy_password_hash()
    if not check_password_hash(stored, password) or user is None or not user.has_role(*STAFF_ROLES):
        db.session.rollback()
        lockout.record_failure(username)
        raise Unauthorized("credentials_invalid", "用户名或密码错误")
    return user


@functools.cache
def _dummy_password_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def create_staff(*, username: str, password: str, role: str, area_code: str) -> User:
    """Create (or extend) a staff account with a role over an area."""
    from app.areas import service as area_service

    if role not in STAFF_ROLES:
        raise ValidationFailed("role_invalid", f"角色无效：{role}，员工角色应为 {'、'.join(STAFF_ROLES)} 之一")
    if len(password) < 10:
        raise ValidationFailed("password_too_short", "密码至少 10 位")
    area_service.get(area_code)
    _check_area(role, area_code)
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        user = User(username=username)
        db.session.add(user)
    user.password_hash = generate_password_hash(password)
    _grant(user, role, area_code)
    db.session.commit()
    return user


def grant_role(*, user: User, role: str, area_code: str = CITY_CODE) -> None:
    """Give a user a role over an area (used by other domains, e.g. volunteer registration); no commit."""
    _grant(user, role, area_code)


def holders(*, roles: tuple[str, ...], area_code: str) -> list[int]:
    """Ids of the active accounts holding one of roles over area_code or an area above it."""
    above = [area_code[:n] for n in (4, 6, 9, 12, 14) if n <= len(area_code)]
    return sorted(set(db.session.execute(select(RoleGrant.user_id).join(User, User.id == RoleGrant.user_id).where(
        RoleGrant.role.in_(roles), RoleGrant.area_code.in_(above), User.is_active)).scalars()))


def revoke_role(*, user: User, role: str, area_code: str | None = None) -> None:
    """撤销角色：Take a role away (over one area, or everywhere); no commit."""
    user.grants = [g for g in user.grants if not (g.role == role and area_code in (None, g.area_code))]


def purge_expired() -> dict[str, int]:
    """Delete expired token rows and day-old SMS codes."""
    counts = tokens.purge_expired()
    counts["sms_codes"] = sms_codes.purge_old(utcnow())
    db.session.commit()
    return counts


def get_user(user_id: int) -> User:
    """A user by id, or NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("user_not_found", "用户不存在")
    return user


def find_by_phone(phone: str) -> User | None:
    """The account registered with this phone, if any."""
    p_hash = phone_hash(normalise_cn_mobile(phone))
    return db.session.execute(select(User).where(User.phone_hash == p_hash)).scalar_one_or_none()


def find_by_username(username: str) -> User | None:
    """The staff account with this username, if any."""
    return db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def phone_of(user: User) -> str | None:
    """The user's phone in clear (for the few places that must show or use it)."""
    return cipher().decrypt(user.phone_enc, b"phone")


def openid_of(user_id: int) -> str | None:
    """The user's WeChat openid in clear (to address a subscribe message), or None."""
    blob = db.session.execute(select(User.wechat_openid_enc).where(User.id == user_id)).scalar()
    return cipher().decrypt(blob, b"wechat_openid")


def phones_of(user_ids) -> dict[int, str]:
    """{user_id: phone in clear} for many users in one query (lists that show masked phones)."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    wanted = User.id.in_(ids)
    if is_postgres():  # one array parameter, not thousands of placeholders
        wanted = User.id == any_(bindparam("ids", ids, type_=ARRAY(BigInteger)))
    rows = db.session.connection().execute(select(User.id, User.phone_enc).where(wanted, User.phone_enc.is_not(None)))
    c = cipher()
    return {uid: c.decrypt(enc, b"phone") for uid, enc in rows}
