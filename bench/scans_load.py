"""Data section: load ≥ 10 M synthetic scans (quick: 300,000) into the monthly-partitioned `scans` table with COPY,
28 days up to today, plus 2 % in a month past retention (what the purge section drops). Rows/s of the load with
every index in place, then VACUUM ANALYZE, table + index bytes per row.

Idempotent: a COMMENT on the scans table records what was loaded (seed, rows, first day); when it matches and the
rows are there, nothing is loaded again (the row says so and repeats the first load's rate)."""
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from bench import markers, scan_data
from bench.core import Row

SEED = 4401
FULL, QUICK = 10_000_000, 300_000
DAYS = 28
OLD_SHARE = 0.02
TITLE = "load ≥ 10 M scans (COPY, partitioned, indexed)"


def window(now: datetime) -> tuple[datetime, datetime]:
    """(first day of the loaded 28 days, first day of the expired month), as UTC midnights of local dates: the 28 days
    end today in Asia/Shanghai, so the first local morning (22:00 UTC the evening before) stays inside retention
    whatever the hour; the expired month is the one before the month holding the retention cutoff, so its partition
    lies wholly past it."""
    from app.common.time import SHANGHAI

    today = datetime.combine(now.astimezone(SHANGHAI).date(), datetime.min.time(), tzinfo=timezone.utc)
    cutoff_month = (now - timedelta(days=DAYS)).astimezone(timezone.utc).replace(day=1, hour=0, minute=0, second=0,
                                                                                 microsecond=0)
    return today - timedelta(days=DAYS - 1), (cutoff_month - timedelta(days=1)).replace(day=1)


def plan(quick: bool, now: datetime) -> dict:
    """What this run wants in the table (also the COMMENT that marks it loaded)."""
    rows = QUICK if quick else FULL
    start, old = window(now)
    return {"seed": SEED, "rows": rows, "old_rows": int(rows * OLD_SHARE), "start": start.date().isoformat(),
            "old_start": old.date().isoformat()}


def _count(run, start: datetime, days: int) -> int:
    shape = scan_data.Shape()
    return run(text("SELECT count(*) FROM scans WHERE venue_id BETWEEN :lo AND :hi AND scanned_at >= :s "
                    "AND scanned_at < :e"), {"lo": shape.venue_id(0), "hi": shape.venue_id(shape.venues - 1),
                                             "s": start - timedelta(days=1), "e": start + timedelta(days=days)}
               ).scalar()


def _copy(db, **kwargs) -> int:
    """COPY the generated rows in; returns how many."""
    raw = db.engine.raw_connection()
    n = 0
    try:
        with raw.cursor() as cur, cur.copy(f"COPY scans ({', '.join(scan_data.COLUMNS)}) FROM STDIN") as copy:
            for chunk in scan_data.chunks(**kwargs):
                copy.write(chunk)
                n += chunk.count("\n")
        raw.commit()
    finally:
        raw.close()
    return n


def ensure_venues(db, owner_id: int) -> int:
    """The synthetic venues as real rows (names, communities) so tracing names them; returns how many were added."""
    shape = scan_data.Shape()
    return db.session.execute(text("""
        INSERT INTO venues (id, name, category, address, area_code, lat, lng, code_version, created_by, created_at,
                            updated_at)
        SELECT :base + n, '压测场所' || n, (ARRAY['商场','餐饮','交通站点','写字楼','社区出入口'])[1 + n % 5],
               '压测路 ' || n || ' 号', c.codes[1 + n % array_length(c.codes, 1)],
               23.13, 113.26, 1, :owner, now(), now()
        FROM generate_series(0, :n - 1) n,
             (SELECT array_agg(code ORDER BY code) codes FROM areas WHERE level = 'community') c
        ON CONFLICT (id) DO NOTHING"""), {"base": shape.venue_id(0), "n": shape.venues, "owner": owner_id}).rowcount


def _vacuum(db) -> float:
    started = time.perf_counter()
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) scans, venues"))
    return time.perf_counter() - started


def _size(db) -> int:
    return db.session.execute(text("SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits "
                                   "WHERE inhparent = 'scans'::regclass")).scalar() or 0


def load(ctx, quick: bool) -> dict:
    """Bring the scans table to this run's plan; returns the plan with the load figures."""
    from app.common.time import utcnow
    from app.extensions import db
    from app.venues import retention

    want = plan(quick, utcnow())
    start, old = (datetime.fromisoformat(want[k]).replace(tzinfo=timezone.utc) for k in ("start", "old_start"))
    retention.ensure_partitions(months_back=3)
    ensure_venues(db, ctx.fixtures.users(1, role="venue_staff")[0].id)
    db.session.commit()
    have, run = markers.read(db, "scans"), db.session.execute
    # Fewer rows than planned means a load that did not finish. More is fine: the hot-path scenarios record scans
    # too, some at a synthetic venue (the first bench venue worker also owns those), and must not force a reload.
    fresh = not markers.matches(have, {k: want[k] for k in ("seed", "rows", "start")}) \
        or _count(run, start, DAYS) < want["rows"]
    old_missing = _count(run, old, 28) != want["old_rows"]
    db.session.commit()
    if not fresh and not old_missing:
        return {**have, "skipped": True}
    loaded, started = 0, time.perf_counter()
    if fresh:
        run(text("TRUNCATE scans"))
        db.session.commit()
        ctx.say(f"  loading {want['rows']:,} scans over {DAYS} days from {want['start']} (COPY)")
        loaded += _copy(db, rows=want["rows"], start=start, days=DAYS, seed=SEED, person=True)
    loaded += _copy(db, rows=want["old_rows"], start=old, days=28, seed=SEED + 1)
    seconds = time.perf_counter() - started
    if not fresh:  # only the expired month came back (a purge ran since): the first load's figures stand
        _vacuum(db)
        markers.write(db, "scans", {**have, "old_start": want["old_start"]})
        return {**have, "old_start": want["old_start"], "skipped": True}
    want.update(rate=round(loaded / seconds), loaded=loaded, seconds=round(seconds, 1), vacuum_s=round(_vacuum(db), 1))
    want["bytes_per_row"] = round(_size(db) / max(1, want["rows"] + want["old_rows"]))
    markers.write(db, "scans", want)
    return {**want, "skipped": False}


def run(ctx, quick: bool) -> list[Row]:
    with ctx.app.app_context():
        done = load(ctx, quick)
    total = done["rows"] + done["old_rows"]
    if done["skipped"]:
        note = (f"already loaded ({total:,} rows, seed {done['seed']}; the expired month put back if purged): "
                f"the first load's rate, {done['bytes_per_row']} B/row with indexes")
    else:
        note = (f"{done['loaded']:,} rows in {done['seconds']} s; VACUUM ANALYZE {done['vacuum_s']} s; "
                f"{done['bytes_per_row']} B/row with indexes")
    return [Row(f"{TITLE} [{total:,} rows]", rate=done.get("rate"), unit="rows/s", target="load rate reported",
                note=note, extra=done)]
