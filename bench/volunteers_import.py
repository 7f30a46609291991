"""Data section: import 1.31 M volunteers (quick: 30,000) through the `flask volunteers import` path from a demo
CSV (written first, not timed), on an emptied database (TRUNCATE users CASCADE: the import inserts, as a city's first
one does; the scenarios' users, codes and venues are made again after it). Rows/s; target ≥ 50,000/s.

Before it, on the same emptied tables, two ceilings: COPY of as many ready rows straight into the accounts, grants and
profiles (volunteers.copy_ceiling), over one connection per core at once and then over one, each emptied again and
checkpointed after. They are PostgreSQL's own cost of storing the rows on this machine: the one-connection ceiling is
what no import over one connection can beat, and the import's ratio is to it; the every-core one is what no import
on this machine can beat, however it is split. The import's row also gives the most rows/s its own CPU per row
(Python + PostgreSQL) allows on the machine's cores, however the work is split (at_best).

Idempotent: when the volunteers table's marker records this count and seed and the rows are there, nothing is
imported again and the row repeats the first import's figures (`--fresh` starts over)."""
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bench import markers, volunteers
from bench.core import Row

FULL, QUICK = 1_310_000, 30_000  # quick: small enough for the two-minute run with the ledger built on it
SEED = 2021
TARGET_RATE = 50_000


def load(count: int) -> dict:
    """Import `count` demo volunteers unless the marker says they are there; returns the import's figures."""
    from app.extensions import db
    from app.volunteers import demo

    plan = {"seed": SEED, "count": count, "ceilings": 2}  # a marker from before the every-core ceiling: import again
    have = markers.read(db, "volunteers")
    there = db.session.execute(text("SELECT count(*) FROM volunteers WHERE left_at IS NULL")).scalar()
    if markers.matches(have, plan) and there == count:
        return {**have, "skipped": True}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "volunteers.csv"
        started = time.perf_counter()
        demo.write_csv(path, count=count, seed=SEED)
        written = time.perf_counter() - started
        cores = volunteers.every_core()
        measured = volunteers.ceilings(count)  # each leaves the tables empty
        (cores_s, _), (ceiling_s, ceiling_pg) = measured[cores], measured[1]
        seconds, client_cpu, pg_cpu = volunteers.import_file(path, count)
    done = {**plan, "seconds": round(seconds, 2), "rate": round(count / seconds), "csv_s": round(written, 1),
            "ceiling_rate": round(count / ceiling_s), "cores": cores, "cores_ceiling_rate": round(count / cores_s),
            "ceiling_postgres_us_per_row": None if ceiling_pg is None else round(ceiling_pg / count * 1e6),
            "vacuum_s": round(volunteers.vacuum(), 1), "python_us_per_row": round(client_cpu / count * 1e6),
            "postgres_us_per_row": None if pg_cpu is None else round(pg_cpu / count * 1e6)}
    size = db.session.execute(text("SELECT pg_total_relation_size('volunteers') + pg_total_relation_size('users') "
                                   "+ pg_total_relation_size('role_grants')")).scalar()
    done["bytes_per_volunteer"] = round(size / count)  # the profile, its account and grants, with their indexes
    markers.write(db, "volunteers", done)
    return {**done, "skipped": False}


def at_best(done: dict) -> int | None:
    """The most rows/s the import's own CPU per row (Python + PostgreSQL) allows on the machine's cores, however
    the work is split; None without both figures (a remote server, an old marker)."""
    python, postgres, cores = done.get("python_us_per_row"), done.get("postgres_us_per_row"), done.get("cores")
    return volunteers.cpu_bound(python, postgres, cores) if python and postgres and cores else None


def run(ctx, quick: bool) -> list[Row]:
    count = QUICK if quick else FULL
    with ctx.app.app_context():
        done = load(count)
    note = (f"{done['seconds']:.1f} s; CSV written first in {done['csv_s']} s, VACUUM ANALYZE after in "
            f"{done['vacuum_s']} s; CPU per row: Python {done.get('python_us_per_row')} µs, PostgreSQL "
            f"{done.get('postgres_us_per_row')} µs; {done.get('bytes_per_volunteer', '?')} B/volunteer "
            "(profile, account, grants)")
    best = at_best(done)
    if best is not None:
        note += (f"; its CPU per row allows at most {best:,} rows/s on {done['cores']} cores, both sides perfectly "
                 "split")
        if best < TARGET_RATE:
            note += f": under {TARGET_RATE:,}, out of this machine's reach as the import stands"
    if done["skipped"]:
        note = f"already imported (seed {done['seed']}): the first import's figures, {note}"
    rows = [Row(f"import {count:,} volunteers (CSV, import path)", rate=done["rate"], unit="rows/s",
                target=f"≥ {TARGET_RATE:,} rows/s", met=done["rate"] >= TARGET_RATE, note=note, extra=done)]
    if done.get("ceiling_rate"):  # absent from a marker written before the ceiling was measured
        rows[0].ratio = round(done["rate"] / done["ceiling_rate"], 2)
        rows.append(Row(f"  ceiling: COPY {count:,} ready rows into the same tables", rate=done["ceiling_rate"],
                        unit="rows/s", note=f"PostgreSQL {done['ceiling_postgres_us_per_row']} µs/row: accounts, "
                        "grants and profiles with their indexes and foreign keys, no reading, checking or "
                        "encryption; the import's ratio is to this"))
    if done.get("cores_ceiling_rate"):
        out_of_reach = done["cores_ceiling_rate"] < TARGET_RATE
        rows.append(Row(f"  ceiling over {done['cores']} connections (every core)", rate=done["cores_ceiling_rate"],
                        unit="rows/s", note="the same COPY, one batch per connection at once: what no import on "
                        "this machine can beat, however it is split" + (
                            f"; under {TARGET_RATE:,} rows/s, so the target is out of this machine's reach"
                            if out_of_reach else "")))
    return rows
