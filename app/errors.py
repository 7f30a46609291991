"""The one error envelope: every 4xx/5xx the API returns is {code, status, error, message, errors?}."""
import logging
from http import HTTPStatus
from itertools import islice

import flask_smorest
import marshmallow as ma
from flask import current_app, jsonify
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from app.ops import metrics

log = logging.getLogger("jiefang.errors")

# Default `error` code and Chinese message per HTTP status, for errors that carry none of their own.
DEFAULTS = {
    400: ("bad_request", "请求格式有误"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "请求的资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "数据冲突，请刷新后重试"),
    410: ("gone", "资源已失效"),
    413: ("payload_too_large", "提交的内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    422: ("validation_failed", "提交的数据有误，请检查后重试"),
    429: ("rate_limited", "操作过于频繁，请稍后再试"),
    500: ("internal_error", "服务器开小差了，请稍后再试"),
    503: ("service_unavailable", "服务暂不可用，请稍后再试"),
}


class AppError(Exception):
    """An error a service raises on purpose; carries status, a stable code and a Chinese message."""

    status = 400
    error = "bad_request"
    message = "请求有误"

    def __init__(self, error: str | None = None, message: str | None = None, *, errors: dict | None = None,
                 extra: dict | None = None, headers: dict | None = None):
        super().__init__(error or self.error)
        self.error = error or self.error
        self.message = message or self.message
        self.errors = errors
        self.extra = extra or {}
        self.headers = headers or {}


class BadRequest(AppError):
    status, error, message = 400, "bad_request", "请求格式有误"


class Unauthorized(AppError):
    status, error, message = 401, "unauthorized", "请先登录"


class Forbidden(AppError):
    status, error, message = 403, "forbidden", "无权执行此操作"


class NotFound(AppError):
    status, error, message = 404, "not_found", "请求的资源不存在"


class Conflict(AppError):
    status, error, message = 409, "conflict", "数据冲突，请刷新后重试"


class Gone(AppError):
    status, error, message = 410, "gone", "资源已失效"


class ValidationFailed(AppError):
    status, error, message = 422, "validation_failed", "提交的数据有误，请检查后重试"


class TooManyRequests(AppError):
    status, error, message = 429, "rate_limited", "操作过于频繁，请稍后再试"


class ServiceUnavailable(AppError):
    status, error, message = 503, "service_unavailable", "服务暂不可用，请稍后再试"


class ErrorSchema(ma.Schema):
    """The error envelope (documentation only); some errors carry more fields (additionalProperties)."""

    class Meta:
        unknown = ma.INCLUDE  # documented as additionalProperties: true

    code = ma.fields.Integer(required=True, metadata={"description": "HTTP status code"})
    status = ma.fields.String(required=True, metadata={"description": "HTTP status name"})
    error = ma.fields.String(required=True, metadata={"description": "Stable snake_case error code"})
    message = ma.fields.String(required=True, metadata={"description": "Message in Simplified Chinese"})
    errors = ma.fields.Dict(metadata={"description": "Field errors, by location then field"})
    retry_after = ma.fields.Integer(metadata={"description": "429/503：建议多少秒后重试（同 Retry-After）"})
    distance_m = ma.fields.Integer(metadata={"description": "outside_geofence：与集合点的距离（米）"})
    allowed_m = ma.fields.Integer(metadata={"description": "outside_geofence：允许的距离（米）"})
    opens_at = ma.fields.DateTime(metadata={"description": "outside_time_window：可签到的开始时间"})
    health_code_id = ma.fields.String(metadata={"description": "health_code_exists：本人已有的健康码"})


def envelope(status: int, error: str | None = None, message: str | None = None, errors=None, extra=None,
             headers=None):
    """Build the JSON error response."""
    default_error, default_message = DEFAULTS.get(status, DEFAULTS[500] if status >= 500 else DEFAULTS[400])
    body = {"code": status, "status": HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_
            else "Error", "error": error or default_error, "message": message or default_message}
    if errors:
        body["errors"] = errors
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _http_exception(error: HTTPException):
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    code = None
    if status == 400 and errors:
        return envelope(400, "malformed_json", "请求体不是有效的 JSON", errors={"json": ["请求体不是有效的 JSON"]})
    if status >= 500:
        original = getattr(error, "original_exception", None)
        if original is not None:
            log.error("unhandled error", exc_info=original)
    headers = dict(data.get("headers") or {})
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    if status == 429:
        metrics.RATE_LIMITED.labels(metrics.route()).inc()
        if getattr(error, "retry_after", None):
            headers["Retry-After"] = str(error.retry_after)
    return envelope(status, code, None, errors=capped(errors) if status == 422 else None, headers=headers)


MAX_LISTED_ERRORS = 20  # per level of an error dict: a body with 100,000 unknown fields answers in a few lines
_MAX_KEY_LENGTH = 64


def capped(errors):
    """Field errors with at most MAX_LISTED_ERRORS entries per level, each key cut to a readable length."""
    if isinstance(errors, dict):
        return {str(key)[:_MAX_KEY_LENGTH]: capped(value)
                for key, value in islice(errors.items(), MAX_LISTED_ERRORS)}
    if isinstance(errors, list):
        return [capped(value) for value in errors[:MAX_LISTED_ERRORS]]
    return errors


class Api(flask_smorest.Api):
    """flask-smorest's Api, answering every HTTP error with the envelope."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return _http_exception(error)


def _app_error(error: AppError):
    return envelope(error.status, error.error, error.message, errors=error.errors, extra=error.extra,
                    headers=error.headers)


def _integrity_error(error: IntegrityError):
    from app.extensions import db

    db.session.rollback()
    log.warning("integrity error: %s", type(error.orig).__name__)
    return envelope(409)


def _data_error(error: DataError):
    """A value the database cannot hold (a NUL character, a number out of range) that validation let through."""
    from app.extensions import db

    db.session.rollback()
    log.warning("data error: %s", type(error.orig).__name__)
    return envelope(422, "value_invalid", "提交的数据超出允许范围")


# SQLSTATEs of a server that is going away or not yet taking connections (class 08 is the connection itself).
_UNAVAILABLE_STATES = ("57P01", "57P02", "57P03")


def database_fault(error: Exception) -> str | None:
    """The fault's class name when an error means the database cannot be reached (refused, terminated, the pool
    exhausted), else None: a deadlock or a bad statement is not an outage."""
    if isinstance(error, PoolTimeout):
        return type(error).__name__
    if not isinstance(error, DBAPIError) or isinstance(error, IntegrityError):
        return None
    state = getattr(error.orig, "sqlstate", None)
    if error.connection_invalidated or state is None or state.startswith("08") or state in _UNAVAILABLE_STATES:
        return type(error.orig).__name__ if error.orig is not None else type(error).__name__
    return None


def _database_error(error: Exception):
    fault = database_fault(error)
    if fault is None:
        return _unexpected(error)
    from app.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 — the connection is gone already; the pool replaces it
        pass
    metrics.DATABASE_UNAVAILABLE.labels(fault).inc()
    log.warning("database unavailable: %s", fault)  # one line, no traceback: an outage must not flood the log
    return envelope(503, "database_unavailable", "系统繁忙，请稍后再试",
                    headers={"Retry-After": str(current_app.config["DATABASE_RETRY_AFTER_SECONDS"])})


def _unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _http_exception(error)
    log.error("unhandled error", exc_info=error)
    return envelope(500)


def register_error_handlers(app) -> None:
    """Make every error, from any layer, leave as the envelope."""
    app.register_error_handler(AppError, _app_error)
    app.register_error_handler(IntegrityError, _integrity_error)
    app.register_error_handler(DataError, _data_error)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(PoolTimeout, _database_error)
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(Exception, _unexpected)


def doc_errors(*statuses: int, security: bool = False):
    """Document error responses (and optionally bearer auth) of a view in the OpenAPI spec."""

    def decorator(func):
        doc = getattr(func, "_apidoc", {})
        responses = doc.setdefault("response", {}).setdefault("responses", {})
        for status in statuses:
            ref = HTTPStatus(status).name
            if ref not in responses.setdefault(status, []):
                responses[status].append(ref)
        if security:
            doc.setdefault("manual_doc", {})["security"] = [{"bearerAuth": []}]
        func._apidoc = doc
        return func

    return decorator
