"""One log line per request: request id, method, path, status, duration. Never query strings or bodies; the path
is escaped like every logged value (app.common.log_safety), so `%0A` in it cannot start a forged line."""
import logging
import re
import time
import uuid

from flask import g, request

from app.common import log_safety

log = logging.getLogger("jiefang.request")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _start():
    g.request_started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex


def _finish(response):
    duration_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
    rid = g.get("request_id") or uuid.uuid4().hex
    response.headers["X-Request-ID"] = rid
    user_id = g.get("user_id")
    log.info("rid=%s method=%s path=%s status=%s duration_ms=%.1f user=%s", rid, request.method,
             request.path, response.status_code, duration_ms, user_id if user_id is not None else "-")
    return response


def init_request_log(app) -> None:
    """Attach the request-id and access-log hooks."""
    log_safety.install()
    app.before_request(_start)
    app.after_request(_finish)
    # werkzeug's own access line carries the query string (names, phones in ?q=): ours replaces it.
    # urllib3 logs every outgoing URL at DEBUG, query string included (WeChat's secret and login code).
    for noisy in ("werkzeug", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not logging.getLogger().handlers and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
