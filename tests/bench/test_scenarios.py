"""Every `make bench` scenario of a landed domain still gets the answer it measures (so a changed route
breaks here, not in the middle of a benchmark). Small numbers of codes and venues stand in for the bench's."""
import json

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.patrols.models import Attendance, Patrol
from app.volunteers import demo
from bench import hot_paths, patrol_checkins, patrols
from bench.database import Fixtures
from bench.scenarios import HOT_PATHS, PLATFORM, YARDSTICKS

LANDED = [s for s in PLATFORM + HOT_PATHS if s.prepare is not None]
POSTGRES_ONLY = (hot_paths.patrol_check_in, hot_paths.leaderboard)


def test_every_hot_path_names_a_yardstick_that_exists():
    keys = {s.key for s in YARDSTICKS}
    assert keys == {"json", "write"}
    assert all(s.yardstick in keys for s in PLATFORM + HOT_PATHS)


def _answers(client, requests, expect: int, every: bool = False) -> None:
    for req in requests if every else {0: requests[0], len(requests) - 1: requests[-1]}.values():
        reply = client.open(req.path, method=req.method, headers=req.all_headers(),
                            data=None if req.body is None else json.dumps(req.body))
        assert reply.status_code == expect, (req.method, req.path, reply.get_data(as_text=True)[:200])


@pytest.mark.parametrize("scenario", LANDED, ids=[s.name for s in LANDED])
def test_scenario_requests_get_the_expected_answer(app, client, monkeypatch, scenario):
    monkeypatch.setattr(hot_paths, "RESIDENTS", 3)
    monkeypatch.setattr(hot_paths, "VENUES", 2)
    monkeypatch.setattr(hot_paths, "CHECKINS", 3)
    if scenario.prepare in POSTGRES_ONLY and db.engine.dialect.name != "postgresql":
        pytest.skip("its data is made with PostgreSQL statements (the bench runs on PostgreSQL only)")
    if scenario.prepare is hot_paths.patrol_check_in:
        demo.generate(count=4, seed=7, area="440106001")  # volunteers (with accounts) to sign up
    requests = scenario.prepare(Fixtures(app))
    assert requests
    _answers(client, requests, scenario.expect)


@pytest.mark.postgres
def test_patrol_check_in_scenario_signs_each_volunteer_up_once_and_a_rerun_starts_clean(app, client, monkeypatch):
    monkeypatch.setattr(hot_paths, "CHECKINS", 3)
    demo.generate(count=4, seed=7, area="440106001")
    first = {patrol for patrol, _ in patrol_checkins.checkin_pairs(3)}
    requests = hot_paths.patrol_check_in(Fixtures(app))  # the second run removes the first run's patrols
    assert len(requests) == 3 and len({r.token for r in requests}) == 3
    _answers(client, requests, 201, every=True)
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 3
    left = set(db.session.scalars(select(Patrol.id)))
    assert left and not left & first


@pytest.mark.postgres
def test_leaderboard_scenario_asks_as_the_lowest_placed_volunteer_of_each_board(app, client):
    demo.generate(count=30, seed=8, area="440106001")
    patrols.build_points(1.0, patrols.express_group())
    requests = hot_paths.leaderboard(Fixtures(app))
    assert len(requests) == 15  # 4 area boards and the 快递物流 group, 3 periods each
    admin = Fixtures(app).tokens(1, role="admin")[0]
    assert any(r.token != admin for r in requests)
    _answers(client, requests, 200, every=True)


@pytest.mark.postgres
@pytest.mark.parametrize("connections", [1, 2])
def test_the_import_ceiling_copies_whole_people_and_leaves_the_tables_empty(app, connections):
    """bench/volunteers.copy_ceiling writes what a first import writes (account, two grants, profile) for every
    row, inside its timing, over as many connections at once as asked, and empties the tables again so that the
    import after it starts from the same place."""
    from app.auth.models import RoleGrant, User
    from app.volunteers.models import Volunteer
    from bench import volunteers

    seen = {}
    commit = db.session.commit

    def counted():  # the fullest the tables get (the last batch's commit; the final TRUNCATE's commit gives 0)
        commit()
        for model in (User, RoleGrant, Volunteer):
            seen[model.__name__] = max(seen.get(model.__name__, 0),
                                       db.session.scalar(select(func.count()).select_from(model)))

    with app.app_context():
        db.session.commit = counted
        try:
            seconds, pg_cpu = volunteers.copy_ceiling(250, batch=100, connections=connections)
        finally:
            del db.session.commit
        assert seen == {"User": 250, "RoleGrant": 500, "Volunteer": 250}
        assert seconds > 0 and pg_cpu is not None and pg_cpu >= 0
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.postgres
def test_a_ceiling_connection_that_fails_fails_the_ceiling(app, monkeypatch):
    """An error in one of the ceiling's threads is raised to the caller instead of timing a ceiling that did not
    store its rows."""
    import app.common.upsert as upsert
    from bench import volunteers

    def broken(table, *args):
        raise RuntimeError(f"COPY into {table} failed")

    with app.app_context():
        monkeypatch.setattr(upsert, "copy_rows", broken)
        with pytest.raises(RuntimeError, match="COPY into users failed"):
            volunteers.copy_ceiling(20, batch=10, connections=2)


def test_the_import_row_is_read_against_its_ceiling(monkeypatch):
    from bench import volunteers_import

    done = {"seed": 2021, "count": 30_000, "seconds": 3.0, "rate": 10_000, "csv_s": 1.0, "vacuum_s": 0.1,
            "ceiling_rate": 20_000, "ceiling_postgres_us_per_row": 50, "python_us_per_row": 30,
            "postgres_us_per_row": 60, "bytes_per_volunteer": 891, "skipped": False}
    monkeypatch.setattr(volunteers_import, "load", lambda count: done)

    class Ctx:
        class app:  # noqa: N801 — stands in for the bench context's Flask app
            @staticmethod
            def app_context():
                import contextlib
                return contextlib.nullcontext()

    rows = volunteers_import.run(Ctx, quick=True)
    assert [r.rate for r in rows] == [10_000, 20_000] and rows[0].ratio == 0.5 and rows[0].met is False
    assert "50 µs/row" in rows[1].note
    assert "allows at most" not in rows[0].note  # the cores are not in this marker
    done.update(cores=2, cores_ceiling_rate=36_000)
    rows = volunteers_import.run(Ctx, quick=True)
    assert [r.rate for r in rows] == [10_000, 20_000, 36_000] and rows[0].ratio == 0.5
    assert "over 2 connections" in rows[2].scenario and "out of this machine's reach" in rows[2].note
    # 30 + 60 µs of CPU a row on 2 cores: 22,222 rows/s at best, however the work is split
    assert "allows at most 22,222 rows/s on 2 cores" in rows[0].note and "out of this machine's reach" in rows[0].note
    done.update(cores_ceiling_rate=52_000, python_us_per_row=16, postgres_us_per_row=20)
    rows = volunteers_import.run(Ctx, quick=True)
    assert "out of" not in rows[2].note
    assert "allows at most 55,556 rows/s" in rows[0].note and "out of" not in rows[0].note
    for key in ("cores", "cores_ceiling_rate"):
        del done[key]
    monkeypatch.setattr(volunteers_import, "load", lambda count: {k: v for k, v in done.items()
                                                                    if not k.startswith("ceiling")})
    rows = volunteers_import.run(Ctx, quick=True)  # a marker written before the ceiling was measured
    assert len(rows) == 1 and rows[0].ratio is None


@pytest.mark.postgres
def test_the_cost_breakdown_measures_every_part_and_keeps_the_foreign_keys(app):
    """bench/volunteers.cost_breakdown times each part with and without the foreign keys, drops them only inside
    a transaction it rolls back, and leaves the tables empty."""
    from app.auth.models import User
    from bench import volunteers

    def foreign_keys() -> set[str]:
        return set(db.session.scalars(text(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid IN "
            "('role_grants'::regclass, 'volunteers'::regclass)")))

    with app.app_context():
        keys = foreign_keys()
        assert {name for names in volunteers.FOREIGN_KEYS.values() for name in names} <= keys
        measured = volunteers.cost_breakdown(200, batch=80)
        assert [(variant, checked) for variant, checked, _ in measured] == \
            [(variant, checked) for checked in (True, False) for variant in volunteers.PARTS]
        assert all(us >= 0 for _, _, us in measured)
        assert foreign_keys() == keys
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
