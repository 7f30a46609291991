"""WeChat mini-program login (code2Session): a real client of sns/jscode2session and a fake for development."""
import hashlib
import logging
from dataclasses import dataclass

import requests
from flask import current_app

from app.errors import AppError, Forbidden, ServiceUnavailable, TooManyRequests, Unauthorized

log = logging.getLogger("jiefang.wechat")


@dataclass(frozen=True)
class WeChatSession:
    openid: str
    session_key: str
    unionid: str | None = None


# WeChat errcode -> what the resident is told. session_key never leaves the server.
ERRCODES: dict[int, AppError] = {
    40029: Unauthorized("wechat_code_invalid", "微信登录凭证无效，请重新进入小程序"),
    40163: Unauthorized("wechat_code_used", "微信登录凭证已使用，请重新进入小程序"),
    45011: TooManyRequests("wechat_rate_limited", "微信登录过于频繁，请稍后再试"),
    40226: Forbidden("wechat_user_blocked", "该微信账号存在风险，暂不能登录"),
    -1: ServiceUnavailable("wechat_busy", "微信服务繁忙，请稍后再试"),
}


class WeChatProvider:
    """Interface: exchange a wx.login() code for the user's openid and session key."""

    def exchange(self, code: str) -> WeChatSession:
        raise NotImplementedError


class RealWeChat(WeChatProvider):
    """Calls https://api.weixin.qq.com/sns/jscode2session with the configured appid/secret."""

    def __init__(self, appid: str, secret: str, base: str, timeout: float):
        self.appid, self.secret, self.base, self.timeout = appid, secret, base.rstrip("/"), timeout

    def exchange(self, code: str) -> WeChatSession:
        params = {"appid": self.appid, "secret": self.secret, "js_code": code, "grant_type": "authorization_code"}
        try:
            reply = requests.get(f"{self.base}/sns/jscode2session", params=params, timeout=self.timeout)
            body = reply.json()
        except requests.Timeout:
            raise ServiceUnavailable("wechat_timeout", "微信服务响应超时，请稍后再试") from None
        except (requests.RequestException, ValueError):
            raise ServiceUnavailable("wechat_unavailable", "暂时无法连接微信服务，请稍后再试") from None
        errcode = body.get("errcode") or 0
        if errcode:
            log.warning("jscode2session errcode=%s", errcode)
            known = ERRCODES.get(errcode)
            if known is None:
                raise ServiceUnavailable("wechat_error", "微信登录失败，请稍后再试")
            raise type(known)(known.error, known.message)
        if not body.get("openid") or not body.get("session_key"):
            raise ServiceUnavailable("wechat_error", "微信登录失败，请稍后再试")
        return WeChatSession(openid=body["openid"], session_key=body["session_key"], unionid=body.get("unionid"))


class FakeWeChat(WeChatProvider):
    """Development provider: any code maps to a stable fake openid; `invalid` behaves like errcode 40029."""

    def exchange(self, code: str) -> WeChatSession:
        if code == "invalid":
            known = ERRCODES[40029]
            raise type(known)(known.error, known.message)
        digest = hashlib.sha256(code.encode()).hexdigest()
        return WeChatSession(openid=f"fake-{digest[:24]}", session_key=digest[24:48])


def provider() -> WeChatProvider:
    """The configured provider."""
    cfg = current_app.config
    if cfg["WECHAT_BACKEND"] == "real":
        return RealWeChat(cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"], cfg["WECHAT_API_BASE"],
                          cfg["WECHAT_TIMEOUT_SECONDS"])
    return FakeWeChat()
