"""The Guangzhou area tree: real districts and streets, generated communities and grids, browse API."""
from sqlalchemy import func, select

from app.areas import service
from app.areas.models import Area
from app.areas.seed import seed_areas


def test_seeded_counts(db):
    counts = dict(db.session.execute(select(Area.level, func.count()).group_by(Area.level)).all())
    assert counts == {"city": 1, "district": 11, "street": 178, "community": 2740, "grid": 19500}


def test_seed_is_idempotent(db):
    assert seed_areas() == 0
    assert db.session.execute(select(func.count()).select_from(Area)).scalar() == 1 + 11 + 178 + 2740 + 19500


def test_codes_nest_by_prefix(db):
    bad = db.session.execute(select(func.count()).select_from(Area).where(
        Area.parent_code.is_not(None), func.substr(Area.code, 1, func.length(Area.parent_code)) != Area.parent_code
    )).scalar()
    assert bad == 0


def test_real_street_names(client):
    body = client.get("/api/v1/areas/440106001").get_json()
    assert body["name"] == "五山街道" and body["level"] == "street"
    assert [a["code"] for a in body["ancestors"]] == ["4401", "440106"]


def test_grid_with_ancestors(client):
    body = client.get("/api/v1/areas/44010600100101").get_json()
    assert body["level"] == "grid"
    assert [a["level"] for a in body["ancestors"]] == ["city", "district", "street", "community"]


def test_unknown_and_malformed_codes_404(client):
    for code in ("440199", "abc", "4" * 30):
        r = client.get(f"/api/v1/areas/{code}")
        assert r.status_code == 404 and r.get_json()["error"] == "area_not_found"


def test_default_list_is_city_and_districts(client):
    items = client.get("/api/v1/areas?limit=100").get_json()["items"]
    assert len(items) == 12 and items[0]["code"] == "4401"
    assert {i["name"] for i in items} >= {"天河区", "越秀区", "从化区"}


def test_children_paginate_with_keyset(client):
    seen, cursor = [], None
    while True:
        url = "/api/v1/areas?parent=440106&limit=7" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url).get_json()
        seen += [i["code"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert all(code.startswith("440106") and len(code) == 9 for code in seen)
    assert len(seen) == 21  # Tianhe's 21 streets


def test_search_by_name_and_level(client):
    items = client.get("/api/v1/areas?q=五山&level=street").get_json()["items"]
    assert [i["code"] for i in items] == ["440106001"]


def test_search_escapes_wildcards(client):
    assert client.get("/api/v1/areas?q=%25").get_json()["items"] == []


def test_bad_query_args(client):
    assert client.get("/api/v1/areas?level=planet").status_code == 422
    assert client.get("/api/v1/areas?limit=1000").status_code == 422
    assert client.get("/api/v1/areas?parent=440199").status_code == 404


def test_subtree_helpers(db):
    assert service.is_within("44010600100101", "440106") and not service.is_within("440103001", "440106")
    in_tianhe = db.session.execute(select(func.count()).select_from(Area)
                                   .where(service.in_subtree(Area.code, "440106"))).scalar()
    expected = db.session.execute(select(func.count()).select_from(Area).where(Area.code.like("440106%"))).scalar()
    assert in_tianhe == expected > 21
    key = service.child_key(Area.code, "street")
    per_street = db.session.execute(select(key, func.count()).where(
        service.in_subtree(Area.code, "440106"), Area.level == "grid").group_by(key)).all()
    assert len(per_street) == 21 and sum(n for _, n in per_street) > 0
    assert service.child_level("440106") == "street" and service.child_level("44010600100101") is None
