"""Patrols at city scale on PostgreSQL: a points ledger for a realistic share of the volunteers, every leaderboard
scope and period timed (median of warm runs, worst-placed caller), and the in-process check-in rate. A script that
prints figures, not a test.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench python bench/patrols.py [--quick]

Volunteers already in the database are used as they are; with fewer than --min-volunteers, synthetic ones are added
through the volunteers' bulk path (the `flask demo volunteers` generator). The patrol tables are emptied and the
ledger rebuilt, so the database must be a benchmark database (its name contains "bench")."""
import argparse
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.volunteers import median_ms  # noqa: E402 — one warm call, then the median of `runs`

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
PATROL_TABLES = ("notifications, group_points_summaries, points_summaries, points_entries, "
                 "patrol_hours_certifications, patrol_attendances, patrol_signups, patrols")


def line(label: str, value: str) -> None:
    print(f"  {label:<64} {value}", flush=True)


def open_app(url: str):
    """The app on the bench database (created when missing, refused unless its name says bench)."""
    from bench.volunteers import build_app, ensure_database

    ensure_database(url)
    return build_app(url)


def prepare_volunteers(minimum: int) -> int:
    """Make sure at least `minimum` volunteers exist; returns how many there are."""
    import flask_migrate

    from app.areas.seed import seed_areas
    from app.extensions import db
    from app.volunteers import demo

    flask_migrate.upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    seed_areas()
    have = db.session.execute(text("SELECT count(*) FROM volunteers WHERE left_at IS NULL")).scalar()
    if have < minimum:
        started = time.perf_counter()
        written = demo.generate(count=minimum - have, seed=6060 + have)
        seconds = time.perf_counter() - started
        line(f"volunteers loaded through the bulk path ({written.inserted:,})",
             f"{seconds:.1f} s = {written.inserted / seconds:,.0f} rows/s")
        vacuum("volunteers, users, role_grants, volunteer_counts, volunteer_groups")
        have = db.session.execute(text("SELECT count(*) FROM volunteers WHERE left_at IS NULL")).scalar()
    return have


def vacuum(tables: str) -> None:
    from app.extensions import db

    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM (ANALYZE) {tables}"))


def build_points(share: float, express: int) -> tuple[int, int, int]:
    """A ledger for `share` of the volunteers (1-6 patrols each over the last 75 days, 1-4 h at 10 points an hour;
    the patrols of their community's group, or of the city-wide 快递物流 group for couriers) and the summaries it
    implies, built set-wise (summary indexes dropped meanwhile and rebuilt from the models' own definitions);
    returns (ledger lines, summary rows, group summary rows)."""
    from app.extensions import db
    from app.patrols.models import GroupPointsSummary, PointsSummary

    run = db.session.execute
    run(text(f"TRUNCATE {PATROL_TABLES}"))
    run(text("SELECT setseed(0.6)"))
    run(text("""
        INSERT INTO points_entries (id, volunteer_id, kind, points, hours_tenths, group_id, earned_on, created_at)
        SELECT 1000000000000 + row_number() OVER (), v.id, 'hours', h.tenths, h.tenths,
               CASE WHEN v.trade_id = (SELECT id FROM trades WHERE code = 'express') THEN :express ELSE g.id END,
               (now() AT TIME ZONE 'Asia/Shanghai')::date - h.days_ago, now()
        FROM (SELECT id, grid_code, trade_id FROM volunteers WHERE left_at IS NULL AND random() < :share) v
        LEFT JOIN volunteer_groups g ON g.auto_area = substr(v.grid_code, 1, 12)
        CROSS JOIN LATERAL (SELECT 10 + floor(random() * 31)::int AS tenths, floor(random() * 75)::int AS days_ago
                            FROM generate_series(1, 1 + floor(random() * 6)::int) WHERE v.id IS NOT NULL) h"""),
        {"share": share, "express": express})
    db.session.commit()
    indexes = list(PointsSummary.__table__.indexes) + list(GroupPointsSummary.__table__.indexes)
    for index in indexes:
        index.drop(db.engine, checkfirst=True)
    periods = """CROSS JOIN LATERAL (VALUES ('all'), ('w' || to_char(e.earned_on, 'IYYYIW')),
                                           ('m' || to_char(e.earned_on, 'YYYYMM'))) p(period)"""
    run(text(f"""
        INSERT INTO points_summaries (period, volunteer_id, points, hours_tenths, district_code, street_code,
                                      community_code, grid_code)
        SELECT p.period, e.volunteer_id, sum(e.points), sum(e.hours_tenths), substr(v.grid_code, 1, 6),
               substr(v.grid_code, 1, 9), substr(v.grid_code, 1, 12), v.grid_code
        FROM points_entries e JOIN volunteers v ON v.id = e.volunteer_id {periods}
        GROUP BY p.period, e.volunteer_id, v.grid_code ORDER BY 1, 2"""))
    run(text(f"""
        INSERT INTO group_points_summaries (period, group_id, volunteer_id, points, hours_tenths)
        SELECT p.period, e.group_id, e.volunteer_id, sum(e.points), sum(e.hours_tenths)
        FROM points_entries e {periods} WHERE e.group_id IS NOT NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""))
    db.session.commit()
    for index in indexes:
        index.create(db.engine)
    vacuum("points_entries, points_summaries, group_points_summaries")
    return tuple(run(text(f"SELECT count(*) FROM {t}")).scalar()
                 for t in ("points_entries", "points_summaries", "group_points_summaries"))


def express_group() -> int:
    """A city-wide trade group of every 快递物流 volunteer: the group with the most patrollers (created once)."""
    from app.extensions import db

    group_id = 7000000000000000002
    db.session.execute(text("""
        INSERT INTO volunteer_groups (id, name, kind, area_code, trade_id, join_policy, description, member_count,
                                      created_at, updated_at)
        SELECT :g, '压测：全市快递物流街坊群', 'trade', '4401', t.id, 'open', '压测', 0, now(), now()
        FROM trades t WHERE t.code = 'express' ON CONFLICT DO NOTHING"""), {"g": group_id})
    db.session.execute(text("""
        INSERT INTO volunteer_group_members (group_id, volunteer_id, status, role, created_at, decided_at)
        SELECT :g, v.id, 'active', 'member', now(), now() FROM volunteers v JOIN trades t ON t.id = v.trade_id
        WHERE t.code = 'express' AND v.left_at IS NULL ON CONFLICT DO NOTHING"""), {"g": group_id})
    db.session.commit()
    return group_id


AREA_SCOPES = ("district", "street", "community", "grid")


def has_ledger() -> bool:
    from app.extensions import db

    return db.session.execute(text("SELECT 1 FROM points_summaries WHERE period = 'all' LIMIT 1")).first() is not None


def busiest_areas() -> dict:
    """The district with most volunteers holding points, then its busiest street, community and grid."""
    from app.extensions import db

    codes, prefix = {}, ""
    for level in AREA_SCOPES:
        codes[level] = db.session.execute(text(f"""
            SELECT {level}_code FROM points_summaries WHERE period = 'all' AND {level}_code LIKE :p
            GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"""), {"p": prefix + "%"}).scalar()
        prefix = codes[level]
    return codes


def _board_sql(scope: str) -> tuple[str, str]:
    """(table, condition on :c) of a board."""
    return ("group_points_summaries", "s.group_id = :c") if scope == "group" else \
        ("points_summaries", f"s.{scope}_code = :c")


def lowest_placed(scope: str, scope_id: str, key: str):
    """The user of the volunteer with the fewest (positive) points on the board: their rank counts almost the
    whole board, the worst case."""
    from app.extensions import db

    table, condition = _board_sql(scope)
    user_id = db.session.execute(text(f"""
        SELECT v.user_id FROM {table} s JOIN volunteers v ON v.id = s.volunteer_id
        WHERE s.period = :k AND {condition} AND s.points > 0 AND v.user_id IS NOT NULL
        ORDER BY s.points, s.volunteer_id LIMIT 1"""), {"k": key, "c": int(scope_id) if scope == "group" else scope_id})
    return SimpleNamespace(id=user_id.scalar())  # board() reads only the id: no reload per call


def board_timings(runs: int, express: int) -> list[dict]:
    """Every board (the busiest district, street, community and grid; the city-wide 快递物流 group and the busiest
    community's group) for each period: its size, the lowest-placed caller's rank, median ms of `runs` warm calls."""
    from app.extensions import db
    from app.patrols import leaderboard, points

    keys = dict(zip(("all", "week", "month"), points.period_keys(points.today())))
    areas = busiest_areas()
    community_group = db.session.execute(text("SELECT id FROM volunteer_groups WHERE auto_area = :c"),
                                         {"c": areas["community"]}).scalar()
    boards = [(scope, areas[scope]) for scope in AREA_SCOPES]
    timings = []
    for scope, scope_id in boards + [("group", str(express)), ("group", str(community_group))]:
        for period in ("week", "month", "all"):
            table, condition = _board_sql(scope)
            size = db.session.execute(text(f"SELECT count(*) FROM {table} s WHERE s.period = :k AND {condition}"),
                                      {"k": keys[period],
                                       "c": int(scope_id) if scope == "group" else scope_id}).scalar()
            user = lowest_placed(scope, scope_id, keys[period])

            def call():
                db.session.rollback()
                return leaderboard.board(user=user, scope=scope, scope_id=scope_id, period=period, limit=20)

            me = call()["me"]
            timings.append({"scope": scope, "id": scope_id, "period": period, "size": size,
                            "rank": me and me["rank"], "ms": median_ms(call, runs)})
    return timings


def bench_leaderboards(app, runs: int, express: int) -> list[float]:
    print("leaderboards (top 20 + my rank, asked by the lowest-placed volunteer of the board: the costliest rank):")
    timings = board_timings(runs, express)
    for t in timings:
        line(f"{t['scope']:<9} {t['id']:<19} {t['period']:<5} {t['size']:>8,} on the board, my rank {t['rank']}",
             f"{t['ms']:6.1f} ms")
    explain_district(busiest_areas()["district"])
    return [t["ms"] for t in timings]


def explain_district(district: str) -> None:
    """The plans behind the district board: both queries read one index range."""
    from app.extensions import db

    for label, sql in (
            ("top 20", "SELECT volunteer_id, points FROM points_summaries WHERE period = 'all' AND district_code = :d "
                       "AND points > 0 ORDER BY points DESC, volunteer_id DESC LIMIT 20"),
            ("rank count", "SELECT count(*) FROM points_summaries WHERE period = 'all' AND district_code = :d "
                           "AND points > 10")):
        plan = db.session.execute(text("EXPLAIN (ANALYZE, COSTS OFF) " + sql), {"d": district}).scalars().all()
        nodes = [p.strip() for p in plan if "Scan" in p]
        line(f"EXPLAIN district {label}", nodes[0][:90] if nodes else plan[0][:90])


def bench_checkins(app, count: int) -> None:
    """Sign volunteers up to patrols in the busiest communities, then time POST /patrols/checkins in-process."""
    from flask_jwt_extended import create_access_token

    from bench.patrol_checkins import checkin_body, checkin_pairs, clear_bench_patrols

    pairs = checkin_pairs(count, communities=40)
    headers = [{"Authorization": "Bearer " + create_access_token(identity=str(uid), additional_claims={"fam": "b"})}
               for _, uid in pairs]
    client = app.test_client()
    started = time.perf_counter()
    statuses = {}
    for (patrol_id, _), header in zip(pairs, headers):
        r = client.post("/api/v1/patrols/checkins", json=checkin_body(patrol_id), headers=header)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    seconds = time.perf_counter() - started
    write = one_write_ms(len(pairs))
    health = median_ms(lambda: client.get("/api/v1/health"), 200)
    print("check-in (in-process Flask test client, one thread: JWT, user, 2 statements + commit):")
    line(f"POST /patrols/checkins x {len(pairs):,} (statuses {statuses})",
         f"{len(pairs) / seconds:,.0f} /s = {seconds / len(pairs) * 1000:.2f} ms each")
    line("one INSERT + commit through the session, same count (the write it cannot avoid)",
         f"{1000 / write:,.0f} /s = {write:.2f} ms each")
    line("GET /health in-process (framework + SELECT 1)", f"{health:.2f} ms")
    clear_bench_patrols()


def one_write_ms(count: int) -> float:
    """Mean time of one INSERT + commit of a row into a scratch table, in this process."""
    from app.extensions import db

    db.session.execute(text("CREATE TABLE IF NOT EXISTS bench_patrol_writes (id bigint, at timestamptz)"))
    db.session.commit()
    started = time.perf_counter()
    for i in range(count):
        db.session.execute(text("INSERT INTO bench_patrol_writes VALUES (:i, now())"), {"i": i})
        db.session.commit()
    seconds = time.perf_counter() - started
    db.session.execute(text("DROP TABLE bench_patrol_writes"))
    db.session.commit()
    return seconds / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 volunteers at least, fewer runs and check-ins")
    parser.add_argument("--min-volunteers", type=int, default=None)
    parser.add_argument("--share", type=float, default=0.55, help="share of volunteers with points (default 0.55)")
    parser.add_argument("--checkins", type=int, default=None)
    args = parser.parse_args()
    minimum = args.min_volunteers or (100_000 if args.quick else 1_310_000)
    runs, checkins = (7, 500) if args.quick else (15, 3000)
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    app = open_app(url)
    print(f"patrols bench on {make_url(url).render_as_string(hide_password=True)}")
    with app.app_context():
        have = prepare_volunteers(minimum)
        express = express_group()
        started = time.perf_counter()
        entries, summaries, group_rows = build_points(args.share, express)
        print(f"points for {args.share:.0%} of {have:,} volunteers: {entries:,} ledger lines, {summaries:,} volunteer "
              f"and {group_rows:,} group summary rows, built in {time.perf_counter() - started:.0f} s")
        timings = bench_leaderboards(app, runs, express)
        line("slowest leaderboard (target 100 ms)", f"{max(timings):.1f} ms")
        bench_checkins(app, args.checkins or checkins)


if __name__ == "__main__":
    main()
