"""SMS senders: pluggable; `console` (development and testing only) logs the code instead of sending it."""
import logging

from flask import current_app

from app.common.masking import mask_phone

log = logging.getLogger("jiefang.sms")


class SmsSender:
    """Interface: send a sign-in code to a phone; returns whether the code may be echoed (dev only)."""

    echoes_code = False

    def send_code(self, phone: str, code: str) -> None:
        raise NotImplementedError


class ConsoleSender(SmsSender):
    """Development sender: writes the code to the log (phone masked) and echoes it as debug_code."""

    echoes_code = True

    def send_code(self, phone: str, code: str) -> None:
        log.info("sms code for %s: %s", mask_phone(phone), code)


class HttpGatewaySender(SmsSender):
    """Production sender: POSTs {"phone", "template", "params"} to the operator's SMS gateway."""

    def __init__(self, url: str, token: str, timeout: float = 3.0):
        self.url, self.token, self.timeout = url, token, timeout

    def send_code(self, phone: str, code: str) -> None:
        import requests

        from app.errors import ServiceUnavailable

        try:
            reply = requests.post(self.url, json={"phone": phone, "template": "login_code", "params": {"code": code}},
                                  headers={"Authorization": f"Bearer {self.token}"}, timeout=self.timeout)
            reply.raise_for_status()
        except requests.RequestException:
            log.warning("sms gateway failed for %s", mask_phone(phone))
            raise ServiceUnavailable("sms_unavailable", "短信发送失败，请稍后再试") from None


def sender() -> SmsSender:
    """The configured sender; an unknown SMS_BACKEND is an error, never a silent fall back to `console`."""
    cfg = current_app.config
    if cfg["SMS_BACKEND"] == "http":
        return HttpGatewaySender(cfg["SMS_GATEWAY_URL"], cfg["SMS_GATEWAY_TOKEN"])
    if cfg["SMS_BACKEND"] == "console":
        return ConsoleSender()
    raise RuntimeError(f"unknown SMS_BACKEND {cfg['SMS_BACKEND']!r}")
