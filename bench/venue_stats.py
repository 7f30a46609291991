"""Data section: per-venue day statistics (scans per hour and colour) for the busiest synthetic venue on its busiest
loaded day: `stats.day_stats`, median and p95 of warm runs, and EXPLAIN ANALYZE of its one query."""
from datetime import timedelta

from sqlalchemy import text

from bench import scan_data, timing
from bench.core import Row


def busiest_day(db, venue_id: int, since, until):
    """The local (Asia/Shanghai) day with the most scans at the venue."""
    return db.session.execute(text(
        "SELECT (scanned_at AT TIME ZONE 'Asia/Shanghai')::date d FROM scans WHERE venue_id = :v "
        "AND scanned_at >= :s AND scanned_at < :u GROUP BY d ORDER BY count(*) DESC LIMIT 1"),
        {"v": venue_id, "s": since, "u": until}).scalar()


def run(ctx, quick: bool) -> list[Row]:
    from app.extensions import db
    from app.venues import stats
    from bench.tracing import loaded_range

    venue_id = scan_data.Shape().venue_id(0)
    with ctx.app.app_context():
        since, until = loaded_range()
        day = busiest_day(db, venue_id, since + timedelta(days=1), until - timedelta(days=1))
        median, p95, result = timing.warm_ms(lambda: stats.day_stats(venue_id=venue_id, day=day),
                                             runs=20 if quick else 40)
        plan = timing.explain(db.session, stats.day_query(venue_id=venue_id, day=day))
        db.session.rollback()
    ok_index = timing.reads_index(plan, "venue_id_scanned_at_idx")
    note = (f"hot venue, {day}: {result.total:,} scans in 24 hours; query {timing.execution_ms(plan)} ms in EXPLAIN "
            f"ANALYZE, {'(venue, time) index' if ok_index else 'NOT the (venue, time) index'}: "
            f"{', '.join(timing.indexes_used(plan)[:2])}; p95 in the p99 column")
    return [Row("per-venue day stats (hot venue)", p50_ms=median, p99_ms=p95, unit="ms", target="reported",
                met=None if ok_index else False, note=note, extra={"p95_ms": p95, "plan": plan})]
