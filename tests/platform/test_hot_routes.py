"""The hot routes' decorator stack (app/api.py): every view's decorators in the one order, hot views built by
`hot_route`, and misuse refused."""
import marshmallow as ma
import pytest

from app.api import HOT_ROUTE, ORDER, hot_route, layers, misordered
from app.auth.access import require
from app.common import cache
from app.common.blueprint import Blueprint
from app.common.sql import autocommit

HOT = {"POST /api/v1/health-codes/verify", "GET /api/v1/health-codes/<int:code_id>/token",
       "POST /api/v1/checkins", "POST /api/v1/patrols/checkins", "POST /api/v1/admin/tracing"}


class Body(ma.Schema):
    name = ma.fields.String(required=True)


def _views(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield f"{method} {rule.rule}", app.view_functions[rule.endpoint]


def test_every_view_has_its_decorators_in_order(app):
    wrong = {name: misordered(view) for name, view in _views(app) if misordered(view)}
    assert wrong == {}


def test_the_hot_routes_are_built_by_hot_route(app):
    hot = {name for name, view in _views(app) if getattr(view, HOT_ROUTE, False)}
    assert hot == HOT
    for name, view in _views(app):
        if name in HOT:
            assert layers(view)[:3] == ["autocommit", "prefetch", "require"] or \
                layers(view)[:2] == ["autocommit", "require"], name


def test_hot_route_applies_the_whole_stack_outermost_first():
    blp = Blueprint("hot_test", __name__, url_prefix="/t")

    @hot_route(blp, "/x", method="POST", keys=lambda: ["k"], roles=("resident",), idempotent=True,
               arguments=Body, response=(201, Body), alt_response=(200, Body, "again"), errors=(409,))
    def create(data):
        return data

    assert layers(create) == list(ORDER)
    assert misordered(create) is None
    assert getattr(create, HOT_ROUTE)
    assert blp._endpoints == ["create"]


def test_a_prefetch_below_require_is_reported():
    @autocommit
    @require()
    @cache.prefetch(lambda: ["k"])
    def view():
        return None

    assert misordered(view).startswith("decorators ['autocommit', 'require', 'prefetch'] are not in the order")


def test_arguments_above_require_are_reported():
    blp = Blueprint("order_test", __name__)

    @blp.arguments(Body)
    @require()
    def view(data):
        return data

    assert "not in the order" in misordered(view)


def test_a_hot_stack_built_by_hand_is_reported_even_in_order():
    @autocommit
    @cache.prefetch(lambda: ["k"])
    @require()
    def view():
        return None

    assert layers(view) == ["autocommit", "prefetch", "require"]
    assert misordered(view) == "autocommit or a cache prefetch applied by hand: use app.api.hot_route"


def test_hot_route_refuses_a_view_already_decorated():
    blp = Blueprint("refuse_test", __name__)
    with pytest.raises(TypeError, match="pass the bare view"):
        @hot_route(blp, "/x", method="GET", response=(200,))
        @require()
        def view():
            return None


def test_hot_route_refuses_both_kinds_of_prefetch():
    blp = Blueprint("both_test", __name__)
    with pytest.raises(TypeError, match="keys or caller_keys"):
        hot_route(blp, "/x", method="GET", response=(200,), keys=list, caller_keys=list)
