"""WeChat's server API (api.weixin.qq.com) for the mini-program: the access_token from cgi-bin/stable_token, kept
until shortly before it expires (Redis when present, else this process), and `call()`, which POSTs JSON with it.

An errcode that says the token is bad (40001, 40014, 42001) refreshes it once (force_refresh) and retries; the
others become the JSON error envelope through `errors`. Neither the secret nor the token is ever logged."""
import logging
import time

import requests
from flask import current_app

from app.common import cache
from app.errors import AppError, Forbidden, ServiceUnavailable, TooManyRequests, ValidationFailed

log = logging.getLogger("jiefang.wechat")
_TOKEN_KEY = "wechat:access_token"
_TOKEN_MARGIN = 300  # seconds before expiry when a token is no longer handed out
_BAD_TOKEN = {40001, 40014, 42001}
_RETRY_AFTER = {TooManyRequests: "60", ServiceUnavailable: "10"}

BUSY = (ServiceUnavailable, "wechat_busy", "微信服务繁忙，请稍后再试")
UNKNOWN = (ServiceUnavailable, "wechat_error", "微信服务调用失败，请稍后再试")
BAD_REPLY = (ServiceUnavailable, "wechat_bad_reply", "微信服务返回异常，请稍后再试")
UNAVAILABLE = (ServiceUnavailable, "wechat_unavailable", "暂时无法连接微信服务，请稍后再试")
TIMEOUT = (ServiceUnavailable, "wechat_timeout", "微信服务响应超时，请稍后再试")
# errcodes every server API shares
COMMON = {
    -1: BUSY,
    45009: (TooManyRequests, "wechat_rate_limited", "微信接口调用过于频繁，请稍后再试"),
    45011: (TooManyRequests, "wechat_rate_limited", "微信接口调用过于频繁，请稍后再试"),
    40013: (ServiceUnavailable, "wechat_misconfigured", "微信服务配置有误，请联系管理员"),
    40125: (ServiceUnavailable, "wechat_misconfigured", "微信服务配置有误，请联系管理员"),
    40164: (ServiceUnavailable, "wechat_misconfigured", "微信服务配置有误，请联系管理员"),
    40029: (ValidationFailed, "wechat_code_invalid", "微信凭证无效或已过期，请重试"),
    40226: (Forbidden, "wechat_user_blocked", "该微信账号存在风险，暂不能使用"),
}


class WeChatError(Exception):
    """An errcode WeChat answered, kept for callers that record it (the outbox) rather than show it."""

    def __init__(self, errcode: int):
        super().__init__(errcode)
        self.errcode = errcode


def wechat_error(kind: tuple[type[AppError], str, str]) -> AppError:
    """A fresh error for one of the kinds above, with Retry-After where waiting helps."""
    cls, error, message = kind
    retry = _RETRY_AFTER.get(cls)
    return cls(error, message, headers={"Retry-After": retry} if retry else None)


def as_app_error(exc: WeChatError, specific: dict | None = None) -> AppError:
    """The envelope error for an errcode: the API's own meaning first, then the shared ones."""
    return wechat_error({**COMMON, **(specific or {})}.get(exc.errcode, UNKNOWN))


def _post(path: str, params: dict, body: dict) -> requests.Response:
    cfg = current_app.config
    try:
        reply = requests.post(f"{cfg['WECHAT_API_BASE'].rstrip('/')}{path}", params=params, json=body,
                              timeout=cfg["WECHAT_TIMEOUT_SECONDS"])
    except requests.Timeout:
        log.warning("%s timed out", path)
        raise wechat_error(TIMEOUT) from None
    except requests.RequestException as exc:
        log.warning("%s unreachable: %s", path, type(exc).__name__)
        raise wechat_error(UNAVAILABLE) from None
    if reply.status_code != 200:
        log.warning("%s answered HTTP %s", path, reply.status_code)
        raise wechat_error(UNAVAILABLE)
    return reply


def _json(path: str, reply: requests.Response) -> dict:
    """The reply as a JSON object; an errcode other than 0 raises WeChatError."""
    try:
        body = reply.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        log.warning("%s reply is not a JSON object", path)
        raise wechat_error(BAD_REPLY)
    try:
        errcode = int(body.get("errcode") or 0)
    except (TypeError, ValueError):
        raise wechat_error(BAD_REPLY) from None
    if errcode:
        log.warning("%s errcode=%s", path, errcode)
        raise WeChatError(errcode)
    return body


def access_token(*, force: bool = False) -> str:
    """The mini-program's access_token (stable_token), cached until _TOKEN_MARGIN before it expires."""
    memo = current_app.extensions.setdefault("wechat_token", {})
    if not force:
        hit = memo.get("token") if memo.get("until", 0) > time.time() else cache.get_json(_TOKEN_KEY)
        if hit:
            return hit
    cfg = current_app.config
    body = {"grant_type": "client_credential", "appid": cfg["WECHAT_APPID"], "secret": cfg["WECHAT_SECRET"],
            "force_refresh": force}
    try:
        reply = _json("/cgi-bin/stable_token", _post("/cgi-bin/stable_token", {}, body))
    except WeChatError as exc:
        raise as_app_error(exc) from None
    token, expires_in = reply.get("access_token"), reply.get("expires_in")
    if not isinstance(token, str) or not token or not isinstance(expires_in, int):
        raise wechat_error(BAD_REPLY)
    keep = max(1, expires_in - _TOKEN_MARGIN)
    memo.update(token=token, until=time.time() + keep)
    cache.set_json(_TOKEN_KEY, token, ttl=keep)
    return token


def call(path: str, body: dict, *, binary: bool = False):
    """POST body to a server API with the access_token: its JSON object, or (binary) the bytes it answered when
    they are not JSON. An errcode raises WeChatError; a bad token is refreshed and the call retried once."""
    for attempt in (0, 1):
        reply = _post(path, {"access_token": access_token(force=attempt == 1)}, body)
        if binary and not reply.headers.get("Content-Type", "").startswith(("application/json", "text/plain")):
            return reply.content
        try:
            return _json(path, reply)
        except WeChatError as exc:
            if exc.errcode not in _BAD_TOKEN or attempt:
                raise
            current_app.extensions.setdefault("wechat_token", {}).clear()
    raise AssertionError("unreachable")


def configured() -> bool:
    """Whether the real WeChat is configured (else the fake backend of development and tests)."""
    return current_app.config["WECHAT_BACKEND"] == "real"
