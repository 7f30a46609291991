"""GET /admin/health-codes/colour-counts: persons per colour at the end of each day, rebuilt from
the audit rows and today's totals; city-wide staff only; bad periods get the envelope."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.health_codes.models import Person
from tests.auth_flows import envelope
from tests.venues.test_scans import _apply

URL = "/api/v1/admin/health-codes/colour-counts"


@pytest.fixture
def stats_clock(clock, monkeypatch):
    """The health-code clock (2026-03-02 10:00 Shanghai), seen by the statistics too."""
    monkeypatch.setattr("app.common.time.utcnow", clock)
    return clock


def _days(body) -> list[tuple[str, int, int, int]]:
    return [(d["date"], d["green"], d["yellow"], d["red"]) for d in body["days"]]


def _decide(client, official, code_id, colour):
    r = client.patch(
        f"/api/v1/admin/health-codes/{code_id}/colour",
        json={"colour": colour, "reason": "流调判定"},
        headers=official,
    )
    assert r.status_code == 200, r.get_json()


def test_counts_per_day_follow_applications_and_decisions(client, db, login, stats_clock):
    official = login("health_official")[1]
    first = [
        _apply(client, login("resident")[1], name)["id"] for name in ("王小明", "李大华", "陈美玲")
    ]
    stats_clock.set(stats_clock.now + timedelta(days=1))  # 03-03: one case turns red
    _decide(client, official, first[0], "red")
    stats_clock.set(
        stats_clock.now + timedelta(days=1)
    )  # 03-04: a contact turns yellow, one more person applies
    _decide(client, official, first[1], "yellow")
    _decide(client, official, first[2], "green")  # a decision that changes nothing moves no one
    _apply(client, login("resident")[1], "赵一")
    stats_clock.set(stats_clock.now + timedelta(days=1))  # 03-05
    r = client.get(f"{URL}?from=2026-03-01&to=2026-03-05", headers=official)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["from"], body["to"], body["as_of"][:16]) == (
        "2026-03-01",
        "2026-03-05",
        "2026-03-05T02:00",
    )
    assert _days(body) == [
        ("2026-03-01", 0, 0, 0),
        ("2026-03-02", 3, 0, 0),
        ("2026-03-03", 2, 0, 1),
        ("2026-03-04", 2, 1, 1),
        ("2026-03-05", 2, 1, 1),
    ]
    persons = dict(
        db.session.execute(select(Person.colour, func.count()).group_by(Person.colour)).all()
    )
    assert persons == {
        "green": 2,
        "yellow": 1,
        "red": 1,
    }  # today's figures are the persons' own colours
    past = client.get(f"{URL}?from=2026-03-03&to=2026-03-03", headers=official).get_json()
    assert _days(past) == [
        ("2026-03-03", 2, 0, 1)
    ]  # a period ending before today walks back all the same


def test_people_applying_after_the_cached_count_are_counted(client, login, stats_clock):
    official = login("health_official")[1]
    _apply(client, login("resident")[1], "王小明")
    stats_clock.set(stats_clock.now + timedelta(minutes=1))
    url = f"{URL}?from=2026-03-02&to=2026-03-02"
    assert _days(client.get(url, headers=official).get_json()) == [("2026-03-02", 1, 0, 0)]
    stats_clock.set(stats_clock.now + timedelta(minutes=1))
    _apply(
        client, login("resident")[1], "李大华"
    )  # after the person count was taken (and cached, with Redis)
    stats_clock.set(stats_clock.now + timedelta(minutes=1))
    assert _days(client.get(url, headers=official).get_json()) == [("2026-03-02", 2, 0, 0)]


def test_city_wide_officials_and_admins_only(client, login, stats_clock):
    url = f"{URL}?from=2026-03-01&to=2026-03-02"
    for role in ("health_official", "admin"):
        r = client.get(url, headers=login(role, "4401")[1])
        assert r.status_code == 200 and len(r.get_json()["days"]) == 2, role
    envelope(client.get(url, headers=login("admin", "440106")[1]), 403, "area_forbidden")
    for role in ("organiser", "venue_staff", "resident", "volunteer"):
        envelope(client.get(url, headers=login(role)[1]), 403, "role_forbidden")
    envelope(client.get(url), 401, "token_missing")
    longest = client.get(
        f"{URL}?from=2025-11-30&to=2026-03-01", headers=login("health_official")[1]
    )
    assert longest.status_code == 200 and len(longest.get_json()["days"]) == 92


@pytest.mark.parametrize(
    "query, error",
    [
        ("from=2026-03-01", "validation_failed"),
        ("from=2026-02-30&to=2026-03-01", "validation_failed"),
        ("from=yesterday&to=2026-03-01", "validation_failed"),
        ("from=2026-03-01&to=2026-03-02&colour=red", "validation_failed"),
        ("from=2026-03-02&to=2026-03-01", "period_invalid"),
        ("from=2026-03-01&to=2026-03-03", "period_invalid"),  # tomorrow has no counts yet
        ("from=2025-11-29&to=2026-03-01", "period_too_long"),  # 93 days
        ("from=1899-12-31&to=2026-03-01", "validation_failed"),
    ],
)
def test_bad_periods_get_the_envelope(client, login, stats_clock, query, error):
    envelope(client.get(f"{URL}?{query}", headers=login("health_official")[1]), 422, error)
