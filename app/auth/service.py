"""Sign-in rules: SMS codes, WeChat, passwords, staff accounts and role grants."""
import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth import sms, tokens, wechat
from app.auth.models import CITY_CODE, ROLES, RoleGrant, SmsCode, User
from app.common.crypto import cipher
from app.common.phone import normalise_cn_mobile
from app.common.time import utcnow
from app.errors import NotFound, TooManyRequests, Unauthorized, ValidationFailed
from app.extensions import db


def _code_hash(phone_hash: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def phone_hash(phone: str) -> str:
    """The keyed hash that finds an account by its (normalised) phone."""
    return cipher().blind_index(phone, "phone")


def _check_sms_limits(p_hash: str, ip: str) -> None:
    cfg, now = current_app.config, utcnow()
    last = db.session.execute(select(func.max(SmsCode.created_at)).where(SmsCode.phone_hash == p_hash)).scalar()
    if last is not None and (now - last).total_seconds() < cfg["SMS_RESEND_SECONDS"]:
        wait = cfg["SMS_RESEND_SECONDS"] - int((now - last).total_seconds())
        raise TooManyRequests("sms_too_frequent", f"验证码已发送，请 {wait} 秒后再试",
                              extra={"retry_after": wait}, headers={"Retry-After": str(wait)})
    day = now - timedelta(days=1)
    per_phone = db.session.execute(select(func.count()).where(SmsCode.phone_hash == p_hash,
                                                              SmsCode.created_at > day)).scalar()
    if per_phone >= cfg["SMS_PHONE_DAILY_LIMIT"]:
        raise TooManyRequests("sms_phone_daily_limit", "该手机号今日获取验证码次数已达上限，请明天再试")
    per_ip = db.session.execute(select(func.count()).where(SmsCode.ip == ip, SmsCode.created_at > day)).scalar()
    if per_ip >= cfg["SMS_IP_DAILY_LIMIT"]:
        raise TooManyRequests("sms_ip_daily_limit", "当前网络今日获取验证码次数已达上限，请明天再试")


def request_sms_code(*, phone: str, ip: str) -> dict:
    """Send a 6-digit sign-in code (stored hashed, valid 5 minutes)."""
    phone = normalise_cn_mobile(phone)
    p_hash = phone_hash(phone)
    _check_sms_limits(p_hash, ip)
    code = f"{secrets.randbelow(10**6):06d}"
    ttl = current_app.config["SMS_CODE_TTL_SECONDS"]
    db.session.add(SmsCode(phone_hash=p_hash, code_hash=_code_hash(p_hash, code), ip=ip,
                           expires_at=utcnow() + timedelta(seconds=ttl)))
    db.session.commit()
    sender = sms.sender()
    sender.send_code(phone, code)
    result = {"expires_in": ttl, "resend_after": current_app.config["SMS_RESEND_SECONDS"]}
    if sender.echoes_code:
        result["debug_code"] = code
    return result


def _consume_code(p_hash: str, code: str) -> None:
    now, limit = utcnow(), current_app.config["SMS_MAX_ATTEMPTS"]
    row = db.session.execute(select(SmsCode).where(SmsCode.phone_hash == p_hash)
                             .order_by(SmsCode.created_at.desc()).limit(1)).scalar_one_or_none()
    if row is None or row.consumed_at is not None:
        raise Unauthorized("sms_code_invalid", "验证码错误或已使用，请重新获取")
    if row.expires_at <= now:
        raise Unauthorized("sms_code_expired", "验证码已过期，请重新获取")
    if row.attempts >= limit:
        raise Unauthorized("sms_code_exhausted", "验证码错误次数过多，请重新获取")
    if hmac.compare_digest(row.code_hash, _code_hash(p_hash, code)):
        # Atomic: two concurrent logins with the same code cannot both consume it.
        done = db.session.execute(update(SmsCode).where(SmsCode.id == row.id, SmsCode.consumed_at.is_(None))
                                  .values(consumed_at=now)).rowcount
        if done == 1:
            return
    db.session.execute(update(SmsCode).where(SmsCode.id == row.id).values(attempts=SmsCode.attempts + 1))
    db.session.commit()
    left = max(0, limit - row.attempts - 1)
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
        raise Unauthorized("account_disabled", "账号已停用")
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
    """Staff sign-in; the same answer for an unknown user and a wrong password."""
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.password_hash or not check_password_hash(user.password_hash, password):
        raise Unauthorized("credentials_invalid", "用户名或密码错误")
    return _signed_in(user)


def create_staff(*, username: str, password: str, role: str, area_code: str) -> User:
    """Create (or extend) a staff account with a role over an area."""
    from app.areas import service as area_service

    if role not in ROLES:
        raise ValidationFailed("role_invalid", f"未知角色：{role}")
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


def phones_of(user_ids) -> dict[int, str]:
    """{user_id: phone in clear} for many users in one query (lists that show masked phones)."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.phone_enc).where(User.id.in_(ids), User.phone_enc.is_not(None)))
    return {uid: cipher().decrypt(enc, b"phone") for uid, enc in rows}
