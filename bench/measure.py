"""The HTTP part of `make bench`: per scenario a smoke request, a warm-up and a measured run, in passes; rows with
ratios.

Each pass runs, for each yardstick, the yardstick, the scenarios whose target is a ratio to it and the yardstick
again (json, token issue, json; write, staff scan, check-in, write), then the other scenarios; the yardsticks run
once more at the end. A scenario's ratio in a pass is to the mean of its yardstick's runs just before and just
after it (for a target, only the targets' own runs lie between), and its row gives the median over the passes:
a slow patch of the machine then weighs on a ratio's two sides alike, and on one pass, not on the figure."""
import json
import statistics
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
    at: list = field(default_factory=list)  # each run's place in the order all runs went in (pass_order)
    rss_mb: float = 0.0
    failure: str = ""
    cpus: list = field(default_factory=list)  # µs of CPU per request per measured run (bench.cpu_split)

    @property
    def cpu(self) -> dict:
        """µs of CPU per request, the mean over the measured runs."""
        cpus = [c for c in self.cpus if c]  # a run without a split (no /proc) adds nothing
        return {key: statistics.fmean(c[key] for c in cpus) for key in cpus[0]} if cpus else {}


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


def pass_order(plan: list[Scenario]) -> list[Scenario]:
    """One pass: each yardstick, the scenarios with a ratio target on it, the yardstick again; then the rest."""
    yardsticks = [s for s in plan if s.key]
    targeted = {y.key: [s for s in plan if s.yardstick == y.key and s.min_ratio is not None] for y in yardsticks}
    order = []
    for yardstick in yardsticks:
        order += [yardstick] + targeted[yardstick.key] + ([yardstick] if targeted[yardstick.key] else [])
    return order + [s for s in plan if not s.key and s not in order]


def measure(plan: list[Scenario], *, args, gen: str, server, sampler, app, fixtures,
            say: Callable[[str], None], passes: int = 1) -> dict:
    """Each scenario of the plan (yardsticks first), `passes` times in `pass_order`: prepare, smoke, warm-up,
    measured run; the yardsticks once more at the end, so that every run has one of its yardstick's after it."""
    connections = max(4, 2 * len(server.workers()))
    results = {s.name: Measured(s) for s in plan}  # in the plan's order: the table's
    one_pass = pass_order(plan)
    order = [(n, i, s) for n in range(passes) for i, s in enumerate(one_pass)]
    order += [(passes, i, s) for i, s in enumerate(s for s in plan if s.key)]  # "yardsticks again"
    for at, (pass_no, i, scenario) in enumerate(order):
        if i == 0 and passes > 1:  # before a failed scenario is skipped: the passes stay labelled
            say(f"pass {pass_no + 1} of {passes}" if pass_no < passes else "yardsticks again")
        m = results[scenario.name]
        if m.failure:
            continue
        try:
            with app.app_context():
                requests = scenario.prepare(fixtures)  # just before each run: fresh tokens, unused requests
            m.failure = smoke(server.base, scenario, requests)
            if m.failure:
                say(f"  {scenario.name}: {m.failure}")
                continue
            warm = _drive(args, gen, server.base, scenario, requests, args.warmup, connections)
            sampler.window_mb()
            before = cpu_split.snapshot()
            result = _drive(args, gen, server.base, scenario, requests, args.seconds, connections, warm.requests)
            m.cpus.append(cpu_split.split(before, cpu_split.snapshot(), result.requests, server.workers()))
        except Exception as exc:  # noqa: BLE001 — a broken scenario is a failed row, the others still run
            m.failure = failure(exc)
            say(f"  {scenario.name}: {m.failure}")
            continue
        m.runs.append(result)
        m.at.append(at)
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


def pass_ratios(m: Measured, yardstick: Measured | None) -> list[float]:
    """A scenario's ratio in each pass: its run's rate over the mean of the yardstick's runs just before and just
    after it in the run order (one of them when the other is missing: a failed run)."""
    if yardstick is None or not yardstick.runs:
        return []
    timeline = list(zip(yardstick.at, yardstick.runs))
    ratios = []
    for at, run in zip(m.at, m.runs):
        before = [r for a, r in timeline if a < at][-1:]
        after = [r for a, r in timeline if a > at][:1]
        ceiling = statistics.fmean(r.rate for r in before + after) if before or after else 0.0
        if ceiling:
            ratios.append(run.rate / ceiling)
    return ratios


def row_for(m: Measured, yardsticks: dict) -> Row:
    """The scenario's row: mean rate and latencies over its runs, and the median of its per-pass ratios to its
    yardstick ({key: the yardstick's Measured})."""
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
    ratios = pass_ratios(m, yardsticks.get(s.yardstick)) if s.yardstick else []
    if ratios:
        row.ratio = statistics.median(ratios)
        row.extra["pass_ratios"] = [round(r, 3) for r in ratios]
        if len(ratios) > 1:
            row.note = "passes " + " / ".join(f"{r:.2f}" for r in ratios)
    row.met = s.judge(row)
    if errors["status"] or errors["timeout"]:
        row.met, row.note = False, f"errors: {row.extra['errors']}"
    if m.failure:
        row.met, row.note = False, m.failure
    return row
