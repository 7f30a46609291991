"""Data section: import 1.31 M volunteers (quick: 100,000) through the `flask volunteers import` path from a demo
CSV (written first, not timed), on an emptied database (TRUNCATE users CASCADE: the import inserts, as a city's first
one does; the scenarios' users, codes and venues are made again after it). Rows/s; target ≥ 50,000/s."""
import tempfile
import time
from pathlib import Path

from bench import volunteers
from bench.core import Row

FULL, QUICK = 1_310_000, 100_000
TARGET_RATE = 50_000


def run(ctx, quick: bool) -> list[Row]:
    from app.volunteers import demo

    count = QUICK if quick else FULL
    with tempfile.TemporaryDirectory() as tmp, ctx.app.app_context():
        path = Path(tmp) / "volunteers.csv"
        started = time.perf_counter()
        demo.write_csv(path, count=count, seed=2021)
        written = time.perf_counter() - started
        volunteers.empty()
        seconds = volunteers.import_file(path, count)
        vacuum = volunteers.vacuum()
    rate = count / seconds
    return [Row(f"import {count:,} volunteers (CSV, import path)", rate=rate, unit="rows/s",
                target=f"≥ {TARGET_RATE:,} rows/s", met=rate >= TARGET_RATE,
                note=f"{seconds:.1f} s; CSV written first in {written:.1f} s, VACUUM ANALYZE after in {vacuum:.1f} s",
                extra={"count": count, "seconds": round(seconds, 2)})]
