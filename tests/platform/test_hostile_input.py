"""Hostile input answers the 4xx envelope, never a 500: forged pagination cursors, NUL characters in the path,
the query or the body, JSON nested past what the parser can take, and the engine keeps values out of its errors."""
import base64
import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DataError, StatementError

from app.areas.models import Area
from app.common.input_guard import MAX_JSON_DEPTH
from app.volunteers.models import Group
from tests import factories
from tests.volunteer_helpers import profile_body


def cursor(key) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


FORGED = [["x", "y"], [True, False], ["44010600100101", "not a number"], ["44010600100101", -1],
          ["44010600100101", 2**70], [None, None], [1.5, 2.5], ["' OR 1=1 --", "1"], [[], {}],
          ["\u0000", "1"], ["1"] * 3]


@pytest.fixture
def everyone():
    user = factories.user(roles=[(role, "4401") for role in
                                 ("resident", "volunteer", "organiser", "venue_staff", "health_official", "admin")])
    return user, factories.auth_headers(user)


@pytest.fixture
def code_id(client, everyone):
    r = client.post("/api/v1/health-codes", headers=everyone[1], json={
        "name": "张三明", "id_type": "cn_resident_id", "id_number": factories.id_number(), "relation": "self",
        "consent": True})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


@pytest.mark.parametrize("key", FORGED + [[2**80], ["9" * 30], ["-5"], [0]], ids=repr)
@pytest.mark.parametrize("path", ["/api/v1/volunteers?area=4401", "/api/v1/venues?area=4401", "/api/v1/groups",
                                  "/api/v1/health-codes/{code}/visits", "/api/v1/areas"])
def test_forged_cursors_answer_422(client, everyone, code_id, path, key):
    url = path.format(code=code_id)
    r = client.get(url + ("&" if "?" in url else "?") + "cursor=" + cursor(key), headers=everyone[1])
    assert r.status_code == 422, (url, key, r.status_code, r.get_data(as_text=True)[:300])
    assert r.get_json()["error"] == "cursor_invalid"


def test_areas_with_a_cursor_past_every_code_is_refused_not_an_empty_page(client, everyone):
    r = client.get("/api/v1/areas?cursor=" + cursor(["zzzz"]), headers=everyone[1])
    assert r.status_code == 422 and r.get_json()["error"] == "cursor_invalid"


def test_real_cursors_still_page(client, everyone, db):
    first = client.get("/api/v1/areas?limit=2", headers=everyone[1]).get_json()
    second = client.get(f"/api/v1/areas?limit=2&cursor={first['next_cursor']}", headers=everyone[1])
    assert second.status_code == 200
    codes = [a["code"] for a in first["items"] + second.get_json()["items"]]
    assert codes == sorted(codes) and len(set(codes)) == 4


@pytest.mark.parametrize("url", ["/api/v1/areas/4401%00", "/api/v1/areas?q=%00", "/api/v1/areas?q%00=1",
                                 "/api/v1/volunteers?area=4401&q=ab%00cd", "/api/v1/groups?q=%00"])
def test_nul_in_path_or_query_is_422(client, everyone, url):
    r = client.get(url, headers=everyone[1])
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert r.get_json()["error"] == "nul_character"


def test_nul_in_a_json_body_is_422_and_changes_nothing(client, db, login):
    user, headers = login("resident")
    r = client.post("/api/v1/volunteers", json=profile_body(real_name="陈\u0000大文"), headers=headers)
    assert r.status_code == 422 and r.get_json()["error"] == "nul_character"
    r = client.post("/api/v1/volunteers", json={**profile_body(), "\u0000": 1}, headers=headers)
    assert r.status_code == 422 and r.get_json()["error"] == "nul_character"
    assert client.get("/api/v1/volunteers/me", headers=headers).status_code == 404


def test_nul_in_a_group_name_is_422(client, db, login):
    _, headers = login("organiser", "440106")
    r = client.post("/api/v1/groups", json={"name": "快递\u0000群", "kind": "trade", "area": "440106",
                                           "trade": "express", "join_policy": "open"}, headers=headers)
    assert r.status_code == 422 and r.get_json()["error"] == "nul_character"
    assert db.session.execute(select(func.count()).select_from(Group)).scalar() == 0


def test_a_literal_backslash_u_is_not_a_nul(client, login):
    _, headers = login("resident")
    r = client.post("/api/v1/volunteers", data=json.dumps(profile_body(real_name="陈\\u0000")),
                    content_type="application/json", headers=headers)
    assert r.status_code != 500 and r.get_json()["error"] != "nul_character"


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("path", ["/api/v1/checkins", "/api/v1/health-codes/verify", "/api/v1/volunteers",
                                  "/api/v1/auth/login/password", "/api/v1/scans/batch"])
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_deeply_nested_json_is_4xx(client, everyone, path, depth):
    for headers in (everyone[1], {}):  # signed in, and before any sign-in (the hot routes peek at the body first)
        r = client.post(path, data='{"a":' + _nested(depth) + "}", content_type="application/json",
                        headers=headers)
        assert r.status_code == 400, (path, r.status_code, r.get_data(as_text=True)[:200])
        assert r.get_json()["error"] == "json_too_deep"


def test_ordinary_nesting_passes(client, everyone):
    r = client.post("/api/v1/checkins", data=json.dumps({"venue_code": "x", "health_code_id": [[[1]]]}),
                    content_type="application/json", headers=everyone[1])
    assert r.status_code == 422 and r.get_json()["error"] != "json_too_deep"


def test_engine_hides_statement_parameters(db):
    assert db.engine.hide_parameters
    with pytest.raises(StatementError) as caught:
        db.session.execute(select(Area).where(Area.code == "秘密值", text("no_such_column = 1")))
    db.session.rollback()
    assert "秘密值" not in str(caught.value)


def test_a_data_error_the_database_raises_is_422(client, db, app, everyone, monkeypatch):
    from app.areas import service

    def fail(**_kwargs):
        raise DataError("SELECT 1", {}, Exception("value out of range"))

    monkeypatch.setattr(service, "list_areas", fail)
    r = client.get("/api/v1/areas", headers=everyone[1])
    assert r.status_code == 422 and r.get_json()["error"] == "value_invalid"
