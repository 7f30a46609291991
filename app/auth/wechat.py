"""WeChat mini-program login (code2Session): a real client of sns/jscode2session and a fake for development."""
import hashlib
import logging
from dataclasses import dataclass

import requests
from flask import current_app

from app.common import wechat_api
from app.common.wechat_api import BAD_REPLY, wechat_error
from app.errors import AppError, Forbidden, ServiceUnavailable, TooManyRequests, Unauthorized, ValidationFailed

log = logging.getLogger("jiefang.wechat")


@dataclass(frozen=True)
class WeChatSession:
    openid: str
    session_key: str
    unionid: str | None = None


# WeChat errcode -> what the resident is told. session_key never leaves the server.
ERRCODES: dict[int, tuple[type[AppError], str, str]] = {
    40029: (Unauthorized, "wechat_code_invalid", "微信登录凭证无效，请重新进入小程序"),
    40163: (Unauthorized, "wechat_code_used", "微信登录凭证已使用，请重新进入小程序"),
    45011: (TooManyRequests, "wechat_rate_limited", "微信登录过于频繁，请一分钟后再试"),
    40226: (Forbidden, "wechat_user_blocked", "该微信账号存在风险，暂不能登录"),
    -1: (ServiceUnavailable, "wechat_busy", "微信服务繁忙，请稍后再试"),
}
_PHONE_ERRCODES = {40029: (ValidationFailed, "wechat_phone_code_invalid", "手机号授权已失效，请重新点击授权")}
_UNKNOWN = (ServiceUnavailable, "wechat_error", "微信登录失败，请稍后再试")
_BAD_REPLY = BAD_REPLY


class WeChatProvider:
    """Interface: exchange a wx.login() code for the user's openid and session key, and a getPhoneNumber code
    (the 手机号快速验证 button's) for the phone the user chose."""

    def exchange(self, code: str) -> WeChatSession:
        raise NotImplementedError

    def phone_number(self, phone_code: str) -> str:
        raise NotImplementedError


class RealWeChat(WeChatProvider):
    """Calls https://api.weixin.qq.com/sns/jscode2session with the configured appid/secret."""

    def __init__(self, appid: str, secret: str, base: str, timeout: float):
        self.appid, self.secret, self.base, self.timeout = appid, secret, base.rstrip("/"), timeout

    def exchange(self, code: str) -> WeChatSession:
        # The secret and the code travel in the query string (WeChat's protocol): never log the URL.
        params = {"appid": self.appid, "secret": self.secret, "js_code": code, "grant_type": "authorization_code"}
        try:
            reply = requests.get(f"{self.base}/sns/jscode2session", params=params, timeout=self.timeout)
        except requests.Timeout:
            log.warning("jscode2session timed out")
            raise wechat_error((ServiceUnavailable, "wechat_timeout", "微信服务响应超时，请稍后再试")) from None
        except requests.RequestException as exc:
            log.warning("jscode2session unreachable: %s", type(exc).__name__)
            raise wechat_error((ServiceUnavailable, "wechat_unavailable", "暂时无法连接微信服务，请稍后再试")) from None
        if reply.status_code != 200:
            log.warning("jscode2session answered HTTP %s", reply.status_code)
            raise wechat_error((ServiceUnavailable, "wechat_unavailable", "暂时无法连接微信服务，请稍后再试"))
        try:
            body = reply.json()
        except ValueError:
            body = None
        return _session(body)

    def phone_number(self, phone_code: str) -> str:
        """wxa/business/getuserphonenumber: the mainland number (purePhoneNumber, country code 86)."""
        try:
            body = wechat_api.call("/wxa/business/getuserphonenumber", {"code": phone_code})
        except wechat_api.WeChatError as exc:
            raise wechat_api.as_app_error(exc, _PHONE_ERRCODES) from None
        info = body.get("phone_info")
        if not isinstance(info, dict) or not isinstance(info.get("purePhoneNumber"), str):
            log.warning("getuserphonenumber reply lacks phone_info")
            raise wechat_error(_BAD_REPLY)
        if str(info.get("countryCode")) != "86":
            raise ValidationFailed("phone_not_mainland", "仅支持中国大陆手机号码，请改用短信验证码登录")
        return info["purePhoneNumber"]


def _session(body) -> WeChatSession:
    """Read a jscode2session reply: an errcode, or openid + session_key; anything else is a bad reply."""
    if not isinstance(body, dict):
        log.warning("jscode2session reply is not a JSON object")
        raise wechat_error(_BAD_REPLY)
    try:
        errcode = int(body.get("errcode") or 0)
    except (TypeError, ValueError):
        errcode = None
    if errcode is None or errcode:
        log.warning("jscode2session errcode=%s", errcode)
        raise wechat_error(ERRCODES.get(errcode, _UNKNOWN) if errcode is not None else _BAD_REPLY)
    openid, session_key, unionid = body.get("openid"), body.get("session_key"), body.get("unionid")
    if not (isinstance(openid, str) and openid and isinstance(session_key, str) and session_key):
        log.warning("jscode2session reply lacks openid or session_key")
        raise wechat_error(_BAD_REPLY)
    return WeChatSession(openid=openid, session_key=session_key,
                         unionid=unionid if isinstance(unionid, str) and unionid else None)


class FakeWeChat(WeChatProvider):
    """Development provider, so that the devtools (a new random code at every wx.login()) keep one user.

    wx.login() code: `NAME~anything` is the fake user NAME (openid `fake-` + a hash of NAME), any other code the
    one user `devtools`; `invalid` behaves like errcode 40029. getPhoneNumber code: one ending in 11 digits is that
    mobile number, any other a stable number derived from the code; `invalid` behaves like errcode 40029."""

    def exchange(self, code: str) -> WeChatSession:
        if code == "invalid":
            raise wechat_error(ERRCODES[40029])
        name = code.split("~", 1)[0] if "~" in code else "devtools"
        digest = hashlib.sha256(name.encode()).hexdigest()
        return WeChatSession(openid=f"fake-{digest[:24]}", session_key=hashlib.sha256(code.encode()).hexdigest()[:24])

    def phone_number(self, phone_code: str) -> str:
        if phone_code == "invalid":
            raise wechat_error(_PHONE_ERRCODES[40029])
        tail = phone_code[-11:]
        if tail.isascii() and tail.isdigit() and tail.startswith("1"):
            return tail
        return "139" + str(int(hashlib.sha256(phone_code.encode()).hexdigest(), 16))[-8:]


def provider() -> WeChatProvider:
    """The configured provider; an unknown WECHAT_BACKEND is an error, never a silent fall back to `fake`."""
    cfg = current_app.config
    if cfg["WECHAT_BACKEND"] == "real":
        return RealWeChat(cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"], cfg["WECHAT_API_BASE"],
                          cfg["WECHAT_TIMEOUT_SECONDS"])
    if cfg["WECHAT_BACKEND"] == "fake":
        return FakeWeChat()
    raise RuntimeError(f"unknown WECHAT_BACKEND {cfg['WECHAT_BACKEND']!r}")
