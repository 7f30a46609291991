"""有呼必应 figures at city scale: load N reports (2,000,000 by default) into their own PostgreSQL database with one
INSERT … SELECT over generate_series, fill the tallies from them (`flask reports rebuild-tallies`), then time
`stats.figures` (the query behind GET /api/v1/stats/reports) for a city, a district and a street, by street,
department and category, over 30 days and a whole year.

    .venv/bin/python -m bench.reports [--reports 2000000] [--runs 15] [--reload]

BENCH_REPORTS_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/bench_reports) names the
database; it is created, migrated and seeded when missing, and loaded only when it holds a different count."""
import argparse
import os
from datetime import timedelta

from sqlalchemy import text

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_reports"
# Reports arrive in filing order (the table's physical order follows time, as it does in service), spread evenly
# over the last 365 days. Open cases only among the last 10 days' reports; older ones were answered (some late)
# and mostly confirmed.
LOAD = """
INSERT INTO reports (id, client_key, source, reporter_id, reporter_visible, category_id, department_id, urgency,
                     text, grid_code, lat, lng, state, level, escalations, flagged, hand_backs, submitted_at,
                     due_at, accept_due_at, resolve_due_at, responded_at, resolved_at, confirmed_at, closed_at,
                     updated_at, steps, points_awarded)
SELECT i, 'bench-' || i, CASE WHEN i % 5 = 0 THEN '12345' ELSE 'app' END, NULL, false, cat, cat, 'normal',
       'bench', g.code, 23.1, 113.3,
       state, 'community', 0, hashint(i, 2) % 100 = 0, 0, submitted,
       CASE WHEN state IN ('submitted', 'accepted', 'dispatched', 'in_progress') THEN
            CASE WHEN state = 'in_progress' THEN submitted + interval '72 hours' ELSE submitted + interval '8 hours'
            END END,
       submitted + interval '8 hours', submitted + interval '72 hours',
       CASE WHEN state <> 'submitted' THEN submitted + (hashint(i, 3) % 600) * interval '1 minute' END,
       CASE WHEN state IN ('confirmed', 'closed') THEN submitted + (hashint(i, 4) % 5400) * interval '1 minute' END,
       CASE WHEN state = 'confirmed' THEN submitted + interval '100 hours' END,
       CASE WHEN state = 'closed' THEN submitted + interval '240 hours' END,
       submitted, 1, 0
FROM (SELECT i, 1 + hashint(i, 5) % 8 AS cat,
                     now() - (:n - i) * (interval '365 days' / :n) - (hashint(i, 6) % 60) * interval '1 second'
                     AS submitted
              FROM generate_series(:first, :last) AS i) AS base
     JOIN bench_report_grids g ON g.n = hashint(i, 1) % (SELECT count(*) FROM bench_report_grids),
     LATERAL (SELECT CASE
         WHEN hashint(i, 7) % 100 < 5 THEN 'rejected'
         WHEN hashint(i, 7) % 100 < 7 THEN 'duplicate'
         WHEN submitted > now() - interval '10 days' AND hashint(i, 7) % 100 < 40 THEN
              (ARRAY['submitted', 'accepted', 'dispatched', 'in_progress'])[1 + hashint(i, 8) % 4]
         WHEN hashint(i, 7) % 100 < 80 THEN 'confirmed'
         ELSE 'closed' END AS state) AS s
"""
# A deterministic integer hash in SQL, so that a reload makes the same data.
GRIDS = """
CREATE TABLE IF NOT EXISTS bench_report_grids AS
SELECT (row_number() OVER (ORDER BY code)) - 1 AS n, code FROM areas WHERE level = 'grid';
CREATE UNIQUE INDEX IF NOT EXISTS bench_report_grids_n ON bench_report_grids (n)
"""
HASHINT = """
CREATE OR REPLACE FUNCTION hashint(i bigint, salt int) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT abs(('x' || substr(md5(i::text || ':' || salt), 1, 15))::bit(60)::bigint) $$
"""
TABLES = ("reports", "report_tallies", "report_resolve_minutes", "report_resolve_subs")
CASES = [("city", "4401", "street", 30), ("city", "4401", "category", 30), ("district", "440106", "street", 30),
         ("street", "440106001", "department", 30), ("city", "4401", "department", 365),
         ("district", "440106", "category", 365), ("city", "4401", "street", 365)]


def load(db, n: int, batch: int = 500_000) -> None:
    """Replace the reports with n generated ones (in batches: one transaction each) with the secondary indexes
    dropped, then build them (one sort each instead of n random inserts) and fill the tallies (the load bypasses
    the ORM that keeps them)."""
    from app.reports import tallies
    from app.reports.models import Report

    indexes = sorted(Report.__table__.indexes, key=lambda i: i.name)
    db.session.execute(text("TRUNCATE reports, report_transitions, report_photo_links CASCADE"))
    db.session.execute(text(HASHINT))
    for statement in GRIDS.split(";"):
        db.session.execute(text(statement))
    for index in indexes:
        db.session.execute(text(f"DROP INDEX IF EXISTS {index.name}"))
    db.session.execute(text("ALTER TABLE reports DROP CONSTRAINT IF EXISTS uq_reports_reporter_client_key"))
    db.session.commit()
    for first in range(1, n + 1, batch):
        db.session.execute(text(LOAD), {"first": first, "last": min(n, first + batch - 1), "n": n})
        db.session.commit()
        print(f"  loaded {min(n, first + batch - 1):,}", flush=True)
    db.session.execute(text("SET maintenance_work_mem = '256MB'"))
    for index in indexes:
        index.create(db.session.connection())
    db.session.execute(text("ALTER TABLE reports ADD CONSTRAINT uq_reports_reporter_client_key "
                            "UNIQUE (reporter_id, client_key)"))
    db.session.commit()
    print("  indexes built", flush=True)
    tallies.fill(db.session.connection())
    db.session.commit()
    print("  tallies filled", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--reload", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("BENCH_REPORTS_DATABASE_URL", DEFAULT_URL)

    from app import create_app
    from app.extensions import db
    from app.reports import catalogue, stats
    from bench import timing
    from bench.database import ensure_database, migrate_and_seed
    from config import TestingConfig

    class BenchConfig(TestingConfig):  # its fixed keys: the bench database holds no personal data
        SQLALCHEMY_DATABASE_URI = url
        REDIS_URL = None

    ensure_database(url, fresh=False)
    app = create_app(BenchConfig)
    for line in migrate_and_seed(app, url):
        print(line)
    with app.app_context():
        catalogue.seed()
        have = db.session.execute(text("SELECT count(*) FROM reports")).scalar()
        if have != args.reports or args.reload:
            print(f"loading {args.reports:,} reports (had {have:,})", flush=True)
            load(db, args.reports)
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in TABLES:  # fresh statistics and visibility map (index-only reads), as autovacuum keeps them
                conn.execute(text(f"VACUUM ANALYZE {table}"))
        sizes = db.session.execute(text("SELECT " + ", ".join(
            f"pg_size_pretty(pg_total_relation_size('{table}'))" for table in TABLES))).one()
        print(f"reports: {args.reports:,} rows; with their indexes: "
              + ", ".join(f"{table} {size}" for table, size in zip(TABLES, sizes)))
        today = db.session.execute(text("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date")).scalar()
        for level, area, by, days in CASES:
            start = today - timedelta(days=days - 1)
            median, p95, result = timing.warm_ms(
                lambda: stats.figures(area=area, by=by, start=start, end=today), runs=args.runs)
            db.session.rollback()
            print(f"{level:8} {area:10} by {by:10} {days:3} days: {result['total']['count']:>9,} reports, "
                  f"{len(result['groups']):3} groups: median {median:7.1f} ms, p95 {p95:7.1f} ms")


if __name__ == "__main__":
    main()
