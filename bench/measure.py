"""The HTTP part of `make bench`: per scenario a smoke request, a warm-up and a measured run; rows with ratios."""
import json
import traceback
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from bench import cpu_split, loadgen
from bench.core import Row, Scenario


@dataclass
class Measured:
    scenario: Scenario
    runs: list = field(default_factory=list)  # LoadResult per measured run
    rss_mb: float = 0.0
    failure: str = ""
    cpu: dict = field(default_factory=dict)  # µs of CPU per request in the last measured run (bench.cpu_split)


def smoke(base: str, scenario: Scenario, requests) -> str:
    """'' when a request answers the expected status, else what went wrong."""
    req = requests[-1]  # the last one: the runs start from the first and rarely get this far
    body = None if req.body is None else json.dumps(req.body).encode()
    call = urllib.request.Request(base + req.path, data=body, method=req.method, headers=req.all_headers())
    try:
        with urllib.request.urlopen(call, timeout=10) as reply:
            status, text = reply.status, ""
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read()[:120].decode(errors="replace")
    except OSError as exc:
        return f"failed: {req.method} {req.path}: {exc}"
    return "" if status == scenario.expect else f"failed: {req.method} {req.path} -> {status} {text}"


def _drive(args, gen: str, base: str, scenario: Scenario, requests, seconds: float, connections: int,
           offset: int = 0):
    if gen == "wrk":
        return loadgen.run_wrk(args.wrk_path, base, requests, seconds=seconds, connections=connections,
                               threads=min(2, connections), script=Path(args.out) / "scenario.lua",
                               offset=offset)
    return loadgen.run_python(base, requests, seconds=seconds, connections=connections, expect=scenario.expect,
                              offset=offset)


def measure(plan: list[Scenario], *, args, gen: str, server, sampler, app, fixtures,
            say: Callable[[str], None]) -> dict:
    """Each scenario of the plan: prepare, smoke, warm-up, measured run; the yardsticks again at the end."""
    connections = max(4, 2 * len(server.workers()))
    results: dict[str, Measured] = {}
    for scenario in [*plan, *[s for s in plan if s.key]]:  # yardsticks bracket the rest
        m = results.setdefault(scenario.name, Measured(scenario))
        if m.failure or (m.runs and not scenario.key):
            continue
        try:
            with app.app_context():
                requests = scenario.prepare(fixtures)  # just before the run: tokens that expire are fresh
            m.failure = smoke(server.base, scenario, requests)
            if m.failure:
                say(f"  {scenario.name}: {m.failure}")
                continue
            warm = _drive(args, gen, server.base, scenario, requests, args.warmup, connections)
            sampler.window_mb()
            before = cpu_split.snapshot()
            result = _drive(args, gen, server.base, scenario, requests, args.seconds, connections, warm.requests)
            m.cpu = cpu_split.split(before, cpu_split.snapshot(), result.requests, server.workers())
        except Exception as exc:  # noqa: BLE001 — a broken scenario is a failed row, the others still run
            m.failure = failure(exc)
            say(f"  {scenario.name}: {m.failure}")
            continue
        m.runs.append(result)
        m.rss_mb = max(m.rss_mb, sampler.window_mb())
        say(f"  {scenario.name}: {result.rate:,.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms"
            + (f", errors {result.errors}" if result.errors else ""))
        if scenario.unique and result.requests + warm.requests > len(requests):
            m.failure = f"too fast for its {len(requests)} distinct requests: raise their number"
    return {"results": results, "connections": connections}


def failure(exc: Exception) -> str:
    """One short line for the table (the full traceback goes to stderr)."""
    traceback.print_exc()
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"failed: {type(exc).__name__}: {first}"[:120]


def row_for(m: Measured, ceilings: dict) -> Row:
    s = m.scenario
    if not m.runs:
        return Row(s.name, target=s.target_text(), note=m.failure or "not run")
    n = len(m.runs)
    rate = sum(r.rate for r in m.runs) / n
    row = Row(s.name, rate=rate, p50_ms=sum(r.p50_ms for r in m.runs) / n, p99_ms=sum(r.p99_ms for r in m.runs) / n,
              target="ceiling" if s.key else s.target_text(),
              extra={"runs": [round(r.rate, 1) for r in m.runs], "rss_mb": round(m.rss_mb, 1),
                     "requests": sum(r.requests for r in m.runs), "cpu_us_per_request": m.cpu})
    errors = {k: sum(r.errors.get(k, 0) for r in m.runs) for k in ("connect", "read", "write", "status", "timeout")}
    row.extra["errors"] = {k: v for k, v in errors.items() if v}
    if s.yardstick and ceilings.get(s.yardstick):
        row.ratio = rate / ceilings[s.yardstick]
    row.met = s.judge(row)
    if errors["status"] or errors["timeout"]:
        row.met, row.note = False, f"errors: {row.extra['errors']}"
    if m.failure:
        row.met, row.note = False, m.failure
    return row
