"""Organisers find, count and export the volunteers of their area, by every axis, and nothing beyond it."""
import csv
import io

import pytest
from sqlalchemy import event

from app.extensions import db as _db
from tests.volunteer_helpers import (
    GRID_A1,
    GRID_A2,
    GRID_B,
    GRID_OTHER_DISTRICT,
    GRID_OTHER_STREET,
    TIANHE,
    WUSHAN,
    YUANCUN,
    assert_counts_exact,
    register,
)


@pytest.fixture
def town(client, login):
    """Five volunteers: three in 五山 (two communities), one in 员村, one in 荔湾区."""
    people = [dict(real_name="陈大文", grid=GRID_A1, trade="express", interests=["running"],
                   service_roles=["patroller"]),
              dict(real_name="李小红", grid=GRID_A2, trade="express", interests=["running", "tai_chi"],
                   service_roles=["patroller", "guide"]),
              dict(real_name="黄伟", grid=GRID_B, trade="it", interests=[], service_roles=["informant"]),
              dict(real_name="梁敏", grid=GRID_OTHER_STREET, trade="express", interests=["running"],
                   service_roles=["mediator"]),
              dict(real_name="何强", grid=GRID_OTHER_DISTRICT, trade="retired", interests=["tai_chi"],
                   service_roles=["patroller"])]
    return [register(client, login, **p) for p in people]


@pytest.fixture
def wushan(login):
    return login("organiser", WUSHAN)[1]


def found(client, headers, query=""):
    r = client.get(f"/api/v1/volunteers?{query}", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


# ---- search --------------------------------------------------------------------------------------------------------
def test_organiser_searches_their_street_masked(client, town, wushan):
    items = found(client, wushan)["items"]  # default area: the organiser's street
    assert [i["real_name"] for i in items] == ["陈*文", "李*红", "黄*"]
    assert all(i["phone"][3:7] == "****" for i in items)
    assert [i["grid"] for i in items] == [GRID_A1, GRID_A2, GRID_B]


@pytest.mark.parametrize("query, names", [
    ("trade=express", ["陈*文", "李*红"]),
    ("trade=IT互联网", ["黄*"]),
    ("interest=tai_chi", ["李*红"]),
    ("service_role=informant", ["黄*"]),
    ("service_role=guide&interest=running", ["李*红"]),
    (f"area={GRID_A1[:12]}", ["陈*文", "李*红"]),
    ("q=陈大文", ["陈*文"]),
    ("q=陈大", []),
])
def test_search_filters(client, town, wushan, query, names):
    assert [i["real_name"] for i in found(client, wushan, query)["items"]] == names


def test_search_by_phone(client, town, wushan):
    user = town[1][0]
    from app.auth import service as auth_service

    phone = auth_service.phone_of(user)
    assert [i["id"] for i in found(client, wushan, f"q={phone}")["items"]] == [town[1][2]["id"]]
    assert found(client, wushan, "q=13900000000")["items"] == []


def test_city_admin_sees_everyone(client, town, admin):
    assert len(found(client, admin[1], "area=4401&limit=100")["items"]) == 5
    assert [i["real_name"] for i in found(client, admin[1], "area=440103")["items"]] == ["何*"]


@pytest.mark.parametrize("area", [YUANCUN, TIANHE, "4401", GRID_OTHER_DISTRICT])
def test_organiser_cannot_look_beyond_their_street(client, town, wushan, area):
    for url in (f"/api/v1/volunteers?area={area}", f"/api/v1/stats/volunteers?by=trade&area={area}",
                f"/api/v1/volunteers/export.csv?area={area}"):
        r = client.get(url, headers=wushan)
        assert r.status_code == 403 and r.get_json()["error"] == "area_forbidden", url


def test_search_is_for_staff_only(client, town, login):
    for role in ("resident", "volunteer", "venue_staff", "health_official"):
        for url in ("/api/v1/volunteers", "/api/v1/stats/volunteers?by=trade", "/api/v1/volunteers/export.csv"):
            assert client.get(url, headers=login(role)[1]).status_code == 403


@pytest.mark.parametrize("query, status, error", [
    ("limit=101", 422, "validation_failed"), ("limit=0", 422, "validation_failed"),
    ("colour=red", 422, "validation_failed"),
    ("cursor=bm9wZQ", 422, "cursor_invalid"), ("trade=astronaut", 422, "trade_unknown"),
    ("interest=chess", 422, "interest_unknown"), ("service_role=captain", 422, "validation_failed"),
    ("area=4401abc", 422, "validation_failed"), (f"area={WUSHAN}999", 404, "area_not_found"),
])
def test_search_bad_input(client, town, wushan, query, status, error):
    r = client.get(f"/api/v1/volunteers?{query}", headers=wushan)
    assert r.status_code == status and r.get_json()["error"] == error


def test_keyset_pages_cover_everyone_once(client, town, admin):
    seen, cursor, pages = [], None, 0
    while True:
        body = found(client, admin[1], "area=4401&limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen += [(i["grid"], int(i["id"])) for i in body["items"]]
        cursor, pages = body["next_cursor"], pages + 1
        if not cursor:
            break
    assert pages == 3 and len(seen) == 5 and seen == sorted(seen)


def test_search_is_a_few_statements_and_never_skips_rows(client, town, admin, app):
    statements = []

    def capture(conn, cursor, statement, parameters, *args):
        statements.append((statement, parameters))

    first = found(client, admin[1], "area=4401&limit=1&trade=express")
    event.listen(_db.engine, "before_cursor_execute", capture)
    try:
        found(client, admin[1], f"area=4401&limit=100&trade=express&cursor={first['next_cursor']}")
    finally:
        event.remove(_db.engine, "before_cursor_execute", capture)
    searches = [(s, p) for s, p in statements if "FROM volunteers" in s]
    assert len(searches) == 1
    sql, params = searches[0]
    # keyset: the page starts after the cursor's (grid, id); SQLite's compiler always adds "OFFSET 0"
    assert "(volunteers.grid_code, volunteers.id) >" in sql and ("OFFSET" not in sql or params[-1] == 0)
    assert len(statements) <= 7, statements  # user + grants, taxonomies, area, the page, phones: no N+1


# ---- stats ---------------------------------------------------------------------------------------------------------
def stats(client, headers, query):
    r = client.get(f"/api/v1/stats/volunteers?{query}", headers=headers)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    return body["total"], {row["key"]: row["count"] for row in body["rows"] if row["count"]}, body


def test_stats_by_every_axis(client, town, admin, wushan):
    h = admin[1]
    total, rows, body = stats(client, h, "by=district&area=4401")
    assert total == 5 and rows == {"440106": 4, "440103": 1} and len(body["rows"]) == 11
    assert {r["name"] for r in body["rows"]} >= {"天河区", "荔湾区"}
    assert stats(client, h, f"by=street&area={TIANHE}")[1] == {WUSHAN: 3, YUANCUN: 1}
    assert stats(client, wushan, "by=community")[1] == {GRID_A1[:12]: 2, GRID_B[:12]: 1}
    assert stats(client, wushan, "by=grid")[1] == {GRID_A1: 1, GRID_A2: 1, GRID_B: 1}
    assert stats(client, h, "by=trade&area=4401")[1] == {"express": 3, "it": 1, "retired": 1}
    assert stats(client, wushan, "by=interest")[1] == {"running": 2, "tai_chi": 1}
    assert stats(client, h, "by=service_role&area=4401")[1] == {"patroller": 3, "guide": 1, "informant": 1,
                                                                "mediator": 1}
    _, _, roles = stats(client, h, "by=service_role&area=4401")
    assert {r["name"] for r in roles["rows"]} == {"信息员", "巡防员", "调解员", "宣传员", "支援员", "引导员"}


def test_stats_of_a_community_and_a_grid_are_counted_directly(client, town, wushan):
    community = GRID_A1[:12]
    assert stats(client, wushan, f"by=trade&area={community}")[:2] == (2, {"express": 2})
    assert stats(client, wushan, f"by=interest&area={community}")[1] == {"running": 2, "tai_chi": 1}
    assert stats(client, wushan, f"by=service_role&area={GRID_A2}")[:2] == (1, {"patroller": 1, "guide": 1})
    assert stats(client, wushan, f"by=grid&area={community}")[1] == {GRID_A1: 1, GRID_A2: 1}


def test_stats_stay_exact_after_joins_moves_and_leaves(client, town, wushan, login):
    _, headers, _ = register(client, login, grid=GRID_B, trade="it", interests=["tai_chi"])
    assert stats(client, wushan, "by=trade")[1] == {"express": 2, "it": 2}
    client.patch("/api/v1/volunteers/me", json={"grid": GRID_OTHER_STREET, "trade": "express"}, headers=headers)
    assert stats(client, wushan, "by=community")[1] == {GRID_A1[:12]: 2, GRID_B[:12]: 1}
    assert stats(client, wushan, "by=interest")[1] == {"running": 2, "tai_chi": 1}
    client.delete("/api/v1/volunteers/me", headers=town[0][1])
    total, rows, _ = stats(client, wushan, "by=grid")
    assert total == 2 and rows == {GRID_A2: 1, GRID_B: 1}
    assert_counts_exact()


@pytest.mark.parametrize("by, area", [("district", "4401"), ("street", "4401"), ("community", TIANHE),
                                      ("grid", "4401"), ("grid", WUSHAN), ("trade", "4401"), ("interest", TIANHE),
                                      ("service_role", WUSHAN)])
def test_stats_body_is_the_dicts_as_jsonify_writes_them(client, town, admin, by, area):
    # by an area level the body is spliced from cached fragments: byte for byte what jsonify made of the dicts
    from flask import json

    from app.volunteers import counts
    from app.volunteers.taxonomy import Catalogue

    r = client.get(f"/api/v1/stats/volunteers?by={by}&area={area}", headers=admin[1])
    assert r.status_code == 200 and r.mimetype == "application/json"
    expected = counts.stats(by=by, area_code=area, catalogue=Catalogue())
    assert r.get_data(as_text=True) == json.dumps(expected, separators=(",", ":"))
    assert r.get_json() == expected and expected["total"] > 0
    if by in counts.AREA_DIMS:
        assert sum(row["count"] for row in expected["rows"]) == expected["total"]


@pytest.mark.parametrize("query, status, error", [
    ("by=street&area=440106001", 422, "stats_level_invalid"),
    ("by=district&area=440106001001", 422, "stats_level_invalid"),
    ("by=age", 422, "validation_failed"), ("", 422, "validation_failed"),
    ("by=trade&area=440106999", 403, "area_forbidden"),
])
def test_stats_bad_input(client, town, wushan, query, status, error):
    r = client.get(f"/api/v1/stats/volunteers?{query}", headers=wushan)
    assert r.status_code == status and r.get_json()["error"] == error


def test_stats_unknown_area_for_a_city_admin(client, admin):
    r = client.get("/api/v1/stats/volunteers?by=trade&area=440199", headers=admin[1])
    assert r.status_code == 404 and r.get_json()["error"] == "area_not_found"


# ---- export --------------------------------------------------------------------------------------------------------
def test_export_is_masked_csv_with_bom(client, town, wushan):
    r = client.get("/api/v1/volunteers/export.csv", headers=wushan)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert f'filename="volunteers-{WUSHAN}.csv"' in r.headers["Content-Disposition"]
    raw = r.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["志愿者编号", "姓名", "手机号"] and len(rows) == 4
    assert [r[1] for r in rows[1:]] == ["陈*文", "李*红", "黄*"]
    assert all(r[2][3:7] == "****" and len(r[2]) == 11 for r in rows[1:])
    assert rows[1][3:8] == ["天河区", "五山街道", "五山华林社区", "五山华林社区第1网格", GRID_A1]
    assert rows[2][8:11] == ["快递物流", "跑步、太极", "巡防员、引导员"]
    for person in town:
        assert person[2]["real_name"] not in raw.decode("utf-8-sig") or "*" in person[2]["real_name"]
    assert "陈大文".encode() not in raw


def test_export_of_an_empty_area_and_unknown_area(client, town, admin):
    r = client.get("/api/v1/volunteers/export.csv?area=440111", headers=admin[1])
    assert r.status_code == 200 and len(r.get_data().decode("utf-8-sig").strip().splitlines()) == 1
    r = client.get("/api/v1/volunteers/export.csv?area=440199", headers=admin[1])
    assert r.status_code == 404 and r.get_json()["error"] == "area_not_found"
