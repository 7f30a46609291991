"""What the bench ran on, for the table's footer: machine, software, settings, how busy the machine was."""
import os
import platform
import subprocess
import time
from pathlib import Path

from bench import cpu_split

ROOT = Path(__file__).resolve().parent.parent


def describe(app, redis_url, gen, args, server_workers, connections) -> dict:
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
            "load generator": gen, "durations": f"{args.warmup:g} s warm-up + {args.seconds:g} s measured per run, "
            f"{args.passes} pass{'es' if args.passes > 1 else ''}",
            "commit": commit.stdout.strip() or "?"}


def loadavg() -> str:
    """Other work on the machine skews absolute figures (ratios less so): the table says how much there was."""
    return Path("/proc/loadavg").read_text().split()[0]


def wrk_version(path: str) -> str:
    out = subprocess.run([path, "-v"], capture_output=True, text=True)
    first = (out.stdout or out.stderr).splitlines()
    return first[0].split()[1] if first and len(first[0].split()) > 1 else "?"


def busy_fraction(seconds: float = 1.0, *, read=cpu_split.machine_busy, sleep=time.sleep) -> float | None:
    """The share of the machine's cores busy over `seconds` (0 to 1, from /proc/stat), or None off Linux."""
    try:
        before = read()
        sleep(seconds)
        return (read() - before) / cpu_split.TICK / seconds / (os.cpu_count() or 1)
    except (OSError, ValueError, IndexError):
        return None


def settle(*, quiet_below: float = 0.25, limit: float = 60.0, busy=busy_fraction, clock=time.monotonic) -> str:
    """Wait, at most `limit` seconds, until the machine is quiet (under `quiet_below` of its cores busy over a
    second), and say what was waited. After the HTTP load, PostgreSQL's checkpoint and the kernel's write-back of
    what the load wrote would otherwise run through the warm timings that follow (tracing, stats)."""
    start = clock()
    share = None
    while clock() - start < limit:
        share = busy()
        if share is None or share < quiet_below:
            return (f"quiet after {clock() - start:.0f} s" if share is not None else "not measured (no /proc/stat)")
    return f"still {share:.0%} busy after {limit:.0f} s: the timings below ran on a busy machine"
