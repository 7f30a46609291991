"""Sign-in rules: SMS codes, WeChat, passwords, staff accounts and role grants."""
import functools
import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth import sms, tokens, wechat
from app.auth.models import CITY_CODE, STAFF_ROLES, RoleGrant, SmsCode, User
from app.common.crypto import cipher
from app.common.phone import normalise_cn_mobile
from app.common.time import utcnow
from app.errors import NotFound, TooManyRequests, Unauthorized, ValidationFailed
from app.extensions import db


_SMS_LOCK_NS = 0x534D53  # advisory-lock namespace of SMS code requests ("SMS")


def _code_hash(phone_hash: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def phone_hash(phone: str) -> str:
    """The keyed hash that finds an account by its (normalised) phone."""
    return cipher().blind_index(phone, "phone")


def _lock_sms(p_hash: str, ip: str) -> None:
    """Serialise code requests per phone and per IP (PostgreSQL), so that the limits cannot be raced."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:ns, :phone), pg_advisory_xact_lock(:ns + 1, :ip)"),
                           {"ns": _SMS_LOCK_NS, "phone": int(p_hash[:7], 16),
                            "ip": int(hashlib.sha256(ip.encode()).hexdigest()[:7], 16)})


def _too_many(error: str, message: str, wait: float) -> TooManyRequests:
    wait = max(1, math.ceil(wait))
    return TooManyRequests(error, message, extra={"retry_after": wait}, headers={"Retry-After": str(wait)})


def _window(condition, since):
    """(count, oldest, newest) of the codes matching condition created after since."""
    return db.session.execute(select(func.count(), func.min(SmsCode.created_at), func.max(SmsCode.created_at))
                              .where(condition, SmsCode.created_at > since)).one()


def _check_sms_limits(p_hash: str, ip: str, now: datetime) -> None:
    cfg, day = current_app.config, timedelta(days=1)
    count, oldest, newest = _window(SmsCode.phone_hash == p_hash, now - day)
    resend = timedelta(seconds=cfg["SMS_RESEND_SECONDS"])
    if newest is not None and now - newest < resend:
        wait = (newest + resend - now).total_seconds()
        raise _too_many("sms_too_frequent", f"验证码已发送，请 {max(1, math.ceil(wait))} 秒后再试", wait)
    if count >= cfg["SMS_PHONE_DAILY_LIMIT"]:
        raise _too_many("sms_phone_daily_limit", "该手机号今日获取验证码次数已达上限，请明天再试",
                        (oldest + day - now).total_seconds())
    count, oldest, _ = _window(SmsCode.ip == ip, now - day)
    if count >= cfg["SMS_IP_DAILY_LIMIT"]:
        raise _too_many("sms_ip_daily_limit", "当前网络今日获取验证码次数已达上限，请明天再试",
                        (oldest + day - now).total_seconds())


def request_sms_code(*, phone: str, ip: str) -> dict:
    """Send a 6-digit sign-in code (stored hashed, valid 5 minutes)."""
    phone = normalise_cn_mobile(phone)
    p_hash, now, cfg = phone_hash(phone), utcnow(), current_app.config
    sender = sms.sender()
    _lock_sms(p_hash, ip)
    _check_sms_limits(p_hash, ip, now)
    code = f"{secrets.randbelow(10**6):06d}"
    row = SmsCode(phone_hash=p_hash, code_hash=_code_hash(p_hash, code), ip=ip, created_at=now,
                  expires_at=now + timedelta(seconds=cfg["SMS_CODE_TTL_SECONDS"]))
    db.session.add(row)
    db.session.commit()
    try:
        sender.send_code(phone, code)
    except Exception:
        # No code reached the phone: do not count it against the resident's limits.
        db.session.execute(delete(SmsCode).where(SmsCode.id == row.id))
        db.session.commit()
        raise
    result = {"expires_in": cfg["SMS_CODE_TTL_SECONDS"], "resend_after": cfg["SMS_RESEND_SECONDS"]}
    if sender.echoes_code:
        result["debug_code"] = code
    return result


def _consume_code(p_hash: str, code: str) -> None:
    """Check a code; every try counts (atomically, so parallel guesses cannot share one); no commit on success."""
    now, limit = utcnow(), current_app.config["SMS_MAX_ATTEMPTS"]
    row = db.session.execute(select(SmsCode).where(SmsCode.phone_hash == p_hash)
                             .order_by(SmsCode.created_at.desc(), SmsCode.id.desc()).limit(1)).scalar_one_or_none()
    if row is None or row.consumed_at is not None:
        raise Unauthorized("sms_code_invalid", "验证码错误或已使用，请重新获取")
    if row.expires_at <= now:
        raise Unauthorized("sms_code_expired", "验证码已过期，请重新获取")
    attempts = db.session.execute(
        update(SmsCode).where(SmsCode.id == row.id, SmsCode.consumed_at.is_(None), SmsCode.attempts < limit)
        .values(attempts=SmsCode.attempts + 1).returning(SmsCode.attempts)).scalar_one_or_none()
    if attempts is None:
        consumed = db.session.execute(select(SmsCode.consumed_at).where(SmsCode.id == row.id)).scalar()
        db.session.rollback()
        if consumed is not None:
            raise Unauthorized("sms_code_invalid", "验证码错误或已使用，请重新获取")
        raise Unauthorized("sms_code_exhausted", "验证码错误次数过多，请重新获取")
    if hmac.compare_digest(row.code_hash, _code_hash(p_hash, code)):
        # The row is locked by the UPDATE above: it is consumed once, with the sign-in's commit.
        db.session.execute(update(SmsCode).where(SmsCode.id == row.id).values(consumed_at=now))
        return
    db.session.commit()
    left = limit - attempts
    raise Unauthorized("sms_code_invalid", f"验证码错误，还可尝试 {left} 次" if left else "验证码错误次数过多，请重新获取",
                       extra={"attempts_left": left})


def _grant(user: User, role: str, area_code: str = CITY_CODE) -> None:
    if not any(g.role == role and g.area_code == area_code for g in user.grants):
        user.grants.append(RoleGrant(role=role, area_code=area_code))


def login_sms(*, phone: str, code: str) -> tuple[User, dict]:
    """Check the code; the first login creates the resident."""
    phone = normalise_cn_mobile(phone)
    p_hash = phone_hash(phone)
    _consume_code(p_hash, code)
    user = db.session.execute(select(User).where(User.phone_hash == p_hash)).scalar_one_or_none()
    if user is None:
        user = User(phone_hash=p_hash, phone_enc=cipher().encrypt(phone, b"phone"))
        _grant(user, "resident")
        db.session.add(user)
    return _signed_in(user)


def _signed_in(user: User) -> tuple[User, dict]:
    db.session.flush()
    if not user.is_active:
        raise Unauthorized("account_disabled", "账号已停用，如有疑问请联系社区工作人员")
    user.last_login_at = utcnow()
    pair = tokens.issue_pair(user)
    db.session.commit()
    return user, pair


def login_wechat(*, code: str) -> tuple[User, dict]:
    """Exchange a wx.login() code; the session key is kept (encrypted) server-side only."""
    session = wechat.provider().exchange(code)
    o_hash = cipher().blind_index(session.openid, "wechat_openid")
    user = db.session.execute(select(User).where(User.wechat_openid_hash == o_hash)).scalar_one_or_none()
    if user is None:
        user = User(wechat_openid_hash=o_hash)
        _grant(user, "resident")
        db.session.add(user)
    user.wechat_session_key_enc = cipher().encrypt(session.session_key, b"wechat_session_key")
    return _signed_in(user)


def login_password(*, username: str, password: str) -> tuple[User, dict]:
    """Staff sign-in; the same answer, after the same work, for an unknown user and a wrong password."""
    user = db.session.execute(select(User).options(selectinload(User.grants))
                              .where(User.username == username)).scalar_one_or_none()
    stored = user.password_hash if user is not None and user.password_hash else _dummy_password_hash()
    if not check_password_hash(stored, password) or user is None or not user.has_role(*STAFF_ROLES):
        raise Unauthorized("credentials_invalid", "用户名或密码错误")
    return _signed_in(user)


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


def revoke_role(*, user: User, role: str, area_code: str | None = None) -> None:
    """Take a role away (over one area, or everywhere); no commit."""
    user.grants = [g for g in user.grants if not (g.role == role and area_code in (None, g.area_code))]


def purge_expired() -> dict[str, int]:
    """Delete expired token rows and SMS codes past the daily-limit window (they hold phone hashes and IPs)."""
    counts = tokens.purge_expired()
    day_ago = utcnow() - timedelta(days=1)
    counts["sms_codes"] = db.session.execute(delete(SmsCode).where(SmsCode.created_at < day_ago)).rowcount
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


def phone_of(user: User) -> str | None:
    """The user's phone in clear (for the few places that must show or use it)."""
    return cipher().decrypt(user.phone_enc, b"phone")
