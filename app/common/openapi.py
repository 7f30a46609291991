"""The OpenAPI document as a client generator needs it, and Swagger UI served from the package's own files.

An apispec plugin gives every operation an operationId (from its endpoint), a Chinese summary (the docstring, or
`summaries.SUMMARIES`), the method-override header where wx.request needs it, and `x-error-codes`: the stable
`error` codes the operation can answer, by status, found by reading the view and the app functions it calls."""
import ast
import inspect
import os
import re
import textwrap
from http import HTTPStatus

from apispec import BasePlugin
from flask import send_from_directory

from app.common.method_override import HEADER, OVERRIDABLE
from app.common.summaries import SUMMARIES

ERROR_STATUSES = {"BadRequest": 400, "Unauthorized": 401, "Forbidden": 403, "NotFound": 404, "Conflict": 409,
                  "Gone": 410, "ValidationFailed": 422, "TooManyRequests": 429, "ServiceUnavailable": 503}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_AUTH = ["token_missing", "token_invalid", "token_expired", "token_revoked", "user_not_found", "account_disabled"]
DESCRIPTION = (
    "广州街坊 API。请求与响应均为 JSON；错误统一为 {code, status, error, message, …}，`error` 为稳定的错误码，"
    "各接口可能返回的错误码见其 `x-error-codes`。\n\n"
    f"wx.request 没有 PATCH：以 POST 发送，并带请求头 `{HEADER}: PATCH`（或 DELETE），服务端按该方法处理；"
    "其他改写一律 400 method_override_invalid。\n\n"
    "位置坐标：请求中的 lat/lng 默认为 GCJ-02，可用 coord_type=wgs84 声明 WGS-84（服务端换算）。\n\n"
    "令牌：401 时用刷新令牌换新令牌后重试；403 fresh_token_required 表示需要重新登录，不应刷新重试。")


def _resolve(node, scope):
    if isinstance(node, ast.Name):
        return scope.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, scope)  # modules and classes only: proxies (current_user) need a request
        return getattr(base, node.attr, None) if inspect.ismodule(base) or inspect.isclass(base) else None
    return None


def _error_of(node) -> tuple[int, str] | None:
    """(status, code) of `Forbidden("code", …)` or of a `(Forbidden, "code", "message")` kind."""
    if isinstance(node, ast.Call):
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        first = node.args[0] if node.args else None
    elif isinstance(node, ast.Tuple) and len(node.elts) == 3:
        name, first = getattr(node.elts[0], "id", None), node.elts[1]
    else:
        return None
    if name in ERROR_STATUSES and isinstance(first, ast.Constant) and isinstance(first.value, str):
        return ERROR_STATUSES[name], first.value
    return None


def error_codes(func, depth: int = 4, seen: set | None = None) -> set[tuple[int, str]]:
    """The (status, error code) pairs raised in func and the app functions it calls, `depth` calls deep."""
    seen = seen if seen is not None else set()
    func = inspect.unwrap(func)
    if func in seen or not inspect.isfunction(func) or not func.__module__.startswith("app."):
        return set()
    seen.add(func)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return set()
    found = set()
    for node in ast.walk(tree):
        if (pair := _error_of(node)) is not None:
            found.add(pair)
        if depth and isinstance(node, ast.Call):
            found |= error_codes(_resolve(node.func, func.__globals__), depth - 1, seen)
    return found


class ClientDocs(BasePlugin):
    """operationId, Chinese summary, override header and error codes on every operation."""

    def __init__(self, app_views):
        self.app_views = app_views  # () -> {endpoint: view function}

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        if rule is None:
            return
        view = self.app_views().get(rule.endpoint)
        for method, operation in operations.items():
            operation["operationId"] = _camel(rule.endpoint) + ("" if len(operations) == 1 else method.title())
            summary = operation.get("summary") or ""
            if not _CJK.match(summary[:1] or " "):
                operation["description"] = "\n\n".join(filter(None, [summary, operation.get("description")]))
                operation["summary"] = SUMMARIES.get(rule.endpoint, summary)
            if method.upper() in OVERRIDABLE:
                operation.setdefault("parameters", []).append({
                    "name": HEADER, "in": "header", "required": False, "schema": {"type": "string",
                                                                                   "enum": [method.upper()]},
                    "description": f"wx.request 无 {method.upper()}：改用 POST 并带此请求头"})
            if view is not None:
                operation["x-error-codes"] = _codes(view, operation)


def _camel(endpoint: str) -> str:
    words = re.split(r"[._]", endpoint)
    return words[0] + "".join(w.title() for w in words[1:])


def _codes(view, operation) -> dict[str, list[str]]:
    codes: dict[int, set[str]] = {}
    for status, code in error_codes(view):
        codes.setdefault(status, set()).add(code)
    documented = {int(s) for s in operation.get("responses", {}) if str(s).isdigit()}
    if 401 in documented:
        codes.setdefault(401, set()).update(_AUTH)
    if 422 in documented or operation.get("requestBody") or operation.get("parameters"):
        codes.setdefault(422, set()).add("validation_failed")
    for status in documented:
        if status >= 400:
            codes.setdefault(status, set())
    return {str(status): sorted(found or {_default(status)}) for status, found in sorted(codes.items())}


def _default(status: int) -> str:
    from app.errors import DEFAULTS

    return DEFAULTS.get(status, (HTTPStatus(status).name.lower(), ""))[0]


def init_swagger_ui(app) -> None:
    """Serve Swagger UI's files from the pinned swagger-ui-bundle package (no CDN: blank page offline, slow in
    mainland China) under OPENAPI_SWAGGER_UI_URL."""
    import swagger_ui_bundle

    root = swagger_ui_bundle.swagger_ui_path
    prefix = app.config["OPENAPI_SWAGGER_UI_URL"]
    app.add_url_rule(f"{prefix}<path:filename>", "swagger_ui_files",
                     lambda filename: send_from_directory(root, filename, max_age=86400))
    assert os.path.exists(os.path.join(root, "swagger-ui-bundle.js"))
