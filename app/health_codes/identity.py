"""实名核验: the identity provider a code's holder is checked against, behind one interface.

`IDENTITY_BACKEND=http` calls the configured real-name gateway: the carriers' three-element check (name + ID number
+ the mobile registered to that ID) for a self code, the two-element check (name + ID number) for a family code.
Its protocol: POST {IDENTITY_GATEWAY_URL}/three-element {"name", "id_type", "id_number", "mobile"} or
/two-element {"name", "id_type", "id_number"} with `Authorization: Bearer IDENTITY_GATEWAY_TOKEN`; HTTP 200
{"result": "match" | "mismatch"}. Timeouts, connection errors and 5xx are retried (IDENTITY_RETRIES more times);
then, and on any other answer, the check is `identity_unavailable` (503) and the caller saves nothing.

`IDENTITY_BACKEND=fake` (development and tests only) matches every checksum-valid document except those whose
sequence digits (positions 15-17) are "000", which always mismatch, and, for the three-element check, a document
listed in IDENTITY_FAKE_OWNERS ("id_number:mobile,...") with another mobile."""
import logging
import time

import requests
from flask import current_app

from app.common.masking import mask_id_number
from app.errors import ServiceUnavailable, ValidationFailed

log = logging.getLogger("jiefang.identity")
FAKE_MISMATCH_SEQUENCE = "000"


def mismatch() -> ValidationFailed:
    return ValidationFailed("identity_mismatch", "姓名、证件号码与手机号码实名信息不一致，请核对后重试")


def unavailable() -> ServiceUnavailable:
    return ServiceUnavailable("identity_unavailable", "实名核验服务暂时不可用，请稍后再试",
                              headers={"Retry-After": "30"})


class IdentityProvider:
    """Interface: raise identity_mismatch unless the holder's data match; identity_unavailable when unsure."""

    def check(self, *, name: str, id_type: str, id_number: str, mobile: str | None) -> None:
        """Three-element check with a mobile, two-element without."""
        raise NotImplementedError


class FakeIdentity(IdentityProvider):
    """Development provider (see the module doc for which documents mismatch)."""

    def __init__(self, owners: str = ""):
        self.owners = dict(pair.split(":", 1) for pair in owners.split(",") if ":" in pair)

    def check(self, *, name: str, id_type: str, id_number: str, mobile: str | None) -> None:
        if id_number[14:17] == FAKE_MISMATCH_SEQUENCE:
            raise mismatch()
        if mobile is not None and self.owners.get(id_number, mobile) != mobile:
            raise mismatch()


class HttpIdentity(IdentityProvider):
    """Production provider: the real-name gateway (see the module doc)."""

    def __init__(self, url: str, token: str, timeout: float, retries: int):
        self.url, self.token, self.timeout, self.retries = url.rstrip("/"), token, timeout, retries

    def check(self, *, name: str, id_type: str, id_number: str, mobile: str | None) -> None:
        path, body = "/two-element", {"name": name, "id_type": id_type, "id_number": id_number}
        if mobile is not None:
            path, body = "/three-element", {**body, "mobile": mobile}
        result = self._ask(path, body)
        if result == "mismatch":
            raise mismatch()
        if result != "match":
            log.warning("identity gateway gave no verdict for %s", mask_id_number(id_number))
            raise unavailable()

    def _ask(self, path: str, body: dict) -> str | None:
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(0.2 * 2 ** (attempt - 1), 1.0))
            try:
                reply = requests.post(self.url + path, json=body, timeout=self.timeout,
                                      headers={"Authorization": f"Bearer {self.token}"})
            except requests.RequestException as exc:
                log.warning("identity gateway %s failed: %s", path, type(exc).__name__)
                continue
            if reply.status_code >= 500:
                log.warning("identity gateway %s answered HTTP %s", path, reply.status_code)
                continue
            try:
                answer = reply.json() if reply.status_code == 200 else None
            except ValueError:
                answer = None
            return answer.get("result") if isinstance(answer, dict) else None
        return None


def provider() -> IdentityProvider:
    """The configured provider; an unknown IDENTITY_BACKEND is an error, never a silent fall back to `fake`."""
    cfg = current_app.config
    if cfg["IDENTITY_BACKEND"] == "http":
        return HttpIdentity(cfg["IDENTITY_GATEWAY_URL"], cfg["IDENTITY_GATEWAY_TOKEN"],
                            cfg["IDENTITY_TIMEOUT_SECONDS"], cfg["IDENTITY_RETRIES"])
    if cfg["IDENTITY_BACKEND"] == "fake":
        return FakeIdentity(cfg.get("IDENTITY_FAKE_OWNERS", ""))
    raise RuntimeError(f"unknown IDENTITY_BACKEND {cfg['IDENTITY_BACKEND']!r}")
