"""What the bench ran on, for the table's footer: machine, software, settings, how busy the machine was."""
import os
import platform
import subprocess
from pathlib import Path

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
            f"{args.rounds} round{'s' if args.rounds > 1 else ''}",
            "commit": commit.stdout.strip() or "?"}


def loadavg() -> str:
    """Other work on the machine skews absolute figures (ratios less so): the table says how much there was."""
    return Path("/proc/loadavg").read_text().split()[0]


def wrk_version(path: str) -> str:
    out = subprocess.run([path, "-v"], capture_output=True, text=True)
    first = (out.stdout or out.stderr).splitlines()
    return first[0].split()[1] if first and len(first[0].split()) > 1 else "?"
