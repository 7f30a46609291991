"""Officials: colour changes with a fresh sign-in and an audit trail, history, tracing and applying it."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.common.time import utcnow
from app.health_codes.models import ColourChange, HealthCode
from app.venues.models import Scan, TracingQuery
from tests import factories
from tests.venues.test_scans import _apply


@pytest.fixture
def official(login):
    return login("health_official")


@pytest.fixture
def codes(client, login):
    """Four residents' codes: the index case and three others."""
    out = []
    for name in ("王小明", "李大华", "陈美玲", "赵一"):
        headers = login("resident")[1]
        out.append(int(_apply(client, headers, name)["id"]))
    return out


def _scan(db, code_id, venue_id, at):
    db.session.add(Scan(scanned_at=at, venue_id=venue_id, health_code_id=code_id, kind="checkin", colour="green",
                        passed=True))


def test_official_turns_code_red_with_audit(client, db, official, codes):
    url = f"/api/v1/admin/health-codes/{codes[0]}/colour"
    r = client.patch(url, json={"colour": "red", "reason": "确诊病例"}, headers=official[1])
    assert r.status_code == 200 and r.get_json()["colour"] == "red"
    code = db.session.get(HealthCode, codes[0])
    assert code.colour == "red"
    audit = db.session.execute(select(ColourChange).where(ColourChange.health_code_id == codes[0],
                                                          ColourChange.source == "official")).scalar_one()
    assert (audit.changed_by, audit.from_colour, audit.to_colour, audit.note) == (official[0].id, "green", "red",
                                                                                  "确诊病例")
    history = client.get(f"/api/v1/admin/health-codes/{codes[0]}/history", headers=official[1]).get_json()["items"]
    assert history[0]["type"] == "colour_change" and history[0]["to"] == "red" and history[0]["note"] == "确诊病例"


def test_colour_change_needs_fresh_token_and_the_role(client, db, official, codes, login):
    url = f"/api/v1/admin/health-codes/{codes[0]}/colour"
    stale = factories.auth_headers(official[0], fresh=False)
    r = client.patch(url, json={"colour": "red", "reason": "确诊病例"}, headers=stale)
    assert r.status_code == 403 and r.get_json()["error"] == "fresh_token_required"
    for role in ("organiser", "venue_staff", "admin", "resident"):
        assert client.patch(url, json={"colour": "red", "reason": "x"}, headers=login(role)[1]).status_code == 403
    for bad in ({"colour": "purple", "reason": "x"}, {"colour": "red"}, {"colour": "red", "reason": ""},
                {"colour": "red", "reason": "长" * 201}):
        assert client.patch(url, json=bad, headers=official[1]).status_code == 422
    assert client.patch("/api/v1/admin/health-codes/123/colour", json={"colour": "red", "reason": "x"},
                        headers=official[1]).status_code == 404
    assert db.session.get(HealthCode, codes[0]).colour == "green"
    assert db.session.execute(select(func.count()).select_from(ColourChange)
                              .where(ColourChange.source == "official")).scalar() == 0


def test_tracing_finds_contacts_within_window(client, db, official, codes):
    case, near, far, elsewhere = codes
    t0 = utcnow() - timedelta(days=2)
    _scan(db, case, 1, t0)
    _scan(db, near, 1, t0 + timedelta(minutes=90))        # inside ±120 min
    _scan(db, far, 1, t0 + timedelta(minutes=200))        # outside
    _scan(db, elsewhere, 2, t0 + timedelta(minutes=5))    # another venue
    _scan(db, case, 3, t0 + timedelta(days=1))
    _scan(db, far, 3, t0 + timedelta(days=1, minutes=-30))  # inside the second visit's window
    db.session.commit()
    body = {"health_code_id": str(case), "since": (t0 - timedelta(days=1)).isoformat(),
            "until": utcnow().isoformat(), "purpose": "确诊病例密接排查"}
    r = client.post("/api/v1/admin/tracing", json=body, headers=official[1])
    assert r.status_code == 200, r.get_json()
    result = r.get_json()
    assert len(result["visits"]) == 2 and result["window_minutes"] == 120
    found = {(c["health_code_id"], c["venue"]["id"]) for c in result["contacts"]}
    assert found == {(str(near), "1"), (str(far), "3")}
    assert result["contact_count"] == 2
    assert all("*" in c["holder"] for c in result["contacts"])
    near_row = next(c for c in result["contacts"] if c["health_code_id"] == str(near))
    assert near_row["minutes_apart"] == 90.0
    audit = db.session.execute(select(TracingQuery)).scalar_one()
    assert (audit.official_id, audit.purpose, audit.visits, audit.contacts) == \
        (official[0].id, "确诊病例密接排查", 2, 2)
    narrow = client.post("/api/v1/admin/tracing", json={**body, "window_minutes": 60}, headers=official[1]).get_json()
    assert {c["health_code_id"] for c in narrow["contacts"]} == {str(far)}


def test_tracing_limits(client, db, official, codes, login):
    now = utcnow()
    body = {"health_code_id": str(codes[0]), "since": (now - timedelta(days=29)).isoformat(),
            "until": now.isoformat(), "purpose": "排查"}
    r = client.post("/api/v1/admin/tracing", json=body, headers=official[1])
    assert r.status_code == 422 and r.get_json()["error"] == "range_too_long"
    r = client.post("/api/v1/admin/tracing", json={**body, "since": now.isoformat(),
                                                   "until": (now - timedelta(days=1)).isoformat()},
                    headers=official[1])
    assert r.get_json()["error"] == "range_invalid"
    assert client.post("/api/v1/admin/tracing", json={**body, "window_minutes": 1441},
                       headers=official[1]).status_code == 422
    assert client.post("/api/v1/admin/tracing", json={**body, "health_code_id": "5"},
                       headers=official[1]).status_code in (404, 422)
    assert client.post("/api/v1/admin/tracing", json=body, headers=login("organiser")[1]).status_code == 403
    assert db.session.execute(select(func.count()).select_from(TracingQuery)).scalar() == 0


def test_apply_tracing_turns_contacts_yellow_in_one_go(client, db, official, codes):
    r = client.post("/api/v1/admin/tracing/apply", headers=official[1],
                    json={"health_code_ids": [str(codes[1]), str(codes[2])], "colour": "yellow", "reason": "密接"})
    assert r.status_code == 200, r.get_json()
    assert {i["colour"] for i in r.get_json()["items"]} == {"yellow"}
    assert [db.session.get(HealthCode, c).colour for c in codes] == ["green", "yellow", "yellow", "green"]
    audits = db.session.execute(select(ColourChange.health_code_id).where(ColourChange.source == "official")).all()
    assert sorted(a[0] for a in audits) == sorted(codes[1:3])


def test_apply_tracing_is_all_or_nothing(client, db, official, codes):
    r = client.post("/api/v1/admin/tracing/apply", headers=official[1],
                    json={"health_code_ids": [str(codes[1]), "424242"], "reason": "密接"})
    assert r.status_code == 404
    assert db.session.get(HealthCode, codes[1]).colour == "green"
    assert db.session.execute(select(func.count()).select_from(ColourChange)
                              .where(ColourChange.source == "official")).scalar() == 0
    r = client.post("/api/v1/admin/tracing/apply", headers=official[1],
                    json={"health_code_ids": [str(codes[1])], "colour": "red", "reason": "密接"})
    assert r.status_code == 422


def test_tracing_window_is_inclusive_to_the_microsecond(client, db, official, codes):
    case, edge, beyond, before = codes
    t0 = utcnow().replace(microsecond=123456) - timedelta(days=1)
    _scan(db, case, 1, t0)
    _scan(db, edge, 1, t0 + timedelta(minutes=120))                            # exactly +window: in
    _scan(db, beyond, 1, t0 + timedelta(minutes=120, microseconds=1))          # a microsecond beyond: out
    _scan(db, before, 1, t0 - timedelta(minutes=120))                          # exactly -window: in
    db.session.commit()
    body = {"health_code_id": str(case), "since": (t0 - timedelta(hours=1)).isoformat(),
            "until": utcnow().isoformat(), "purpose": "边界"}
    result = client.post("/api/v1/admin/tracing", json=body, headers=official[1]).get_json()
    assert [(c["health_code_id"], c["minutes_apart"]) for c in result["contacts"]] == [(str(before), 120.0),
                                                                                       (str(edge), 120.0)]
    assert result["contact_count"] == 2


def test_tracing_contacts_dump_as_the_documented_schema_would(db, official, codes):
    """TracedContacts skips marshmallow's per-field walk; its output must be what List(Nested(TracedContact)) gives."""
    import marshmallow as ma
    from marshmallow import fields

    from app.health_codes import official_schemas as scan_schemas
    from app.venues import tracing

    case, near, far, _ = codes
    t0 = utcnow() - timedelta(days=2)
    for code, minutes in ((case, 0), (near, 90), (far, -30), (424242, 5)):  # 424242: scanned, but no such code
        _scan(db, code, 1, t0 + timedelta(minutes=minutes))
    db.session.commit()
    result = tracing.trace(official=official[0], health_code_id=case, since=t0 - timedelta(days=1), until=utcnow(),
                           window_minutes=120, purpose="核对")
    reference = ma.Schema.from_dict({"contacts": fields.List(fields.Nested(scan_schemas.TracedContact))})()
    dumped = scan_schemas.TracingRead().dump(result)
    assert len(dumped["contacts"]) == 3 and dumped["contacts"] == reference.dump(result)["contacts"]
    assert {c["holder"] is None for c in dumped["contacts"]} == {True, False}
