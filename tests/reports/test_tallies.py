"""The tallies behind the figures: after any sequence of steps they equal a full recount of the reports, and the
figures read from them equal one pass over the reports; a deadline passing counts at once; rebuild-tallies
restores them; steps taken at the same moment on PostgreSQL lose no count."""
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from app.auth.models import User
from app.errors import AppError
from app.extensions import db
from app.reports import deadlines, service, stats, tallies, tally_figures, workflow
from app.reports.models import BUCKET_EDGES, LAST_WIDTH, SUBS, Report, ResolveMinutes, ResolveSubs, Tally
from tests import factories
from tests.reports.helpers import DISTRICT, FAR_GRID, GRID, NOW, OTHER_COMMUNITY_GRID, STREET, act, body, file

GRIDS = (GRID, OTHER_COMMUNITY_GRID, "44010600200101", FAR_GRID)
FOLLOWER_ACTIONS = ("confirm", "reopen")


def _kept() -> tuple[dict, dict, dict]:
    """The tallies, the histogram and the sub-bucket counts as stored, zero rows left out."""
    conn = db.session.connection()
    counts = {tuple(r[k] for k in tallies.KEY): tuple(r[c] for c in tallies.COUNTS)
              for r in conn.execute(select(Tally.__table__)).mappings()}
    minutes = {tuple(r[k] for k in tallies.MINUTES_KEY): r["n"]
               for r in conn.execute(select(ResolveMinutes.__table__)).mappings()}
    subs = {tuple(r[k] for k in tallies.SUBS_KEY): tuple(r[c] for c in SUBS)
            for r in conn.execute(select(ResolveSubs.__table__)).mappings()}
    return ({k: v for k, v in counts.items() if any(v)}, {k: v for k, v in minutes.items() if v},
            {k: v for k, v in subs.items() if any(v)})


def _recounted() -> tuple[dict, dict, dict]:
    changes = tallies.recount(db.session.connection())
    return ({k: tuple(v) for k, v in changes.tallies.items() if any(v)},
            {k: v for k, v in changes.minutes.items() if v}, {k: tuple(v) for k, v in changes.subs.items() if any(v)})


def _scanned(monkeypatch, **query) -> dict:
    """The same figures from one pass over the reports (the path communities and grids take)."""
    with monkeypatch.context() as patch:
        patch.setattr(stats, "TALLIED", 0)
        return stats.figures(**query)


@pytest.fixture
def people():
    reporter = factories.user(roles=[("resident", "4401")])
    return reporter, factories.user(roles=[("admin", "4401")], username=f"admin-{factories.phone()}")


def _act(reporter, admin, report_id: int, choice: int, department, other: int) -> None:
    """Take one of the actions the report's state allows (the choice picks which)."""
    state = db.session.get(Report, report_id).state
    allowed = [name for name, rule in workflow.ACTIONS.items() if state in rule.sources]
    if not allowed:
        return
    action = allowed[choice % len(allowed)]
    user = reporter if action in FOLLOWER_ACTIONS else admin
    data = {"action": action, "reason": "现场核实", "duplicate_of": other}
    if department:
        data["department"] = department
    try:
        workflow.act(user=user, report_id=report_id, data=data)
    except AppError:
        db.session.rollback()


FILINGS = st.lists(st.tuples(st.sampled_from(GRIDS), st.sampled_from(("fire_hazard", "sanitation", "other")),
                             st.sampled_from(("normal", "urgent"))), min_size=1, max_size=4)
ACT = st.tuples(st.just("act"), st.integers(0, 3), st.integers(0, 3), st.sampled_from((None, "fire", "sanitation")),
                st.integers(0, 3))
STEPS = st.lists(st.one_of(ACT, ACT, ACT, st.tuples(st.just("wait"), st.integers(1, 100)),
                           st.tuples(st.just("escalate"))), min_size=5, max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filings=FILINGS, steps=STEPS)
def test_tallies_equal_a_recount_after_any_steps(clock, monkeypatch, people, filings, steps):
    reporter, admin = people
    filed = [service.file(user=reporter, data=body(grid=grid, category=category, urgency=urgency))[0].id
             for grid, category, urgency in filings]
    for step in steps:
        if step[0] == "act":
            _, index, choice, department, other = step
            _act(reporter, admin, filed[index % len(filed)], choice, department, filed[other % len(filed)])
        elif step[0] == "wait":
            clock.advance(hours=step[1])
        else:
            deadlines.run()
    assert _kept() == _recounted()
    window = {"start": (NOW - timedelta(days=1)).date(), "end": (clock.now + timedelta(days=1)).date()}
    for area in (STREET, DISTRICT, "4401"):
        for by in ("street", "department", "category"):
            assert stats.figures(area=area, by=by, **window) == _scanned(monkeypatch, area=area, by=by, **window)


def test_every_resolve_time_falls_in_the_sub_bucket_whose_range_holds_it():
    previous_end = 0
    for minutes in range(0, BUCKET_EDGES[-1] + 2 * LAST_WIDTH):
        bucket = tallies.bucket_of(minutes)
        sub = tallies.sub_of(bucket, minutes)
        first, end = tallies.sub_range(bucket, sub)
        assert 0 <= sub < len(SUBS) and first <= minutes and (end is None or minutes < end), minutes
        if minutes == first and minutes:
            assert first == previous_end  # the ranges tile the minutes: no gap, no overlap
        previous_end = end
    assert [tallies.sub_range(9, s) for s in (0, 1, 15)] == [(240, 244), (244, 248), (297, 300)]  # 60 min: 16 parts
    assert tallies.sub_range(len(BUCKET_EDGES) - 1, 15) == (BUCKET_EDGES[-1] + 40500, None)


def _days_counted(first: date, last: date) -> dict:
    """{day: times counted} by the signed reads of a window, days counted zero times left out."""
    counted: dict = {}
    for sign, grain, lo, hi in tally_figures.reads(first, last):
        end = hi if grain == "d" else (hi.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        for i in range((end - lo).days + 1):
            counted[lo + timedelta(days=i)] = counted.get(lo + timedelta(days=i), 0) + sign
    return {day: n for day, n in counted.items() if n}


def test_reads_cut_a_window_into_months_and_days_with_the_fewest_rows():
    d = date
    assert tally_figures.reads(d(2026, 11, 3), d(2026, 11, 30)) == [(1, "m", d(2026, 11, 1), d(2026, 11, 1)),
                                                                   (-1, "d", d(2026, 11, 1), d(2026, 11, 2))]
    assert tally_figures.reads(d(2026, 11, 1), d(2026, 11, 30)) == [(1, "m", d(2026, 11, 1), d(2026, 11, 1))]
    assert tally_figures.reads(d(2026, 10, 20), d(2027, 1, 5)) == [
        (1, "d", d(2026, 10, 20), d(2026, 10, 31)), (1, "d", d(2027, 1, 1), d(2027, 1, 5)),
        (1, "m", d(2026, 11, 1), d(2026, 12, 1))]
    assert tally_figures.reads(d(2025, 12, 8), d(2026, 12, 7)) == [  # a year to the day: 7 + 7 days, 12 months
        (1, "d", d(2026, 12, 1), d(2026, 12, 7)), (1, "m", d(2025, 12, 1), d(2026, 11, 1)),
        (-1, "d", d(2025, 12, 1), d(2025, 12, 7))]
    assert tally_figures.reads(d(2026, 12, 31), d(2027, 1, 1)) == [(1, "d", d(2026, 12, 31), d(2027, 1, 1))]
    for first in (d(2026, 1, 1) + timedelta(days=i) for i in range(0, 400, 7)):
        for length in (1, 2, 15, 16, 28, 30, 31, 45, 59, 90, 365, 366, 800):
            last = first + timedelta(days=length - 1)
            assert _days_counted(first, last) == {first + timedelta(days=i): 1 for i in range(length)}, (first, last)


def test_figures_over_months_equal_one_pass(clock, monkeypatch, people):
    """Reports filed over three months and resolved at different speeds: every window, whole months or cut,
    reads the same figures from the tallies as from one pass over the reports."""
    reporter, admin = people
    for i, days_back in enumerate((75, 62, 45, 31, 30, 29, 12, 1, 0)):
        clock.set(NOW - timedelta(days=days_back, hours=i))
        report = service.file(user=reporter, data=body(grid=GRIDS[i % len(GRIDS)],
                                                       category=("fire_hazard", "sanitation", "other")[i % 3]))[0]
        for action in ("accept", "dispatch", "start", "resolve")[:i % 5]:
            clock.advance(minutes=37 * (i + 1))
            workflow.act(user=admin, report_id=report.id,
                         data={"action": action, "reason": "已处置", "department": "fire"})
    clock.set(NOW + timedelta(days=1))
    windows = [(date(2026, 9, 1), date(2026, 11, 30)), (date(2026, 9, 16), date(2026, 12, 1)),
               (date(2026, 10, 1), date(2026, 10, 31)), (date(2026, 10, 30), date(2026, 11, 2))]
    for start, end in windows:
        for area in (STREET, DISTRICT, "4401"):
            for by in ("street", "department", "category"):
                query = {"area": area, "by": by, "start": start, "end": end}
                assert stats.figures(**query) == _scanned(monkeypatch, **query), query
    assert stats.figures(area="4401", by="category", start=windows[0][0], end=windows[0][1])["total"]["count"] == 9


def test_a_deadline_passing_counts_at_once(client, clock, volunteer, admin):
    _, as_reporter = volunteer()
    file(client, as_reporter)  # fire hazard: 2 hours to accept
    query = "/api/v1/stats/reports?area=440106001&from=2026-11-30&to=2026-12-01"
    before = client.get(query, headers=admin[1]).get_json()["total"]
    assert (before["count"], before["response_due"], before["open_overdue"], before["response_rate"]) == (1, 0, 0, None)
    clock.advance(hours=2, minutes=1)
    after = client.get(query, headers=admin[1]).get_json()["total"]
    assert (after["count"], after["response_due"], after["open_overdue"], after["response_rate"]) == (1, 1, 1, 0.0)


def test_median_is_read_to_the_minute_from_the_histogram(client, clock, volunteer, community, street, fire, admin):
    _, as_reporter = volunteer()
    for minutes in (61, 90, 300):
        rid = file(client, as_reporter)["id"]
        for headers, action in ((community[1], "accept"), (street[1], "dispatch"), (fire[1], "start")):
            act(client, headers, rid, action)
        clock.advance(minutes=minutes, seconds=59)
        act(client, fire[1], rid, "resolve", reason="已清理")
        clock.set(NOW)
    body_ = client.get("/api/v1/stats/reports?area=440106&by=department&from=2026-11-30&to=2026-11-30",
                       headers=admin[1]).get_json()
    assert body_["total"]["median_hours_to_resolve"] == 1.5  # 61, 90 and 300 whole minutes
    assert [(g["name"], g["count"], g["resolved_on_time"]) for g in body_["groups"]] == [("消防救援大队", 3, 3)]


def test_rebuild_tallies_restores_a_recount(app, client, volunteer, community):
    _, as_reporter = volunteer()
    for _ in range(3):
        act(client, community[1], file(client, as_reporter)["id"], "accept")
    expected = _recounted()
    assert _kept() == expected and expected[0]
    db.session.execute(update(Tally).values(filed=99))
    db.session.execute(delete(ResolveMinutes))
    db.session.execute(delete(ResolveSubs))
    db.session.commit()
    assert _kept() != expected
    result = app.test_cli_runner().invoke(args=["reports", "rebuild-tallies"])
    # one day, street, department and category: 2 grains × 3 areas (city, district, street) × 4 dimensions
    assert result.exit_code == 0 and result.output.startswith("tallies rebuilt: 24 rows"), result.output
    db.session.expire_all()
    assert _kept() == expected


@pytest.mark.postgres
def test_simultaneous_steps_on_one_tally_key_lose_no_count(concurrently, volunteer, people):
    user, _ = volunteer()
    admin_id = people[1].id
    ids = [service.file(user=user, data=body())[0].id for _ in range(6)]

    def step(action):
        def run(i):
            data = {"action": action, "reason": "已处置"}
            workflow.act(user=db.session.get(User, admin_id), report_id=ids[i], data=data)
        return run

    for action in ("accept", "dispatch", "start", "resolve"):
        concurrently(step(action), len(ids))
    kept = _kept()
    assert kept == _recounted()
    assert len(kept[0]) == 24  # one day, street, department and category, counted in every key it falls under
    row = kept[0][("t", "4401", "d", NOW.date(), 0)]
    assert dict(zip(tallies.OUTCOMES, row)) == {"filed": 6, "responded": 6, "responded_on_time": 6, "resolved": 6,
                                              "resolved_on_time": 6, "confirmed": 0, "closed": 0, "flagged": 0}
    assert sum(kept[1].values()) == 6
