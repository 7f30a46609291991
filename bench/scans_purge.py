"""Data section, run last: `flask scans purge` (what cron runs daily) on the loaded data — it drops the month
partitions wholly past SCAN_RETENTION_DAYS (scans_load put an expired month there) and trims the boundary month.
The next run's scans_load puts the expired month back."""
import time

from sqlalchemy import text

from bench.core import Row


def _partitions(db) -> dict[str, int]:
    names = db.session.execute(text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                    "WHERE i.inhparent = 'scans'::regclass")).scalars().all()
    return {n: db.session.execute(text(f"SELECT count(*) FROM {n}")).scalar() for n in names}


def run(ctx, quick: bool) -> list[Row]:
    from app.extensions import db

    with ctx.app.app_context():
        before = _partitions(db)
        db.session.commit()
        started = time.perf_counter()
        result = ctx.app.test_cli_runner().invoke(args=["scans", "purge"])
        seconds = time.perf_counter() - started
        after = _partitions(db)
        db.session.commit()
    if result.exit_code != 0:
        raise RuntimeError(f"flask scans purge exited {result.exit_code}: {result.output.strip()[:80]}")
    dropped = sorted(set(before) - set(after))
    rows = sum(before[n] for n in dropped)
    note = (f"dropped {', '.join(dropped) or 'nothing'} ({rows:,} rows); "
            f"{sum(before.values()) - sum(after.values()) - rows:,} rows deleted from the boundary month")
    return [Row("scan purge: flask scans purge", p50_ms=seconds * 1000, unit="ms", target="reported",
                met=bool(dropped) or None, note=note, extra={"output": result.output.strip(), "dropped": dropped})]
