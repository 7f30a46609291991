"""The HTTP part of `make bench`: per scenario a smoke request, a warm-up and a measured run, in rounds; rows with
ratios.

Each round runs the yardsticks and then every scenario; the yardsticks run once more at the end. A scenario's ratio
in a round is to the mean of its yardstick's runs on either side of that round, and its row gives the median of
those ratios: a slow patch of the machine then weighs on one round, not on the figure."""
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
    runs: list = field(default_factory=list)  # LoadResult per measured run (one per round)
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


def measure(plan: list[Scenario], *, args, gen: str, server, sampler, app, fixtures,
            say: Callable[[str], None], rounds: int = 1) -> dict:
    """Each scenario of the plan (yardsticks first), `rounds` times: prepare, smoke, warm-up, measured run; the
    yardsticks once more at the end, so that they bracket every round."""
    connections = max(4, 2 * len(server.workers()))
    results: dict[str, Measured] = {}
    order = [(n, s) for n in range(rounds) for s in plan] + [(rounds, s) for s in plan if s.key]
    for round_no, scenario in order:
        if scenario is plan[0] and rounds > 1:  # before a failed scenario is skipped: the rounds stay labelled
            say(f"round {round_no + 1} of {rounds}" if round_no < rounds else "yardsticks again")
        m = results.setdefault(scenario.name, Measured(scenario))
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


def round_ratios(runs: list, yardstick_runs: list) -> list[float]:
    """A scenario's ratio in each round: its run's rate over the mean of the yardstick's runs before and after
    that round (yardstick run n opens round n; the last one closes the last round). With fewer yardstick runs
    (a failed one), over the mean of them all."""
    if not yardstick_runs:
        return []
    everywhere = statistics.fmean(r.rate for r in yardstick_runs)
    ratios = []
    for n, run in enumerate(runs):
        around = yardstick_runs[n:n + 2] if len(yardstick_runs) == len(runs) + 1 else []
        ceiling = statistics.fmean(r.rate for r in around) if around else everywhere
        if ceiling:
            ratios.append(run.rate / ceiling)
    return ratios


def row_for(m: Measured, yardsticks: dict) -> Row:
    """The scenario's row: mean rate and latencies over its runs, and the median of its per-round ratios to its
    yardstick ({key: the yardstick's runs})."""
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
    ratios = round_ratios(m.runs, yardsticks.get(s.yardstick) or []) if s.yardstick else []
    if ratios:
        row.ratio = statistics.median(ratios)
        row.extra["round_ratios"] = [round(r, 3) for r in ratios]
        if len(ratios) > 1:
            row.note = "rounds " + " / ".join(f"{r:.2f}" for r in ratios)
    row.met = s.judge(row)
    if errors["status"] or errors["timeout"]:
        row.met, row.note = False, f"errors: {row.extra['errors']}"
    if m.failure:
        row.met, row.note = False, m.failure
    return row
