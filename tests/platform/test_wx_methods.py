"""wx.request lacks PATCH: every route stays reachable (POST + X-HTTP-Method-Override), and the seam is strict."""
import pytest

from app.common.method_override import HEADER, OVERRIDABLE, WX_REQUEST_METHODS
from tests.auth_flows import envelope


def test_every_route_is_reachable_from_wx_request(app):
    unreachable = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method not in WX_REQUEST_METHODS and method not in OVERRIDABLE:
                unreachable.append(f"{method} {rule.rule}")
    assert unreachable == []
    assert any("PATCH" in rule.methods for rule in app.url_map.iter_rules())  # the override is still needed


def test_spec_documents_the_override(app):
    spec = app.extensions["jiefang_openapi"] if "jiefang_openapi" in app.extensions else None
    client = app.test_client()
    doc = client.get("/api/v1/openapi.json").get_json()
    assert HEADER in doc["info"]["description"]
    for path, item in doc["paths"].items():
        if "patch" in item:
            names = [p.get("name") for p in item["patch"].get("parameters", [])]
            assert HEADER in names or HEADER in item["patch"].get("description", ""), path
    assert spec is None or spec


@pytest.mark.parametrize("method, value, path", [("GET", "PATCH", "/api/v1/groups/1"),
                                                 ("POST", "PUT", "/api/v1/groups/1/members"),
                                                 ("POST", "GET", "/api/v1/groups/1/members"),
                                                 ("DELETE", "PATCH", "/api/v1/groups/1/members/2"),
                                                 ("POST", "TRACE", "/api/v1/groups/1/members")])
def test_other_overrides_are_refused(app, db, login, method, value, path):
    _, headers = login("organiser")
    r = app.test_client().open(path, method=method, headers={**headers, HEADER: value})
    envelope(r, 400, "method_override_invalid")


def test_override_to_a_method_the_route_lacks_is_405(app, login):
    _, headers = login("resident")
    r = app.test_client().post("/api/v1/me", headers={**headers, HEADER: "PATCH"})
    envelope(r, 405, "method_not_allowed")
