"""`make bench` (or `make bench-quick`, under two minutes): every performance figure in one table, in one run.

1. PostgreSQL database `bench` (BENCH_DATABASE_URL): created when missing, migrated, areas seeded, the
   users/tokens the scenarios need made once; Redis db 6 (BENCH_REDIS_URL; a private redis-server when none
   answers). 2. Data sections that load data (volunteers import, scans load, leaderboard ledger: each kept in the
   database with a marker, so only the first run pays for it). 3. gunicorn on 127.0.0.1 with gunicorn.conf.py,
   yardstick routes on. 4. Each scenario: a smoke request, a warm-up, then the load generator (wrk; a bounded
   Python one without it) for a fixed time, in passes (3; quick 1): each pass runs each yardstick, the
   scenarios with a ratio target on it and the yardstick again, then the other scenarios; the yardsticks run once
   more at the end, and a scenario's ratio is the median over the passes of its rate over the mean of its
   yardstick's runs just before and after it (bench/measure.py). 5. The remaining data
   sections (QR CPU, tracing, venue stats, volunteer stats, keyset pages, scan purge last). 6. One table, also
   in bench/out/latest.{json,md}. Everything started is stopped.

Full scale: 1.31 M volunteers, 10.2 M scans, a ledger for 55 % of the volunteers, 5 s + 15 s per HTTP run; quick:
30,000 volunteers, 306,000 scans, 1 s + 3 s per HTTP run, one pass.

Options: --quick, --only TEXT (scenarios whose name contains it, plus the yardsticks), --loadgen python,
--seconds/--warmup/--passes, --fresh (drop and recreate the bench database).
"""
import argparse
import importlib
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import loadgen, machine, report, volunteers  # noqa: E402
from bench.core import DataSection, Row  # noqa: E402
from bench.database import BenchError, Fixtures, ensure_database, migrate_and_seed  # noqa: E402
from bench.measure import failure, measure, row_for  # noqa: E402
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


def _run_sections(sections: list[DataSection], ctx: Context, quick: bool) -> dict[str, list[Row]]:
    """Each section's rows, by module name."""
    rows = {}
    for section in sections:
        if not (ROOT / "bench" / f"{section.module}.py").exists():
            rows[section.module] = [Row(section.title, target=section.target,
                                        note=f"pending: bench/{section.module}.py missing")]
            continue
        say(f"data section: {section.title}")
        try:
            rows[section.module] = importlib.import_module(f"bench.{section.module}").run(ctx, quick)
        except Exception as exc:  # noqa: BLE001 — one broken section must not lose the others' figures
            rows[section.module] = [Row(section.title, target=section.target, note=failure(exc))]
    return rows


def _parse(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="short runs, small data (under two minutes)")
    p.add_argument("--only", help="only scenarios whose name contains this (yardsticks always run)")
    p.add_argument("--loadgen", choices=("wrk", "python"), default="wrk")
    p.add_argument("--seconds", type=float)
    p.add_argument("--passes", type=int, help="times every scenario runs, the yardsticks around each pass "
                   "(default 3, so that the median leaves out one slow pass; quick 1)")
    p.add_argument("--warmup", type=float)
    p.add_argument("--fresh", action="store_true", help="drop and recreate the bench database first")
    args = p.parse_args(argv)
    args.seconds = args.seconds or (3 if args.quick else 15)
    args.passes = max(1, args.passes or (1 if args.quick else 3))
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
    args.out = OUT
    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = _redis(os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS), started)
    env = {"JIEFANG_ENV": "development", "JIEFANG_ALLOW_DEVELOPMENT": "1", "DATABASE_URL": db_url,
           "REDIS_URL": redis_url or ""}
    os.environ.update(env)  # before the app is imported: config.py reads the environment then
    ensure_database(db_url, fresh=args.fresh)
    from app import create_app
    from config import CONFIGS

    app = create_app(CONFIGS["development"])
    if app.config["SQLALCHEMY_DATABASE_URI"] != db_url:  # config.py was read before the environment was set
        raise BenchError(f"the app is configured for {app.config['SQLALCHEMY_DATABASE_URI']}, not the bench database")
    for line in migrate_and_seed(app, db_url):
        say(line)
    ctx = Context(app, Fixtures(app), db_url, redis_url, OUT)
    section_rows = _run_sections([s for s in DATA_SECTIONS if s.before_http], ctx, args.quick)
    http_rows, meta = _http(args, env, ctx, started)
    with app.app_context():
        volunteers.checkpoint()  # the HTTP load's writes, flushed now rather than during the timings below
    meta["settled after the HTTP runs"] = machine.settle()
    section_rows.update(_run_sections([s for s in DATA_SECTIONS if not s.before_http], ctx, args.quick))
    rows = http_rows + [row for s in DATA_SECTIONS for row in section_rows[s.module]]
    say("\n" + report.text_table(rows) + "\n")
    cpu = report.cpu_text_table(rows)
    if cpu:
        say(cpu + "\n")
    for key, value in meta.items():
        say(f"{key}: {value}")
    paths = report.write(OUT, rows, meta)
    say(f"written: {', '.join(str(p.relative_to(ROOT)) for p in paths[:2])}")
    return 0


def _load_generator(args) -> str:
    if args.loadgen == "wrk":
        args.wrk_path = loadgen.ensure_wrk(say)
        if args.wrk_path:
            return "wrk"
        say("wrk unavailable: using the bounded Python load generator (lower figures; ratios still compare)")
    return "python"


def _http(args, env: dict, ctx: Context, started: list) -> tuple[list[Row], dict]:
    """The HTTP scenarios under gunicorn: their rows (pending ones included) and the run's description."""
    chosen = [s for s in PLATFORM + HOT_PATHS if not args.only or args.only.lower() in s.name.lower()]
    plan = [s for s in YARDSTICKS + chosen if s.prepare is not None]
    pending = [Row(s.name, target=s.target_text(), note="pending: no prepare= yet")
               for s in chosen if s.prepare is None]
    gen = _load_generator(args)
    server = Gunicorn(env, OUT / "gunicorn.log", target="bench.wsgi:app")
    server.start()
    started.append(server)
    sampler = RssSampler(server).start()
    started.append(sampler)
    workers = len(server.workers())
    say(f"gunicorn: {workers} workers at {server.base}; load generator: {gen}")
    ctx.base_url, load_before = server.base, machine.loadavg()
    measured = measure(plan, args=args, gen=gen, server=server, sampler=sampler, app=ctx.app,
                       fixtures=ctx.fixtures, say=say, passes=args.passes)
    load_after = machine.loadavg()
    for thing in (sampler, server):
        thing.stop()
        started.remove(thing)
    ctx.base_url = None

    results = measured["results"].values()
    yardsticks = {m.scenario.key: m for m in results if m.scenario.key}
    label = f"wrk {machine.wrk_version(args.wrk_path)}" if gen == "wrk" else "python (fallback)"
    meta = machine.describe(ctx.app, ctx.redis_url, label, args, workers, measured["connections"])
    meta["peak worker RSS"] = f"{sampler.peak_mb():.1f} MB (largest VmRSS/VmHWM of any gunicorn worker under load)"
    meta["machine load (1-min average) before → after the HTTP runs"] = f"{load_before} → {load_after}"
    drift = [f"{m.scenario.key} " + " → ".join(f"{r.rate:,.0f}" for r in m.runs) + " req/s"
             for m in results if m.scenario.key and len(m.runs) > 1]
    meta["yardsticks, run by run"] = "; ".join(drift) or "—"
    return [row_for(m, yardsticks) for m in results] + pending, meta


if __name__ == "__main__":
    sys.exit(main())
