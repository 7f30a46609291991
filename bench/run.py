"""`make bench` (or `make bench-quick`, under two minutes): every figure of issue 7 in one table, in one run.

1. PostgreSQL database `bench` (BENCH_DATABASE_URL): created when missing, migrated, areas seeded, the
   users/tokens the scenarios need made once; Redis db 6 (BENCH_REDIS_URL; a private redis-server when none
   answers). 2. Data sections that load data. 3. gunicorn on 127.0.0.1 with gunicorn.conf.py, yardstick routes on.
4. Each scenario: a smoke request, a warm-up, then the load generator (wrk; a bounded Python one without it)
   for a fixed time; the yardsticks run first and again last, and their mean is what ratios divide by.
5. The remaining data sections. 6. One table, also in bench/out/latest.{json,md}. Everything started is stopped.

Options: --quick, --only TEXT (scenarios whose name contains it, plus the yardsticks), --loadgen python,
--seconds/--warmup, --fresh (drop and recreate the bench database).
"""
import argparse
import importlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import loadgen, report  # noqa: E402
from bench.core import DataSection, Row, Scenario  # noqa: E402
from bench.database import BenchError, Fixtures, ensure_database, migrate_and_seed  # noqa: E402
from bench.scenarios import DATA_SECTIONS, HOT_PATHS, PLATFORM, YARDSTICKS  # noqa: E402
from bench.server import Gunicorn, RedisServer, RssSampler  # noqa: E402

OUT = ROOT / "bench" / "out"
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/6"


def say(message: str) -> None:
    print(message, flush=True)


@dataclass
class Context:
    """What a data-scale section gets: the app on the bench database, fixtures, where to write, the server."""

    app: object
    fixtures: Fixtures
    database_url: str
    redis_url: str | None
    out_dir: Path
    say: Callable[[str], None] = say
    base_url: str | None = None


@dataclass
class Measured:
    scenario: Scenario
    runs: list = field(default_factory=list)  # LoadResult per measured run
    rss_mb: float = 0.0
    failure: str = ""


def _redis(url: str, started: list) -> str | None:
    """A Redis URL that answers (db flushed: it is the bench's own), or None to run without Redis."""
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=1).flushdb()
        return url
    except redis.RedisError:
        if not RedisServer.installed():
            say(f"Redis not reachable at {url} and redis-server not installed: running without Redis")
            return None
    server = RedisServer()
    server.start()
    started.append(server)
    say(f"Redis not reachable at {url}: started a private redis-server on port {server.port}")
    return server.url(6)


def _smoke(base: str, scenario: Scenario, requests) -> str:
    """'' when the first request answers the expected status, else what went wrong."""
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
                               threads=min(2, connections), script=OUT / f"{scenario.key or 'scenario'}.lua",
                               offset=offset)
    return loadgen.run_python(base, requests, seconds=seconds, connections=connections, expect=scenario.expect,
                              offset=offset)


def _measure(args, gen, server, sampler, plan, app, fixtures) -> dict:
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
            m.failure = _smoke(server.base, scenario, requests)
            if m.failure:
                say(f"  {scenario.name}: {m.failure}")
                continue
            warm = _drive(args, gen, server.base, scenario, requests, args.warmup, connections)
            sampler.window_mb()
            result = _drive(args, gen, server.base, scenario, requests, args.seconds, connections, warm.requests)
        except Exception as exc:  # noqa: BLE001 — a broken scenario is a failed row, the others still run
            m.failure = _failure(exc)
            say(f"  {scenario.name}: {m.failure}")
            continue
        m.runs.append(result)
        m.rss_mb = max(m.rss_mb, sampler.window_mb())
        say(f"  {scenario.name}: {result.rate:,.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms"
            + (f", errors {result.errors}" if result.errors else ""))
        if scenario.unique and result.requests + warm.requests > len(requests):
            m.failure = f"too fast for its {len(requests)} distinct requests: raise their number"
    return {"results": results, "connections": connections}


def _failure(exc: Exception) -> str:
    """One short line for the table (the full traceback goes to stderr)."""
    import traceback

    traceback.print_exc()
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"failed: {type(exc).__name__}: {first}"[:120]


def _row(m: Measured, ceilings: dict) -> Row:
    s = m.scenario
    if not m.runs:
        return Row(s.name, target=s.target_text(), note=m.failure or "not run")
    n = len(m.runs)
    rate = sum(r.rate for r in m.runs) / n
    row = Row(s.name, rate=rate, p50_ms=sum(r.p50_ms for r in m.runs) / n, p99_ms=sum(r.p99_ms for r in m.runs) / n,
              target="ceiling" if s.key else s.target_text(),
              extra={"runs": [round(r.rate, 1) for r in m.runs], "rss_mb": round(m.rss_mb, 1),
                     "requests": sum(r.requests for r in m.runs)})
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


def _run_sections(sections: list[DataSection], ctx: Context, quick: bool) -> dict[str, list[Row]]:
    """Each section's rows, by module name."""
    rows = {}
    for section in sections:
        if not (ROOT / "bench" / f"{section.module}.py").exists():
            rows[section.module] = [Row(section.title, target=section.target,
                                        note=f"pending: bench/{section.module}.py (issue {section.issue})")]
            continue
        say(f"data section: {section.title}")
        try:
            rows[section.module] = importlib.import_module(f"bench.{section.module}").run(ctx, quick)
        except Exception as exc:  # noqa: BLE001 — one broken section must not lose the others' figures
            rows[section.module] = [Row(section.title, target=section.target, note=_failure(exc))]
    return rows


def _machine(app, redis_url, gen, args, server_workers, connections) -> dict:
    from sqlalchemy import text

    from app.extensions import db

    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem_kb = int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines()
                      if ln.startswith("MemTotal")))
    with app.app_context():
        pg = db.session.execute(text("SHOW server_version")).scalar()
    redis_version = "none"
    if redis_url:
        import redis

        redis_version = redis.Redis.from_url(redis_url).info("server")["redis_version"]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {"mode": "quick" if args.quick else "full", "machine": f"{cpu}, {os.cpu_count()} cores, "
            f"{mem_kb / 1024 / 1024:.1f} GiB RAM, Linux {platform.release()}",
            "software": f"Python {platform.python_version()}, PostgreSQL {pg}, Redis {redis_version}",
            "gunicorn": f"{server_workers} sync workers (gunicorn.conf.py), {connections} connections",
            "load generator": gen, "durations": f"{args.warmup:g} s warm-up + {args.seconds:g} s measured per run",
            "commit": commit.stdout.strip() or "?"}


def _parse(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="short runs, small data (under two minutes)")
    p.add_argument("--only", help="only scenarios whose name contains this (yardsticks always run)")
    p.add_argument("--loadgen", choices=("wrk", "python"), default="wrk")
    p.add_argument("--seconds", type=float)
    p.add_argument("--warmup", type=float)
    p.add_argument("--fresh", action="store_true", help="drop and recreate the bench database first")
    args = p.parse_args(argv)
    args.seconds = args.seconds or (5 if args.quick else 20)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 5)
    return args


def _interrupted(*_):
    raise KeyboardInterrupt  # a SIGTERM stops the run like Ctrl-C: the finally below stops the servers


def main(argv=None) -> int:
    args = _parse(argv)
    started: list = []
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        return _bench(args, started)
    except BenchError as exc:
        say(f"bench: {exc}")
        return 2
    finally:
        for thing in reversed(started):
            thing.stop()


def _bench(args, started: list) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = _redis(os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS), started)
    env = {"JIEFANG_ENV": "development", "DATABASE_URL": db_url, "REDIS_URL": redis_url or "",
           "BENCH_YARDSTICKS": "1"}
    os.environ.update(env)  # before the app is imported: config.py reads the environment then
    ensure_database(db_url, fresh=args.fresh)
    from app import create_app
    from config import CONFIGS

    app = create_app(CONFIGS["development"])
    for line in migrate_and_seed(app, db_url):
        say(line)
    fixtures = Fixtures(app)
    ctx = Context(app, fixtures, db_url, redis_url, OUT)
    section_rows = _run_sections([s for s in DATA_SECTIONS if s.before_http], ctx, args.quick)

    chosen = [s for s in PLATFORM + HOT_PATHS if not args.only or args.only.lower() in s.name.lower()]
    plan = [s for s in YARDSTICKS + chosen if s.prepare is not None]
    pending = [Row(s.name, target=s.target_text(), note=f"pending: issue {s.issue} not merged")
               for s in chosen if s.prepare is None]

    gen = "python"
    if args.loadgen == "wrk":
        args.wrk_path = loadgen.ensure_wrk(say)
        gen = "wrk" if args.wrk_path else "python"
        if gen == "python":
            say("wrk unavailable: using the bounded Python load generator (lower figures; ratios still compare)")
    server = Gunicorn(env, OUT / "gunicorn.log")
    server.start()
    started.append(server)
    sampler = RssSampler(server).start()
    started.append(sampler)
    workers = len(server.workers())
    say(f"gunicorn: {workers} workers at {server.base}; load generator: {gen}")
    ctx.base_url = server.base
    load_before = _loadavg()
    measured = _measure(args, gen, server, sampler, plan, app, fixtures)
    load_after = _loadavg()
    sampler.stop()
    started.remove(sampler)
    server.stop()
    started.remove(server)
    ctx.base_url = None
    section_rows.update(_run_sections([s for s in DATA_SECTIONS if not s.before_http], ctx, args.quick))

    results = measured["results"]
    ceilings = {m.scenario.key: sum(r.rate for r in m.runs) / len(m.runs)
                for m in results.values() if m.scenario.key and m.runs}
    http_rows = [_row(m, ceilings) for m in results.values()]
    rows = http_rows + pending + [row for s in DATA_SECTIONS for row in section_rows[s.module]]
    meta = _machine(app, redis_url, f"wrk {_wrk_version(args)}" if gen == "wrk" else "python (fallback)", args,
                    workers, measured["connections"])
    meta["peak worker RSS"] = f"{sampler.peak_mb():.1f} MB (largest VmRSS/VmHWM of any gunicorn worker under load)"
    drift = [f"{m.scenario.key} {m.runs[0].rate:,.0f} → {m.runs[-1].rate:,.0f} req/s"
             for m in results.values() if m.scenario.key and len(m.runs) == 2]
    meta["machine load (1-min average) before → after the HTTP runs"] = f"{load_before} → {load_after}"
    meta["yardsticks first → last"] = "; ".join(drift) or "—"
    say("\n" + report.text_table(rows) + "\n")
    for key, value in meta.items():
        say(f"{key}: {value}")
    paths = report.write(OUT, rows, meta)
    say(f"written: {', '.join(str(p.relative_to(ROOT)) for p in paths[:2])}")
    return 0


def _loadavg() -> str:
    """Other work on the machine skews absolute figures (ratios less so): the table says how much there was."""
    return Path("/proc/loadavg").read_text().split()[0]


def _wrk_version(args) -> str:
    out = subprocess.run([args.wrk_path, "-v"], capture_output=True, text=True)
    first = (out.stdout or out.stderr).splitlines()
    return first[0].split()[1] if first and len(first[0].split()) > 1 else "?"


if __name__ == "__main__":
    sys.exit(main())
