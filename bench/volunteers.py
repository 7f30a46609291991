"""Volunteers at city scale on PostgreSQL: import 1,310,000 through the import path, then time the stats, the search
keyset pages and the export. A script that prints figures, not a test.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench python bench/volunteers.py [--count N]

`--import-only` stops after the import; `--breakdown` only prints what a volunteer costs PostgreSQL, part by part
(accounts, grants, profiles), with and without foreign keys (cost_breakdown).

The database is created if missing. It must be a benchmark database: the script empties its users and volunteers."""
import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402


def _random_ids(count: int) -> list[int]:
    # Imported when called: importing `app` reads config.py, which must not happen before bench/run.py has put
    # the bench database's URL in the environment.
    from app.common.ids import random_ids

    return random_ids(count)


DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
STATS = [("district", "4401"), ("street", "4401"), ("community", "440106"), ("grid", "4401"), ("trade", "4401"),
         ("interest", "4401"), ("service_role", "4401"), ("trade", "440106001"), ("interest", "440106001001")]
SEARCHES = ["area=4401", "area=4401&trade=express", "area=4401&interest=running", "area=440106&service_role=mediator"]


def ensure_database(url: str) -> None:
    """CREATE DATABASE when it is missing."""
    target = make_url(url)
    if "bench" not in (target.database or ""):
        raise SystemExit(f"refusing to use {target.database!r}: the bench empties users; name the database *bench*")
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": target.database}).first():
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def build_app(url: str):
    from app import create_app
    from config import TestingConfig

    class BenchConfig(TestingConfig):  # fixed secrets: the bench writes and reads its own data
        SQLALCHEMY_DATABASE_URI = url
        REDIS_URL = None
        RATELIMIT_ENABLED = False

    return create_app(BenchConfig)


def median_ms(fn, runs: int = 7) -> float:
    """Median ms of `runs` calls after one warm-up."""
    fn()  # warm
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def line(label: str, value: str) -> None:
    print(f"  {label:<52} {value}", flush=True)


def empty() -> None:
    """Empty the volunteers and every account (TRUNCATE users CASCADE): the import then inserts, as a first one does."""
    from app.extensions import db

    db.session.execute(text("TRUNCATE volunteer_group_members, volunteer_groups, volunteer_counts, volunteers, "
                            "role_grants, refresh_tokens, users CASCADE"))
    db.session.commit()


def migrate() -> None:
    """The schema at head, the areas seeded, the volunteers and accounts emptied."""
    import flask_migrate

    from app.areas.seed import seed_areas

    flask_migrate.upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    seed_areas()
    empty()


def prepare(app, count: int, path: Path) -> None:
    from app.volunteers import demo

    migrate()
    started = time.perf_counter()
    demo.write_csv(path, count=count, seed=2021)
    line(f"demo CSV written ({path.stat().st_size / 1e6:.0f} MB, not timed below)",
         f"{time.perf_counter() - started:.1f} s")


def server_cpu() -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend of this database (local server, read from /proc)."""
    from app.extensions import db

    pids = db.session.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).scalars()
    ticks, used = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def server_cpu_since(before: dict[int, float]) -> float | None:
    """PostgreSQL CPU seconds used by this database's backends since `before` (server_cpu()); None when the server
    is not local."""
    after = server_cpu()
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items()) if after else None


def _outside_transaction(sql: str) -> None:
    """Run a statement that cannot run in a transaction block (VACUUM, CHECKPOINT) on a connection of its own."""
    from app.extensions import db

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(sql))


def import_file(path: Path, count: int) -> tuple[float, float, float | None]:
    """(seconds, Python CPU seconds, PostgreSQL CPU seconds or None when the server is not local) of importing the
    file through the `flask volunteers import` path (all rows must be inserted)."""
    from app.volunteers import importer

    server_before, client_before = server_cpu(), time.process_time()
    with path.open("rb") as stream:
        started = time.perf_counter()
        report = importer.import_stream(stream, batch_size=50_000, background=True)
        seconds = time.perf_counter() - started
    client_cpu, pg_cpu = time.process_time() - client_before, server_cpu_since(server_before)
    assert report.inserted == count and report.rejected == 0, report
    return seconds, client_cpu, pg_cpu


# the ceiling's COPY columns and their PostgreSQL types (binary COPY)
_USER_COPY = {"id": "int8", "phone_hash": "varchar", "phone_enc": "bytea", "is_active": "bool",
              "created_at": "timestamptz"}
_GRANT_COPY = {"user_id": "int8", "role": "varchar", "area_code": "varchar", "created_at": "timestamptz"}
_VOLUNTEER_COPY = {"id": "int8", "user_id": "int8", "real_name_enc": "bytea", "name_index": "varchar",
                   "grid_code": "varchar", "trade_id": "int2", "interest_mask": "int8", "service_roles": "int2",
                   "source": "varchar", "created_at": "timestamptz", "updated_at": "timestamptz",
                   "moved_at": "timestamptz"}


class _ReadyPeople:
    """Ready rows as a city's first import writes them (random hashes, ciphertexts of the import's lengths, real
    grids and trades), a batch at a time: (table, its COPY columns, rows) for the accounts, grants and profiles."""

    def __init__(self, seed: int):
        import random

        from app.extensions import db
        from app.volunteers.checks import Sealer

        self.grids = db.session.execute(text("SELECT code FROM areas WHERE level = 'grid'")).scalars().all()
        self.trades = db.session.execute(text("SELECT id FROM trades")).scalars().all()
        sample = Sealer().row(0, "13800000000", "陈大文", self.grids[0], self.trades[0], 0, 1)
        self.phone_len, self.name_len, self.rnd = len(sample.phone_enc), len(sample.name_enc), random.Random(seed)

    def batch(self, first_line: int, user_ids: list[int], now) -> tuple:
        """One batch of len(user_ids) people, with those account ids."""
        from app.auth.models import CITY_CODE
        from app.volunteers import bulk

        rnd = self.rnd
        people = {row.phone_hash: row for row in (
            bulk.StageRow(first_line + k, rnd.randbytes(16).hex(), rnd.randbytes(self.phone_len),
                          rnd.randbytes(self.name_len), rnd.randbytes(16).hex(), rnd.choice(self.grids),
                          rnd.choice(self.trades), rnd.getrandbits(20), 1, 0)
            for k in range(len(user_ids)))}
        rows = bulk.make_batch(people).rows  # plain tuples in bulk.STAGE_COLUMNS order
        ids = user_ids[:len(rows)]
        users = [(uid, row[1], row[2], True, now) for uid, row in zip(ids, rows)]
        grants = [(uid, role, CITY_CODE, now) for uid in ids for role in bulk.NEW_ACCOUNT_ROLES]
        # in id order, as the import inserts them
        profiles = sorted((row[9], uid, *row[3:9], "import", now, now, now) for uid, row in zip(ids, rows))
        return (("users", _USER_COPY, users), ("role_grants", _GRANT_COPY, grants),
                ("volunteers", _VOLUNTEER_COPY, profiles))


def copy_ceiling(count: int, batch: int = 50_000, seed: int = 2021, connections: int = 1) -> tuple[float, float | None]:
    """The import's ceiling on this database: (seconds, PostgreSQL CPU seconds or None) to COPY `count` ready rows
    (random hashes, ciphertexts of the import's lengths, real grids and trades) straight into users, role_grants
    and volunteers, with their indexes and foreign keys, one transaction per batch, in the order the first
    import's path writes them; no reading, checking or encryption. With connections > 1, a pass of one batch per
    connection is written at once, each from a thread of its own: what PostgreSQL can store with that many cores.
    The rows are made outside the timing, a pass at a time, on emptied tables, which are emptied again (and
    checkpointed) afterwards."""
    import threading

    from flask import current_app

    from app.common.time import utcnow
    from app.common.upsert import copy_rows
    from app.extensions import db

    people = _ReadyPeople(seed)
    app = current_app._get_current_object()
    batch = min(batch, -(-count // connections))  # a small count still gives every connection a batch

    failed = []

    def store(tables) -> None:  # one batch, one transaction (in the thread's own app context and connection)
        with app.app_context():
            try:
                for table, columns, data in tables:
                    copy_rows(table, tuple(columns), data, tuple(columns.values()))
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 — raised by the calling thread: a ceiling that failed is none
                failed.append(exc)

    empty()
    seconds, server_before = 0.0, server_cpu()
    for start in range(0, count, batch * connections):
        n, now = min(batch * connections, count - start), utcnow()
        user_ids = _random_ids(n)
        work = []
        for first in range(0, n, batch):
            work.append(people.batch(start + first, user_ids[first:first + batch], now))
        threads = [threading.Thread(target=store, args=(tables,)) for tables in work]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds += time.perf_counter() - started
        if failed:
            raise failed[0]
    pg_cpu = server_cpu_since(server_before)
    empty()
    checkpoint()
    return seconds, pg_cpu


# What a volunteer costs PostgreSQL, part by part (cost_breakdown): the tables each variant writes.
PARTS = {"accounts": ("users",), "accounts + grants": ("users", "role_grants"),
         "accounts + profiles": ("users", "volunteers"),
         "accounts + grants + profiles (the import)": ("users", "role_grants", "volunteers")}
FOREIGN_KEYS = {"role_grants": ("fk_role_grants_user_id_users",),
                "volunteers": ("fk_volunteers_user_id_users", "fk_volunteers_trade_id_trades")}


def cost_breakdown(count: int = 300_000, batch: int = 50_000, seed: int = 2021) -> list[tuple[str, bool, float]]:
    """PostgreSQL CPU µs per volunteer to COPY `count` ready people into each variant of PARTS, with their foreign
    keys and without: [(variant, with foreign keys, µs)]. Each variant is one transaction, rolled back; without
    foreign keys, their constraints are dropped inside it and come back with the rollback (DDL is transactional
    in PostgreSQL), so the schema is never left without them. Emptied tables first (they are the bench's)."""
    from app.common.time import utcnow
    from app.common.upsert import copy_rows
    from app.extensions import db

    if not server_cpu():
        return []  # not a local server: nothing to read the CPU from
    measured = []
    for checked in (True, False):
        for variant, tables in PARTS.items():
            empty()
            people, now = _ReadyPeople(seed), utcnow()
            ids = _random_ids(count)
            batches = [people.batch(first, ids[first:first + batch], now) for first in range(0, count, batch)]
            db.session.commit()
            before = server_cpu()
            if not checked:
                for table in tables:
                    for name in FOREIGN_KEYS.get(table, ()):
                        db.session.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
            for parts in batches:
                for table, columns, rows in parts:
                    if table in tables:
                        copy_rows(table, tuple(columns), rows, tuple(columns.values()))
            spent = server_cpu_since(before)
            db.session.rollback()
            measured.append((variant, checked, spent / count * 1e6))
    empty()
    return measured


def cpu_bound(python_us: float, postgres_us: float, cores: int) -> int:
    """The most rows/s a CPU cost per row (Python + PostgreSQL, µs) allows on `cores` cores, however the work is
    split between them."""
    return round(cores / (python_us + postgres_us) * 1e6)


def every_core() -> int:
    """Connections for the machine's ceiling: one per core (2 to 4)."""
    return min(4, max(2, os.cpu_count() or 2))


def ceilings(count: int) -> dict[int, tuple[float, float | None]]:
    """Both ceilings, {connections: copy_ceiling's (seconds, PostgreSQL CPU seconds)}: over every core first, then
    over one connection, the import's own yardstick, so that it runs just before the import."""
    return {connections: copy_ceiling(count, connections=connections) for connections in (every_core(), 1)}


def checkpoint() -> None:
    """CHECKPOINT, so that what is timed next starts a checkpoint cycle of its own instead of paying for the WAL
    written before it (the ceiling's, about 2 GB at 1.31 M rows: full-page writes in the import; the HTTP load's,
    before the warm timings); skipped without the right."""
    from sqlalchemy.exc import DBAPIError

    try:
        _outside_transaction("CHECKPOINT")
    except DBAPIError:  # needs superuser or pg_checkpoint
        pass


def vacuum() -> float:
    """VACUUM ANALYZE the volunteer tables (autovacuum's job in production); returns seconds."""
    from app.extensions import db

    started = time.perf_counter()
    db.session.commit()
    _outside_transaction("VACUUM (ANALYZE) volunteers, volunteer_counts, users, role_grants, volunteer_groups")
    return time.perf_counter() - started


def bench_import(app, path: Path, count: int) -> None:
    from app.volunteers import importer

    for connections, (seconds, pg_cpu) in ceilings(count).items():
        line(f"ceiling: COPY {count:,} ready rows into the same tables, {connections} connection(s)",
             f"{seconds:.1f} s = {count / seconds:,.0f} rows/s"
             + (f", PostgreSQL {pg_cpu / count * 1e6:.0f} µs/row" if pg_cpu is not None else ""))
    seconds, client_cpu, pg_cpu = import_file(path, count)
    line(f"import {count:,} volunteers (flask volunteers import path)",
         f"{seconds:.1f} s = {count / seconds:,.0f} rows/s")
    line(f"  CPU per row: Python (read, check, encrypt) {client_cpu / count * 1e6:.0f} µs, PostgreSQL",
         f"{pg_cpu / count * 1e6:.0f} µs" if pg_cpu is not None else "n/a (server not local)")
    if pg_cpu is not None:  # reading overlaps writing, so an otherwise idle machine runs at the slower side's pace
        line("  => on an idle machine with a core for each side (estimate)",
             f"{count / max(client_cpu, pg_cpu):,.0f} rows/s")
        line(f"  => at most on {every_core()} cores, both sides perfectly split",
             f"{cpu_bound(client_cpu / count * 1e6, pg_cpu / count * 1e6, every_core()):,} rows/s")
    line("VACUUM ANALYZE afterwards (autovacuum's job in production)", f"{vacuum():.1f} s")
    rerun = min(count, 100_000)
    head = b"".join(path.open("rb").readlines()[:rerun + 1])
    started = time.perf_counter()
    report = importer.import_stream(io.BytesIO(head), batch_size=50_000, background=True)
    seconds = time.perf_counter() - started
    line(f"re-import {rerun:,} of them (idempotent: all updates)", f"{seconds:.1f} s = {rerun / seconds:,.0f} rows/s")
    assert report.updated == rerun and report.inserted == 0, report


def bench_breakdown(count: int) -> None:
    measured = cost_breakdown(count)
    if not measured:
        line("PostgreSQL CPU per volunteer", "n/a (server not local)")
        return
    plain = {variant: us for variant, checked, us in measured if not checked}
    line(f"PostgreSQL CPU per volunteer, COPY of {count:,} ready people", "with foreign keys / without")
    for variant, checked, us in measured:
        if checked:
            line(f"  {variant}", f"{us:.1f} µs / {plain[variant]:.1f} µs")


def stats_timing(client, headers, by: str, area: str, runs: int = 7) -> tuple[float, dict]:
    """(median ms of GET /stats/volunteers?by=&area=, its body)."""
    url = f"/api/v1/stats/volunteers?by={by}&area={area}"
    body = client.get(url, headers=headers).get_json()
    return median_ms(lambda: client.get(url, headers=headers), runs), body


def keyset_timing(client, headers, query: str, pages: int = 1000, runs: int = 7) -> tuple[float, float, int]:
    """(median ms of page 1, of page `pages` (or the last page there is), the page number reached) of a search."""
    url = f"/api/v1/volunteers?{query}&limit=20"
    cursor, reached = None, 1
    for _ in range(pages - 1):
        page = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=headers).get_json()
        if not page["next_cursor"]:
            break
        cursor, reached = page["next_cursor"], reached + 1
    nth_url = f"{url}&cursor={cursor}" if cursor else url
    return median_ms(lambda: client.get(url, headers=headers), runs), \
        median_ms(lambda: client.get(nth_url, headers=headers), runs), reached


def bench_queries(app, client, headers) -> None:
    for by, area in STATS:
        ms, body = stats_timing(client, headers, by, area)
        line(f"stats by={by} area={area} ({len(body['rows'])} rows, total {body['total']:,})", f"{ms:.1f} ms")
    for query in SEARCHES:
        first, thousandth, reached = keyset_timing(client, headers, query)
        line(f"search {query}: page 1 / page {reached:,}", f"{first:.1f} ms / {thousandth:.1f} ms")
    person = client.get("/api/v1/volunteers?area=4401&limit=1", headers=headers).get_json()["items"][0]
    for label, query in (("exact phone, whole city", f"area=4401&q={_phone_of(person['id'])}"),
                         ("exact name, one street", f"area={person['grid'][:9]}&q={_name_of(person['id'])}"),
                         ("exact name, whole city", f"area=4401&q={_name_of(person['id'])}")):
        url = f"/api/v1/volunteers?{query}"
        assert person["id"] in {i["id"] for i in client.get(url, headers=headers).get_json()["items"]}
        line(f"search by {label}", f"{median_ms(lambda: client.get(url, headers=headers)):.1f} ms")


def _volunteer(volunteer_id: str):
    from app.extensions import db
    from app.volunteers.models import Volunteer

    return db.session.get(Volunteer, int(volunteer_id))


def _phone_of(volunteer_id: str) -> str:
    from app.auth import service as auth_service

    return auth_service.phone_of(auth_service.get_user(_volunteer(volunteer_id).user_id))


def _name_of(volunteer_id: str) -> str:
    from app.common.crypto import cipher
    from app.volunteers.service import NAME_AAD

    return cipher().decrypt(_volunteer(volunteer_id).real_name_enc, NAME_AAD)


def bench_export(client, headers, area: str) -> None:
    started = time.perf_counter()
    response = client.get(f"/api/v1/volunteers/export.csv?area={area}", headers=headers, buffered=False)
    rows = sum(chunk.count(b"\n") for chunk in response.response) - 1
    seconds = time.perf_counter() - started
    line(f"export.csv area={area} ({rows:,} rows, masked, streamed)", f"{seconds:.1f} s = {rows / seconds:,.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, help="volunteers (default 1,310,000; 300,000 with --breakdown)")
    parser.add_argument("--export-area", default="4401")
    parser.add_argument("--import-only", action="store_true", help="stop after the import and the re-import")
    parser.add_argument("--breakdown", action="store_true", help="only what a volunteer costs PostgreSQL, part by "
                        "part, with and without foreign keys (COPY of --count ready rows, default 300,000)")
    args = parser.parse_args()
    args.count = args.count or (300_000 if args.breakdown else 1_310_000)
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    ensure_database(url)
    app = build_app(url)
    print(f"volunteers bench: {args.count:,} volunteers on {make_url(url).render_as_string(hide_password=True)}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    if args.breakdown:
        with app.app_context():
            migrate()
            bench_breakdown(args.count)
        return
    with tempfile.TemporaryDirectory() as tmp, app.app_context():
        path = Path(tmp) / "volunteers.csv"
        prepare(app, args.count, path)
        bench_import(app, path, args.count)
    if args.import_only:
        return
    from tests import factories  # the same signed tokens the app issues, for an admin over the city

    with app.app_context():
        admin = factories.user(roles=[("admin", "4401")], username="bench-admin")
        headers = factories.auth_headers(admin)
        client = app.test_client()
        bench_queries(app, client, headers)
        bench_export(client, headers, args.export_area)


if __name__ == "__main__":
    main()
