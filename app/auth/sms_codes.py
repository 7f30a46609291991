"""SMS sign-in codes: six digits, stored hashed, valid 5 minutes, 5 tries, used once; resend and daily limits."""
import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, text, update

from app.auth import sms
from app.auth.models import SmsCode
from app.common.time import utcnow
from app.common.upsert import is_postgres
from app.errors import TooManyRequests, Unauthorized
from app.extensions import db

_SMS_LOCK_NS = 0x534D53  # advisory-lock namespace of SMS code requests ("SMS")


def _code_hash(phone_hash: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def _lock_sms(p_hash: str, ip: str) -> None:
    """Serialise code requests per phone and per IP (PostgreSQL), so that the limits cannot be raced."""
    if is_postgres():
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


def send_code(*, phone: str, p_hash: str, ip: str) -> dict:
    """Send a 6-digit sign-in code to a normalised phone (stored hashed, valid 5 minutes)."""
    now, cfg = utcnow(), current_app.config
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
    if sender.echoes_code and cfg["SMS_ECHO_CODE"]:
        result["debug_code"] = code
    return result


def consume_code(p_hash: str, code: str) -> None:
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
    raise Unauthorized("sms_code_invalid",
                       f"验证码错误，还可尝试 {left} 次" if left else "验证码错误次数过多，请重新获取",
                       extra={"attempts_left": left})


def purge_old(now: datetime) -> int:
    """Delete codes past the daily-limit window (they hold phone hashes and IPs); no commit."""
    return db.session.execute(delete(SmsCode).where(SmsCode.created_at < now - timedelta(days=1))).rowcount
