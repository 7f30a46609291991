"""Data section: 流调 over the loaded scans — `tracing.trace` for a person with exactly 20 visits in 28 days
(the default ±120-minute window), median and p95 of ≥ 20 warm runs, and EXPLAIN ANALYZE of its one statement
(visits and contacts), whose contact side must read only the (venue, time) index of each partition."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text

from bench import scan_data, timing
from bench.core import Row

WINDOW_MINUTES = 120
PERSON_ID_NUMBER_INDEX = 9999  # beyond hot_paths.RESIDENTS: the case's document is nobody else's
TARGET = "p50 ≤ 10 ms warm, (venue, time) index"


def case_code(fx, start: datetime) -> int:
    """The index case: a real health code (tracing checks it exists) that owns the generator's PERSON visits."""
    from app.extensions import db
    from app.health_codes import service as hc_service
    from bench.hot_paths import _id_number
    from bench.scans_load import DAYS, SEED

    owner = fx.users(1, role="resident", area="440106")[0]
    own = hc_service.list_own(owner_id=owner.id)
    code = own[0] if own else hc_service.apply(
        owner_id=owner.id, name="流调测试", id_type="cn_resident_id", id_number=_id_number(PERSON_ID_NUMBER_INDEX),
        phone=None, relation="self", consent=True)
    # By primary key, not by the synthetic id: after a volunteers import (TRUNCATE users CASCADE) the case's code is
    # made anew, and its visits must follow it.
    stamps, ids = zip(*scan_data.person_keys(start=start, days=DAYS, seed=SEED))
    db.session.execute(text("UPDATE scans SET health_code_id = :real WHERE (scanned_at, id) IN "
                            "(SELECT * FROM unnest(CAST(:stamps AS timestamptz[]), CAST(:ids AS bigint[])))"),
                       {"real": code.id, "stamps": list(stamps), "ids": list(ids)})
    db.session.commit()
    return code.id


def loaded_range() -> tuple[datetime, datetime]:
    """The 28 days scans_load put in the table (from its marker)."""
    from app.extensions import db
    from bench import markers
    from bench.scans_load import DAYS

    start = datetime.fromisoformat(markers.read(db, "scans")["start"]).replace(tzinfo=timezone.utc)
    return start, start + timedelta(days=DAYS)


def run(ctx, quick: bool) -> list[Row]:
    from app.common.sql import autocommit
    from app.extensions import db
    from app.venues import tracing
    from app.venues.models import Scan

    with ctx.app.app_context():
        since, until = loaded_range()
        code_id = case_code(ctx.fixtures, since)
        official = ctx.fixtures.users(1, role="health_official")[0]
        db.session.commit()  # then in autocommit, as POST /admin/tracing runs it (no BEGIN / COMMIT round trips)
        call = autocommit(lambda: tracing.trace(official=official, health_code_id=code_id, since=since,
                                                until=until, window_minutes=WINDOW_MINUTES, purpose="压测：流调基准"))
        median, p95, result = timing.warm_ms(call, runs=20 if quick else 40)
        params = tracing.trace_params(code_id, since, until, WINDOW_MINUTES)
        query = lambda: db.session.execute(tracing.TRACE, params).all()  # noqa: E731 — the statement alone
        q_median, q_p95, _ = timing.warm_ms(query, runs=20 if quick else 40)
        plan = timing.explain(db.session, tracing.TRACE.params(**params))
        total = db.session.execute(select(text("count(*)")).select_from(Scan)).scalar()
        db.session.rollback()
    ok_index = timing.reads_index(plan, "venue_id_scanned_at_idx")
    used = ", ".join(timing.indexes_used(plan))
    note = (f"{len(result['visits'])} visits, {result['contact_count']:,} contacts ({len(result['contacts']):,} "
            f"sightings) in {total:,} scans; its statement {timing.execution_ms(plan)} ms in EXPLAIN ANALYZE, "
            f"{'(venue, time) index' if ok_index else 'NOT the (venue, time) index'}: {used}; p95 in the p99 column")
    return [Row(f"tracing, person with {len(result['visits'])} visits (±{WINDOW_MINUTES} min)", p50_ms=median,
                p99_ms=p95, unit="ms", target=TARGET, met=median <= 10 and ok_index, note=note,
                extra={"p95_ms": p95, "plan": plan, "scans": total}),
            Row("tracing: its one statement alone (visits, contacts)", p50_ms=q_median, p99_ms=q_p95, unit="ms",
                target="p50 ≤ 10 ms warm", met=q_median <= 10,
                note="trace() above adds decrypting names, the audit row and its commit; p95 in the p99 column")]
