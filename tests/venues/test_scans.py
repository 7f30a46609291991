"""Scans: residents check in at venue codes, inspectors scan residents online and offline, visit history,
venue stats; races on PostgreSQL; the statement budget of the hot paths."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select, update

from app.common.time import utcnow
from app.extensions import db as _db
from app.health_codes import service as hc_service
from app.health_codes.models import HealthCode, Person
from app.venues.models import LatestVisit, OfflineScan, Scan, VenueStaff
from tests import factories
from tests.invitation_helpers import bind_inspector
from tests.venues.test_venues import VENUE


def _apply(client, headers, name="张三明"):
    r = client.post("/api/v1/health-codes", headers=headers, json={
        "name": name, "id_type": "cn_resident_id", "id_number": factories.id_number(), "relation": "self",
        "consent": True})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


@pytest.fixture
def place(client, login):
    """A venue (owner = its admin) with one bound inspector; returns dict of ids, headers and the venue code."""
    owner = login("resident")
    venue = client.post("/api/v1/venues", json=VENUE, headers=owner[1]).get_json()
    number = factories.phone()
    inspector = factories.user(phone_number=number)
    bind_inspector(client, venue["id"], owner[1], number, factories.auth_headers(inspector))
    code = client.get(f"/api/v1/venues/{venue['id']}/code", headers=owner[1]).get_json()["venue_code"]
    return {"venue": venue, "owner": owner, "inspector": factories.auth_headers(inspector), "code": code}


@pytest.fixture
def holder(client, login):
    user, headers = login("resident")
    return {"user": user, "headers": headers, "code": _apply(client, headers)}


def _scans(db):
    return db.session.execute(select(Scan).order_by(Scan.scanned_at)).scalars().all()


def test_check_in_records_once_within_five_minutes(client, db, place, holder):
    body = {"venue_code": place["code"], "health_code_id": holder["code"]["id"]}
    first = client.post("/api/v1/checkins", json=body, headers=holder["headers"])
    assert first.status_code == 201, first.get_json()
    result = first.get_json()
    assert result["venue"]["name"] == VENUE["name"] and result["colour"] == "green" and result["pass"] is True
    assert result["holder"] == "张*明"
    again = client.post("/api/v1/checkins", json=body, headers=holder["headers"])
    assert again.status_code == 200 and again.get_json()["checked_in_at"] == result["checked_in_at"]
    rows = _scans(db)
    assert len(rows) == 1 and rows[0].kind == "checkin" and rows[0].venue_id == int(place["venue"]["id"])


def test_check_in_after_five_minutes_is_a_new_visit(client, db, place, holder, monkeypatch):
    from app.venues import scans

    body = {"venue_code": place["code"], "health_code_id": holder["code"]["id"]}
    assert client.post("/api/v1/checkins", json=body, headers=holder["headers"]).status_code == 201
    later = utcnow() + timedelta(minutes=6)
    monkeypatch.setattr(scans, "utcnow", lambda: later)
    assert client.post("/api/v1/checkins", json=body, headers=holder["headers"]).status_code == 201
    assert len(_scans(db)) == 2


def test_check_in_refusals_change_nothing(client, db, place, holder, login):
    other = login("resident")
    body = {"venue_code": place["code"], "health_code_id": holder["code"]["id"]}
    r = client.post("/api/v1/checkins", json=body, headers=other[1])
    assert r.status_code == 404 and r.get_json()["error"] == "health_code_not_found"
    r = client.post("/api/v1/checkins", json={**body, "venue_code": "JFV1.garbage"}, headers=holder["headers"])
    assert r.status_code == 422 and r.get_json()["error"] == "venue_code_invalid"
    client.post(f"/api/v1/venues/{place['venue']['id']}/code/rotate", headers=place["owner"][1])
    r = client.post("/api/v1/checkins", json=body, headers=holder["headers"])
    assert r.status_code == 422 and r.get_json()["error"] == "venue_code_outdated"
    for bad in ({"venue_code": place["code"]}, {**body, "health_code_id": "abc"},
                {**body, "health_code_id": "99999999999999999999"}):
        assert client.post("/api/v1/checkins", json=bad, headers=holder["headers"]).status_code == 422
    assert _scans(db) == []


def test_check_in_with_withdrawn_code_is_gone(client, db, place, holder):
    client.delete(f"/api/v1/health-codes/{holder['code']['id']}", headers=holder["headers"])
    r = client.post("/api/v1/checkins", json={"venue_code": place["code"], "health_code_id": holder["code"]["id"]},
                    headers=holder["headers"])
    assert r.status_code == 410 and r.get_json()["error"] == "code_revoked"
    assert _scans(db) == []


def _token(client, holder):
    return client.get(f"/api/v1/health-codes/{holder['code']['id']}/token", headers=holder["headers"]).get_json()


def test_staff_scan_with_venue_records_it(client, db, place, holder):
    token = _token(client, holder)["token"]
    r = client.post("/api/v1/health-codes/verify", json={"token": token, "venue_id": place["venue"]["id"]},
                    headers=place["inspector"])
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["colour"] == "green" and r.get_json()["holder"] == "张*明"
    rows = _scans(db)
    assert len(rows) == 1 and rows[0].kind == "staff" and rows[0].staff_user_id is not None


def test_staff_of_another_venue_cannot_scan_for_it(client, db, place, holder, login):
    token = _token(client, holder)["token"]
    stranger = login("venue_staff", VENUE["area"])
    r = client.post("/api/v1/health-codes/verify", json={"token": token, "venue_id": place["venue"]["id"]},
                    headers=stranger[1])
    assert r.status_code == 403 and r.get_json()["error"] == "venue_forbidden"
    assert _scans(db) == []


def _item(token, at, client_id=None):
    return {"client_scan_id": client_id or str(uuid.uuid4()), "token": token, "scanned_at": at.isoformat()}


def _past_token(db, holder, at):
    code = db.session.get(HealthCode, int(holder["code"]["id"]))
    return hc_service.issue_token(code=code, now=at).token


def test_offline_batch_accepts_replays_and_conflicts(client, db, place, holder):
    venue_id = place["venue"]["id"]
    scanned = utcnow() - timedelta(hours=3)
    old_token = _past_token(db, holder, scanned)  # long expired now, valid when scanned offline
    good = _item(old_token, scanned)
    future = _item(old_token, utcnow() + timedelta(hours=1))
    too_old = _item(old_token, utcnow() - timedelta(days=29))
    forged = _item(old_token[:-4] + ("AAAA" if not old_token.endswith("AAAA") else "BBBB"), scanned)
    batch = {"venue_id": venue_id, "items": [good, future, too_old, forged]}
    r = client.post("/api/v1/scans/batch", json=batch, headers=place["inspector"])
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert [i["status"] for i in body["items"]] == ["accepted", "rejected", "rejected", "rejected"]
    assert [i.get("error") for i in body["items"]] == [None, "scanned_at_in_future", "scanned_at_too_old",
                                                      "token_invalid"]
    assert body["accepted"] == 1 and body["rejected"] == 3
    rows = _scans(db)
    assert len(rows) == 1 and rows[0].offline and abs((rows[0].scanned_at - scanned).total_seconds()) < 1
    # replay: nothing new
    replay = client.post("/api/v1/scans/batch", json=batch, headers=place["inspector"]).get_json()
    assert [i["status"] for i in replay["items"]] == ["duplicate"] * 4 and replay["duplicates"] == 4
    assert len(_scans(db)) == 1
    # same client id, different payload
    clash = {"venue_id": venue_id, "items": [{**good, "scanned_at": (scanned + timedelta(minutes=1)).isoformat()}]}
    item = client.post("/api/v1/scans/batch", json=clash, headers=place["inspector"]).get_json()["items"][0]
    assert item["status"] == "rejected" and item["error"] == "idempotency_conflict"
    assert db.session.execute(select(func.count()).select_from(OfflineScan)).scalar() == 4


def test_offline_batch_limits_and_access(client, db, place, holder, login):
    token = _token(client, holder)["token"]
    items = [_item(token, utcnow()) for _ in range(501)]
    r = client.post("/api/v1/scans/batch", json={"venue_id": place["venue"]["id"], "items": items},
                    headers=place["inspector"])
    assert r.status_code in (413, 422)
    r = client.post("/api/v1/scans/batch", json={"venue_id": place["venue"]["id"], "items": items[:1]},
                    headers=login("venue_staff", VENUE["area"])[1])
    assert r.status_code == 403
    naive = {**items[0], "scanned_at": "2026-11-28T10:00:00"}
    r = client.post("/api/v1/scans/batch", json={"venue_id": place["venue"]["id"], "items": [naive]},
                    headers=place["inspector"])
    assert r.status_code == 422
    assert _scans(db) == []


def test_visit_history_only_for_the_owner(client, db, place, holder, login):
    client.post("/api/v1/checkins", json={"venue_code": place["code"], "health_code_id": holder["code"]["id"]},
                headers=holder["headers"])
    url = f"/api/v1/health-codes/{holder['code']['id']}/visits"
    r = client.get(url, headers=holder["headers"])
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert len(items) == 1 and items[0]["venue"]["name"] == VENUE["name"] and items[0]["kind"] == "checkin"
    assert client.get(url, headers=login("resident")[1]).status_code == 404
    for role in ("venue_staff", "organiser", "volunteer"):
        assert client.get(url, headers=login(role)[1]).status_code == 403


def test_venue_stats_counts_per_hour_and_colour(client, db, place):
    venue_id = int(place["venue"]["id"])
    day = datetime(2026, 11, 20, tzinfo=timezone(timedelta(hours=8)))
    for hour, colour in ((9, "green"), (9, "green"), (9, "yellow"), (17, "red")):
        db.session.add(Scan(scanned_at=day + timedelta(hours=hour, minutes=5), venue_id=venue_id, health_code_id=1,
                            kind="staff", colour=colour, passed=colour == "green"))
    db.session.add(Scan(scanned_at=day - timedelta(minutes=1), venue_id=venue_id, health_code_id=1, kind="staff",
                        colour="green", passed=True))
    db.session.commit()
    r = client.get(f"/api/v1/venues/{venue_id}/stats?date=2026-11-20", headers=place["owner"][1])
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["total"] == 4 and body["by_colour"] == {"green": 2, "yellow": 1, "red": 1}
    assert body["by_hour"][9] == {"hour": 9, "green": 2, "yellow": 1, "red": 0, "total": 3}
    assert body["by_hour"][17]["red"] == 1 and body["by_hour"][8]["total"] == 0
    assert "health_code_id" not in str(body)


def test_venue_stats_denied_to_outsiders(client, place, login):
    url = f"/api/v1/venues/{place['venue']['id']}/stats?date=2026-11-20"
    assert client.get(url, headers=login("resident")[1]).status_code == 403
    assert client.get(url, headers=login("organiser", "440103")[1]).status_code == 403
    assert client.get(url, headers=login("organiser", "440106")[1]).status_code == 200
    assert client.get(url.replace("2026-11-20", "yesterday"), headers=place["owner"][1]).status_code == 422


class _Counter:
    def __init__(self):
        self.statements = []

    def __call__(self, conn, cursor, statement, *args):
        self.statements.append(statement)


def _count_statements(app, fn):
    counter = _Counter()
    engine = _db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return [s for s in counter.statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))]


def test_hot_paths_stay_within_three_statements(app, db, place, holder):
    """Service level (the request's user is loaded by the auth layer): ≤ 3 SQL statements + commit per scan."""
    from app.auth.models import User
    from app.venues import scans

    token = _token(app.test_client(), holder)["token"]
    inspector = db.session.execute(select(User).join(VenueStaff, VenueStaff.user_id == User.id)
                                   .where(VenueStaff.role == "inspector")).scalar_one()
    resident = db.session.get(User, holder["user"].id)
    venue_id = int(place["venue"]["id"])
    db.session.expunge_all()
    staff = _count_statements(app, lambda: scans.staff_verify(user=inspector, token=token, venue_id=venue_id))
    assert len(staff) <= 3, [s[:90] for s in staff]
    checkin = _count_statements(app, lambda: scans.check_in(user=resident, venue_code=place["code"],
                                                            health_code_id=int(holder["code"]["id"])))
    assert len(checkin) <= 3, checkin


@pytest.mark.postgres
def test_concurrent_identical_check_ins_make_one_row(app, db, place, holder, concurrently):
    from app.auth.models import User
    from app.venues import scans

    user_id, code_id = holder["user"].id, int(holder["code"]["id"])

    def go(_):
        user = _db.session.get(User, user_id)
        return scans.check_in(user=user, venue_code=place["code"], health_code_id=code_id)[1]

    created = concurrently(go, 20)
    assert created.count(True) == 1
    assert db.session.execute(select(func.count()).select_from(Scan)).scalar() == 1


@pytest.mark.postgres
def test_concurrent_identical_check_ins_in_autocommit_make_one_row(app, db, place, holder, concurrently):
    """As POST /checkins runs them: each claim is one statement on a connection of its own (execute_alone)."""
    from app.auth.models import User
    from app.common.sql import autocommit
    from app.venues import scans

    user_id, code_id = holder["user"].id, int(holder["code"]["id"])

    def go(_):
        user = _db.session.get(User, user_id)
        _db.session.commit()  # the view starts with no transaction open, as a request does
        return autocommit(lambda: scans.check_in(user=user, venue_code=place["code"], health_code_id=code_id))()[1]

    created = concurrently(go, 20)
    assert created.count(True) == 1
    assert db.session.execute(select(func.count()).select_from(Scan)).scalar() == 1
    assert db.session.execute(select(func.count()).select_from(LatestVisit)).scalar() == 1


@pytest.mark.postgres
def test_concurrent_duplicate_offline_uploads_make_one_scan(app, db, place, holder, concurrently):
    from app.auth.models import User
    from app.venues import scans

    scanned = utcnow() - timedelta(minutes=30)
    items = [{"client_scan_id": uuid.uuid4(), "token": _past_token(db, holder, scanned), "scanned_at": scanned}]
    inspector_id = db.session.execute(select(VenueStaff.user_id).where(VenueStaff.role == "inspector")).scalar_one()
    venue_id = int(place["venue"]["id"])

    def go(_):
        user = _db.session.get(User, inspector_id)
        return scans.upload_batch(user=user, venue_id=venue_id, items=items)[0]["status"]

    statuses = concurrently(go, 10)
    assert statuses.count("accepted") == 1 and statuses.count("duplicate") == 9
    assert db.session.execute(select(func.count()).select_from(Scan)).scalar() == 1


def _whole_request(app, send):
    """(response, statements) of one HTTP request, user load included, on a fresh session as in production."""
    _db.session.remove()
    responses = []
    seen = _count_statements(app, lambda: responses.append(send()))
    return responses[0], seen


def test_whole_hot_requests_stay_within_three_statements(app, client, db, place, holder):
    """Over HTTP: staff verify + scan and check-in, counting the user load: ≤ 3 statements + commit (on SQLite
    each takes one more: the claim and the scan are two statements there, not one CTE; without Redis the
    revocation check is one more statement). The check-in right after the staff scan is the same visit."""
    from app.common.cache import redis_client

    extra = 0 if redis_client() is not None else 1
    code_id = holder["code"]["id"]
    token = client.get(f"/api/v1/health-codes/{code_id}/token", headers=holder["headers"]).get_json()["token"]
    response, staff = _whole_request(app, lambda: client.post(
        "/api/v1/health-codes/verify", json={"token": token, "venue_id": place["venue"]["id"]},
        headers=place["inspector"]))
    assert response.status_code == 200 and response.get_json()["colour"] == "green", response.get_json()
    sqlite = 0 if db.engine.dialect.name == "postgresql" else 1
    assert len(staff) <= 3 + sqlite + extra, staff
    response, checkin = _whole_request(app, lambda: client.post(
        "/api/v1/checkins", json={"venue_code": place["code"], "health_code_id": code_id}, headers=holder["headers"]))
    assert response.status_code == 200, response.get_json()
    assert len(checkin) <= 3 + sqlite + extra, checkin
    assert [s.kind for s in _scans(db)] == ["staff"]
    latest = db.session.execute(select(LatestVisit)).scalars().all()
    person_id = db.session.get(HealthCode, int(code_id)).person_id
    assert [(row.person_id, row.scan_id) for row in latest] == [(person_id, _scans(db)[0].id)]


def test_verify_by_someone_else_is_refused_first_and_records_nothing(app, client, db, place, holder, login):
    """The staff binding now rides in the code's SELECT: a caller who is not staff still hears 403 first."""
    _, outsider = login("venue_staff")
    token = client.get(f"/api/v1/health-codes/{holder['code']['id']}/token", headers=holder["headers"]).get_json()
    for sent in (token["token"], "not-a-token"):
        response, _ = _whole_request(app, lambda: client.post(
            "/api/v1/health-codes/verify", json={"token": sent, "venue_id": place["venue"]["id"]}, headers=outsider))
        assert response.status_code == 403 and response.get_json()["error"] == "venue_forbidden"
    assert _scans(db) == []


def test_stale_colour_is_refreshed_under_a_lock_inside_an_autocommit_request(app, client, db, place, holder):
    """A hot path in autocommit mode still re-evaluates a stale code in a real transaction and commits it."""
    from app.health_codes import rules

    code_id = int(holder["code"]["id"])
    person_id = db.session.get(HealthCode, code_id).person_id
    db.session.execute(update(Person).where(Person.id == person_id).values(rules_version="old"))
    db.session.commit()
    response, seen = _whole_request(app, lambda: client.post(
        "/api/v1/checkins", json={"venue_code": place["code"], "health_code_id": str(code_id)},
        headers=holder["headers"]))
    assert response.status_code == 201 and response.get_json()["colour"] == "green"
    assert any("FOR UPDATE" in s for s in seen) or db.engine.dialect.name == "sqlite", seen
    db.session.expire_all()
    assert db.session.get(HealthCode, code_id).rules_version == rules.RULES_VERSION
    assert [s.kind for s in _scans(db)] == ["checkin"]
