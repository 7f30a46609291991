"""Timing helpers for the in-process data sections: warm medians and percentiles, EXPLAIN ANALYZE of a statement."""
import re
import statistics
import time


def warm_ms(fn, runs: int = 20, warmup: int = 3) -> tuple[float, float, object]:
    """(median ms, p95 ms, last result) of `runs` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    samples, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))], result


def explain(session, statement) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a SQLAlchemy statement on the session's PostgreSQL connection."""
    compiled = statement.compile(dialect=session.get_bind().dialect)
    rows = session.connection().exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {compiled.string}", compiled.params)
    return "\n".join(r[0] for r in rows)


def indexes_used(plan: str) -> list[str]:
    """Distinct index names the plan reads (Index Scan, Index Only Scan, Bitmap Index Scan), in order."""
    return list(dict.fromkeys(re.findall(r"Index (?:Only )?Scan (?:Backward )?(?:using|on) (\w+)", plan)))


def reads_index(plan: str, suffix: str, table: str = "scans") -> bool:
    """Whether the plan reads an index ending with `suffix` (each partition has its own copy) and no partition of
    `table` whole. Tiny partitions may also be read through another index: the planner's right choice there. A
    small side table read whole (the bench's 200 health codes) is also the planner's right choice, not a miss."""
    whole = re.search(rf"Seq Scan on {table}(?:_\w+)?\b", plan)
    return any(name.endswith(suffix) for name in indexes_used(plan)) and whole is None


def execution_ms(plan: str) -> float | None:
    found = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return float(found.group(1)) if found else None
