"""Data section (before the HTTP runs, which read its boards): a points ledger for 55 % of the loaded volunteers built
set-wise by bench/patrols.py, then every leaderboard scope and period timed in process (`leaderboard.board`, asked by
the board's lowest-placed volunteer: the costliest rank), median of warm runs; target ≤ 100 ms each.

The ledger is kept while the volunteers and the day are the same (a marker on points_summaries), so re-runs time the
boards without building it again."""
import time

from sqlalchemy import text

from bench import markers, patrols
from bench.core import Row

SHARE = 0.55
TARGET_MS = 100


def ledger(express: int) -> dict:
    """Build the ledger unless this day's one for the same volunteers is there; returns its figures."""
    from app.common.time import utcnow
    from app.extensions import db

    plan = {"share": SHARE, "volunteers": markers.read(db, "volunteers").get("count"),
            "day": utcnow().date().isoformat()}
    have = markers.read(db, "points_summaries")
    if markers.matches(have, plan) and db.session.execute(text("SELECT 1 FROM points_summaries LIMIT 1")).first():
        return {**have, "skipped": True}
    started = time.perf_counter()
    entries, summaries, groups = patrols.build_points(SHARE, express)
    done = {**plan, "entries": entries, "summaries": summaries, "group_summaries": groups,
            "build_s": round(time.perf_counter() - started, 1)}
    markers.write(db, "points_summaries", done)
    return {**done, "skipped": False}


def run(ctx, quick: bool) -> list[Row]:
    with ctx.app.app_context():
        express = patrols.express_group()
        built = ledger(express)
        timings = patrols.board_timings(5 if quick else 15, express)
    rows = []
    for scope_id in dict.fromkeys((t["scope"], t["id"]) for t in timings):
        mine = [t for t in timings if (t["scope"], t["id"]) == scope_id]
        worst = max(t["ms"] for t in mine)
        label = "city 快递物流 group" if scope_id[1] == str(express) else f"{scope_id[0]} {scope_id[1]}"
        rows.append(Row(f"leaderboard {label} (week/month/all)", p50_ms=worst, unit="ms",
                        target=f"≤ {TARGET_MS} ms each", met=worst <= TARGET_MS,
                        note=" / ".join(f"{t['ms']:.1f}" for t in mine) + " ms; "
                             + f"{max(t['size'] for t in mine):,} on the all-time board; p50 column: the slowest"))
    rows[0].note += (f"; ledger {built['entries']:,} lines, {built['summaries']:,} summary rows, built in "
                     f"{built['build_s']} s" + (" (kept from an earlier run)" if built["skipped"] else ""))
    rows[0].extra = {"ledger": built, "boards": timings}
    return rows
