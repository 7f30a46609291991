"""Route helpers over the API's Blueprint: `hot_route`, the decorator stack of the hot paths in its one order.

A hot view answers in one Redis round trip and a statement or two, and that depends on the order of its
decorators: `autocommit` must see the request before anything opens a session, the cache prefetch must queue its
keys before `require` reads the token's revocation state (the same Redis MGET carries them), idempotency needs
the caller that `require` loaded, and flask-smorest's `arguments` and `response` sit next to the view.
`hot_route` applies them in that order; `layers(view)` names the known decorators a view carries, outermost
first, and `misordered(view)` says whether they break the order (tests/platform/test_hot_routes.py checks every
view)."""
from typing import Callable

import marshmallow as ma

from app.auth.access import require
from app.common import cache
from app.common.blueprint import Blueprint
from app.common.sql import autocommit
from app.errors import doc_errors
from app.ops.idempotency import idempotent as honour_idempotency_key

HOT_ROUTE = "jiefang_hot_route"  # set on the view function hot_route registers
ORDER = ("autocommit", "prefetch", "require", "idempotent", "arguments", "response")


def hot_route(blp: Blueprint, rule: str, *, method: str, response: tuple, roles: tuple[str, ...] = (),
              fresh: bool = False, keys: Callable[..., list[str]] | None = None,
              caller_keys: Callable[..., list[str]] | None = None, idempotent: bool = False,
              arguments=None, alt_response: tuple | None = None, errors: tuple[int, ...] = ()):
    """Register a hot view on blp: route, autocommit, prefetch of `keys` (by view arguments) or `caller_keys`
    (by caller id), `require(*roles)`, idempotency, arguments, `response=(status, schema)`,
    `alt_response=(status, schema, description)`, documented error statuses: outermost first."""
    if keys is not None and caller_keys is not None:
        raise TypeError("hot_route: give keys or caller_keys, not both")

    def decorator(view):
        if layers(view):
            raise TypeError(f"hot_route({rule}): pass the bare view; it applies {', '.join(ORDER)} itself")
        wrapped = doc_errors(*errors)(view)
        if alt_response is not None:
            status, schema, description = alt_response
            wrapped = blp.alt_response(status, schema=schema, description=description)(wrapped)
        wrapped = blp.response(*response)(wrapped)
        if arguments is not None:
            wrapped = blp.arguments(arguments)(wrapped)
        if idempotent:
            wrapped = honour_idempotency_key(wrapped)
        wrapped = require(*roles, fresh=fresh)(wrapped)
        if keys is not None:
            wrapped = cache.prefetch(keys)(wrapped)
        if caller_keys is not None:
            wrapped = cache.prefetch_for_caller(caller_keys)(wrapped)
        wrapped = autocommit(wrapped)
        setattr(wrapped, HOT_ROUTE, True)
        return blp.route(rule, methods=[method])(wrapped)

    return decorator


def _layer_codes() -> dict:
    """The code object of each known decorator's wrapper (shared by every view it wraps) → its name."""
    blp = Blueprint("layers", __name__)

    def bare(*_args, **_kwargs):
        return None

    made = {"autocommit": autocommit(bare), "prefetch": cache.prefetch(list)(bare),
            "prefetch_for_caller": cache.prefetch_for_caller(list)(bare), "require": require()(bare),
            "idempotent": honour_idempotency_key(bare), "arguments": blp.arguments(ma.Schema)(bare),
            "response": blp.response(200)(bare)}
    return {wrapper.__code__: name for name, wrapper in made.items()}


_CODES: dict = {}


def layers(view) -> list[str]:
    """The known decorators around view, outermost first (both prefetch kinds are named `prefetch`)."""
    if not _CODES:
        _CODES.update(_layer_codes())
    found, func = [], view
    while func is not None:
        name = _CODES.get(getattr(func, "__code__", None))
        if name is not None:
            found.append("prefetch" if name == "prefetch_for_caller" else name)
        func = getattr(func, "__wrapped__", None)
    return found


def misordered(view) -> str | None:
    """Why view's decorators are wrong, or None: known layers out of ORDER, or hot layers (autocommit,
    prefetch) applied by hand instead of through hot_route."""
    found = layers(view)
    if [ORDER.index(name) for name in found] != sorted(ORDER.index(name) for name in found):
        return f"decorators {found} are not in the order {list(ORDER)}"
    if {"autocommit", "prefetch"} & set(found) and not getattr(view, HOT_ROUTE, False):
        return "autocommit or a cache prefetch applied by hand: use app.api.hot_route"
    return None
