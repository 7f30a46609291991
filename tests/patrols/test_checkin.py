"""The rotating check-in code, checking in on site (every refusal), checking out, closing ended patrols."""
from datetime import timedelta
from io import BytesIO

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import event, func, select

from app.extensions import db
from app.patrols import checkin, codes
from app.patrols.models import Attendance, Patrol
from tests.patrols.helpers import MEETING, NOW, near, patrol_row, token


def _attendances(patrol=None):
    db.session.expire_all()
    query = select(Attendance)
    if patrol is not None:
        query = query.where(Attendance.patrol_id == int(patrol["id"]))
    return db.session.execute(query).scalars().all()


@pytest.fixture
def on_patrol(client, new_patrol, volunteer, clock):
    """A patrol starting now-ish with one signed-up volunteer: (patrol, (user, headers, Volunteer))."""
    patrol = new_patrol(starts_at=NOW + timedelta(minutes=20))
    person = volunteer()
    assert client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=person[1]).status_code == 201
    return patrol, person


def _check_in(client, headers, patrol, metres=0.0, **over):
    return client.post("/api/v1/patrols/checkins", json={"token": token(patrol["id"]), **near(metres),
                                                          "accuracy_m": 10, **over}, headers=headers)


def test_checkin_code_rotates_every_window(client, new_patrol, organiser, leader, clock):
    patrol = new_patrol()
    r = client.get(f"/api/v1/patrols/{patrol['id']}/checkin-code", headers=organiser[1])
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    body = r.get_json()
    assert body["token"].startswith("JFP1.") and body["window_seconds"] == 60 and 1 <= body["refresh_in"] <= 60
    assert codes.verify(body["token"], NOW) == int(patrol["id"])
    clock.advance(seconds=61)
    later = client.get(f"/api/v1/patrols/{patrol['id']}/checkin-code", headers=leader[1]).get_json()
    assert later["token"] != body["token"]


def test_checkin_code_png_decodes_to_the_token(client, new_patrol, organiser):
    patrol = new_patrol()
    r = client.get(f"/api/v1/patrols/{patrol['id']}/checkin-code.png", headers=organiser[1])
    assert r.status_code == 200 and r.mimetype == "image/png"

    decoded = zxingcpp.read_barcodes(Image.open(BytesIO(r.data)))
    assert [d.text for d in decoded] == [token(patrol["id"])]


def test_checkin_code_only_for_managers_of_open_patrols(client, new_patrol, volunteer, login, organiser, clock):
    patrol = new_patrol()
    for headers in (volunteer()[1], login("organiser", "440106002")[1]):
        for suffix in ("", ".png"):
            r = client.get(f"/api/v1/patrols/{patrol['id']}/checkin-code{suffix}", headers=headers)
            assert r.status_code == 403 and r.get_json()["error"] == "patrol_forbidden"
    clock.advance(hours=4)
    r = client.get(f"/api/v1/patrols/{patrol['id']}/checkin-code", headers=organiser[1])
    assert r.status_code == 409 and r.get_json()["error"] == "patrol_ended"
    assert client.get("/api/v1/patrols/987654321/checkin-code", headers=organiser[1]).status_code == 404


def test_check_in_on_site(client, on_patrol):
    patrol, (_, headers, v) = on_patrol
    r = _check_in(client, headers, patrol, metres=150)
    assert r.status_code == 201
    body = r.get_json()
    assert body["patrol_id"] == patrol["id"] and body["checked_out_at"] is None and body["hours"] is None
    [row] = _attendances(patrol)
    assert row.volunteer_id == v.id and row.checked_in_at == NOW and row.checkin_distance_m == 150
    assert row.checkin_accuracy_m == 10 and str(row.id) == body["id"]


def test_checking_in_again_returns_the_same_attendance(client, on_patrol, clock):
    patrol, (_, headers, _) = on_patrol
    first = _check_in(client, headers, patrol)
    clock.advance(minutes=5)
    again = _check_in(client, headers, patrol, metres=5000)  # already in: the place no longer matters
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json() and len(_attendances(patrol)) == 1


def test_previous_window_accepted_older_expired(client, on_patrol, clock):
    patrol, (_, headers, _) = on_patrol
    shown = token(patrol["id"])
    clock.advance(seconds=60)
    assert client.post("/api/v1/patrols/checkins", json={"token": shown, **near(), "accuracy_m": 0},
                       headers=headers).status_code == 201
    assert len(_attendances(patrol)) == 1


def test_old_code_is_expired(client, on_patrol, clock):
    patrol, (_, headers, _) = on_patrol
    shown = token(patrol["id"])
    clock.advance(seconds=121)
    r = client.post("/api/v1/patrols/checkins", json={"token": shown, **near()}, headers=headers)
    assert r.status_code == 422 and r.get_json()["error"] == "token_expired"
    assert "token" in r.get_json()["errors"]["json"] and _attendances() == []


@pytest.mark.parametrize("bad", ["nonsense", "JFP1.", "JFP1.AAAA", "JFV1." + "A" * 38, "JFP1.!!!!"])
def test_garbled_codes_are_invalid(client, on_patrol, bad):
    _, (_, headers, _) = on_patrol
    r = client.post("/api/v1/patrols/checkins", json={"token": bad, **near()}, headers=headers)
    assert r.status_code == 422 and r.get_json()["error"] == "token_invalid" and _attendances() == []


def test_forged_and_future_codes_are_invalid(client, on_patrol, app):
    patrol, (_, headers, _) = on_patrol
    genuine = token(patrol["id"])
    flipped = genuine[:-2] + ("A" if genuine[-2] != "A" else "B") + genuine[-1]
    future = codes.sign(int(patrol["id"]), codes.window_of(NOW) + 1)
    original = app.config["PATROL_CHECKIN_KEY"]
    app.config["PATROL_CHECKIN_KEY"] = "someone-elses-key"
    try:
        other_key = token(patrol["id"])
    finally:
        app.config["PATROL_CHECKIN_KEY"] = original
    for bad in (flipped, future, other_key):
        r = client.post("/api/v1/patrols/checkins", json={"token": bad, **near()}, headers=headers)
        assert r.status_code == 422 and r.get_json()["error"] == "token_invalid"
    assert _attendances() == []


def test_not_signed_up(client, on_patrol, volunteer, login):
    patrol, _ = on_patrol
    for headers in (volunteer()[1], login("volunteer")[1]):  # a member without a sign-up; a role without a profile
        r = _check_in(client, headers, patrol)
        assert r.status_code == 403 and r.get_json()["error"] == "not_signed_up"
    assert _attendances() == []


def test_waitlisted_is_not_signed_up(client, new_patrol, volunteer):
    patrol = new_patrol(capacity=1, starts_at=NOW)
    client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=volunteer()[1])
    _, headers, _ = volunteer()
    client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=headers)
    r = _check_in(client, headers, patrol)
    assert r.status_code == 403 and r.get_json()["error"] == "not_signed_up"


@pytest.mark.parametrize("minutes, ok", [(-31, False), (-30, True), (120, True), (121, False)])
def test_time_window(client, new_patrol, volunteer, clock, minutes, ok):
    patrol = new_patrol(starts_at=NOW + timedelta(hours=1))
    _, headers, _ = volunteer()
    client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=headers)
    clock.set(NOW + timedelta(hours=1, minutes=minutes))
    r = _check_in(client, headers, patrol)
    if ok:
        assert r.status_code == 201
    else:
        assert r.status_code == 409 and r.get_json()["error"] == "outside_time_window"
        assert r.get_json()["opens_at"].startswith("2026-11-30T10:30:00+08:00") and _attendances() == []


@pytest.mark.parametrize("metres, accuracy, ok", [(199, 0, True), (205, 0, False), (240, 45, True),
                                                  (260, 500, False), (249, 5000, True)])
def test_geofence_with_bounded_accuracy_allowance(client, on_patrol, metres, accuracy, ok):
    patrol, (_, headers, _) = on_patrol
    r = _check_in(client, headers, patrol, metres=metres, accuracy_m=accuracy)
    if ok:
        assert r.status_code == 201
    else:
        body = r.get_json()
        assert r.status_code == 403 and body["error"] == "outside_geofence"
        assert abs(body["distance_m"] - metres) <= 1 and body["allowed_m"] == 200 + min(accuracy, 50)
        assert f"{body['distance_m']} 米" in body["message"] and _attendances() == []


def test_far_away_on_the_sofa(client, on_patrol):
    patrol, (_, headers, _) = on_patrol
    r = client.post("/api/v1/patrols/checkins", json={"token": token(patrol["id"]), "lat": 23.20, "lng": 113.26},
                    headers=headers)
    assert r.status_code == 403 and r.get_json()["distance_m"] > 10_000


def test_check_in_path_costs_two_statements(app, on_patrol):
    patrol, (user, _, _) = on_patrol
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        attendance, created = checkin.check_in(user=user, token=token(patrol["id"]), lat=MEETING["lat"],
                                               lng=MEETING["lng"], accuracy_m=0)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert created and [s for s in statements if s not in ("BEGIN", "COMMIT")] == ["SELECT", "INSERT"]


def test_check_in_request_statement_count(client, app, on_patrol):
    """The whole request: the token's user (and, without Redis, its revocation), then the two above."""
    patrol, (_, headers, _) = on_patrol
    statements = []
    listener = lambda conn, cursor, statement, *a: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert _check_in(client, headers, patrol).status_code == 201
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) <= 4, statements


def test_check_out_gives_hours_in_tenths(client, on_patrol, clock):
    patrol, (_, headers, v) = on_patrol
    _check_in(client, headers, patrol)  # in at 10:00 for a 10:20-12:20 patrol: hours count from 10:20
    clock.set(NOW + timedelta(minutes=20 + 87))  # 1 h 27 min after the start
    r = client.post(f"/api/v1/patrols/{patrol['id']}/checkout", json=near(30), headers=headers)
    assert r.status_code == 200
    body = r.get_json()
    assert body["hours"] == 1.5 and body["auto_checkout"] is False
    [row] = _attendances(patrol)
    assert row.hours_tenths == 15 and row.checkout_distance_m == 30 and row.checked_out_at == clock.now
    again = client.post(f"/api/v1/patrols/{patrol['id']}/checkout", json=near(), headers=headers)
    assert again.status_code == 200 and again.get_json() == body


@pytest.mark.parametrize("stay_minutes, tenths", [(0, 0), (2, 0), (3, 1), (9, 2), (200, 20)])
def test_hours_are_the_overlap_rounded_to_a_tenth(stay_minutes, tenths):
    start = NOW
    assert checkin.hours_tenths(start, start + timedelta(minutes=stay_minutes), start,
                                start + timedelta(hours=2)) == tenths
    assert checkin.hours_tenths(start - timedelta(minutes=30), start - timedelta(minutes=1), start,
                                start + timedelta(hours=1)) == 0


def test_check_out_needs_a_check_in(client, on_patrol):
    patrol, (_, headers, _) = on_patrol
    r = client.post(f"/api/v1/patrols/{patrol['id']}/checkout", json=near(), headers=headers)
    assert r.status_code == 409 and r.get_json()["error"] == "not_checked_in"
    assert client.post("/api/v1/patrols/987654321/checkout", json=near(), headers=headers).status_code == 404


def test_close_checks_out_who_forgot(app, client, db, on_patrol, new_patrol, clock):
    patrol, (_, headers, _) = on_patrol
    _check_in(client, headers, patrol)
    upcoming = new_patrol(starts_at=NOW + timedelta(hours=5))
    clock.set(NOW + timedelta(hours=3))
    result = app.test_cli_runner().invoke(args=["patrols", "close"])
    assert result.exit_code == 0 and "patrols closed: 1, automatic check-outs: 1" in result.output
    [row] = _attendances(patrol)
    assert row.auto_checkout and row.checked_out_at == NOW + timedelta(hours=2, minutes=20) and row.hours_tenths == 20
    closed = patrol_row(patrol["id"])
    assert closed.status == "closed" and closed.closed_at == clock.now
    assert patrol_row(upcoming["id"]).status == "scheduled"
    again = app.test_cli_runner().invoke(args=["patrols", "close"])
    assert "patrols closed: 0, automatic check-outs: 0" in again.output
    out = client.post(f"/api/v1/patrols/{patrol['id']}/checkout", json=near(), headers=headers)
    assert out.status_code == 200 and out.get_json()["auto_checkout"] is True and out.get_json()["hours"] == 2.0
    assert db.session.execute(select(func.count()).select_from(Patrol).where(Patrol.status == "closed")).scalar() == 1


@pytest.mark.postgres
def test_twenty_identical_check_ins_make_one_row(app, on_patrol, concurrently):
    patrol, (user, _, _) = on_patrol
    shown = token(patrol["id"])

    def go(i):
        fresh = db.session.get(type(user), user.id)
        attendance, created = checkin.check_in(user=fresh, token=shown, lat=MEETING["lat"], lng=MEETING["lng"],
                                               accuracy_m=0)
        return str(attendance.id), created

    results = concurrently(go, 20)
    assert len({r[0] for r in results}) == 1 and [r[1] for r in results].count(True) == 1
    assert len(_attendances(patrol)) == 1


@pytest.mark.postgres
def test_check_out_racing_close_records_one_departure(app, client, on_patrol, clock, concurrently):
    patrol, (user, headers, _) = on_patrol
    _check_in(client, headers, patrol)
    clock.set(NOW + timedelta(hours=2, minutes=20))

    def go(i):
        if i % 2:
            return checkin.close_ended()
        return checkin.check_out(user=db.session.get(type(user), user.id), patrol_id=int(patrol["id"]),
                                 lat=MEETING["lat"], lng=MEETING["lng"])[1]

    concurrently(go, 4)
    [row] = _attendances(patrol)
    assert row.checked_out_at is not None and row.hours_tenths == 20 and patrol_row(patrol["id"]).status == "closed"


def test_cannot_withdraw_after_checking_in_early(client, on_patrol):
    patrol, (_, headers, _) = on_patrol
    assert _check_in(client, headers, patrol).status_code == 201  # 20 minutes before the start
    r = client.delete(f"/api/v1/patrols/{patrol['id']}/signups/me", headers=headers)
    assert r.status_code == 409 and r.get_json()["error"] == "already_checked_in"
    assert patrol_row(patrol["id"]).active_count == 1


def test_a_departed_volunteer_cannot_check_in(client, on_patrol, clock):
    patrol, (user, headers, _) = on_patrol
    clock.advance(minutes=30)  # the patrol is under way
    assert client.delete("/api/v1/volunteers/me", headers=headers).status_code == 204
    r = _check_in(client, headers, patrol)
    assert r.status_code == 403 and r.get_json()["error"] in ("not_signed_up", "role_forbidden")
    assert _attendances() == [] and patrol_row(patrol["id"]).active_count == 0
