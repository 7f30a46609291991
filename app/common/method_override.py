"""wx.request has no PATCH: a POST with `X-HTTP-Method-Override: PATCH` (or DELETE) is routed as that method.

A WSGI seam, so routing, the access checks and the OpenAPI-documented view all see the overridden method. Only
POST may be overridden and only to PATCH or DELETE; any other value is refused (400) before any view runs."""
from flask import request

from app.errors import BadRequest

HEADER = "X-HTTP-Method-Override"
OVERRIDABLE = frozenset({"PATCH", "DELETE"})
# The methods wx.request can send (its `method` option).
WX_REQUEST_METHODS = frozenset({"OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT"})
_ENVIRON_KEY = "HTTP_" + HEADER.upper().replace("-", "_")
_REFUSED = "jiefang.method_override_refused"


class MethodOverride:
    """WSGI middleware: rewrite REQUEST_METHOD for an allowed override; mark a refused one for `refuse_bad`."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        wanted = environ.get(_ENVIRON_KEY)
        if wanted is not None:
            wanted = wanted.strip().upper()
            if environ.get("REQUEST_METHOD") == "POST" and wanted in OVERRIDABLE:
                environ["REQUEST_METHOD"] = wanted
                environ["jiefang.method_overridden"] = "POST"
            elif wanted != environ.get("REQUEST_METHOD"):
                environ[_REFUSED] = wanted
        return self.wsgi_app(environ, start_response)


def refuse_bad() -> None:
    """before_request: an override that is not POST → PATCH|DELETE is a 400, never silently ignored (a method or
    path the route does not have is still its 405 or 404)."""
    if _REFUSED in request.environ and request.routing_exception is None:
        raise BadRequest("method_override_invalid", "X-HTTP-Method-Override 仅允许 POST 改写为 PATCH 或 DELETE")


def init_method_override(app) -> None:
    """Wrap the WSGI app and refuse bad overrides before any view."""
    app.wsgi_app = MethodOverride(app.wsgi_app)
    app.before_request(refuse_bad)
