"""Headers every response carries: `X-Content-Type-Options: nosniff` everywhere, and `Cache-Control: no-store`
on every /api/v1 response, personal data or not, except the public ones listed here (a view that sets its own
Cache-Control, like the public keys or the poster, keeps it)."""
from flask import request

API_PREFIX = "/api/v1/"
# Endpoints whose answers are the same for everyone and hold nothing personal: caches may keep them.
PUBLIC_CACHEABLE = frozenset({
    "api-docs.openapi_json", "api-docs.openapi_swagger_ui", "areas.list_areas", "areas.get_area",
    "health_codes.public_keys", "volunteers.list_trades", "volunteers.list_interests",
})


def _security_headers(response):
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    if ("Cache-Control" not in headers and request.path.startswith(API_PREFIX)
            and request.endpoint not in PUBLIC_CACHEABLE):
        headers["Cache-Control"] = "no-store"
    return response


def init_security_headers(app) -> None:
    """Attach the header hook (after the others, so that it sees the final response)."""
    app.after_request(_security_headers)
