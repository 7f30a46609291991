"""Where the machine's CPU goes during a measured run: per request, the whole machine (busy time in /proc/stat,
the load generator included) and the gunicorn workers, PostgreSQL and redis-server (their processes' user +
system time in /proc/<pid>/stat). Linux only; elsewhere the split is empty and the table says nothing of it."""
import os
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
GROUPS = {"postgres": "postgres", "redis-server": "redis"}  # process name → column


@dataclass(frozen=True)
class Snapshot:
    busy: int  # ticks the machine was not idle
    processes: dict  # pid → (name, ticks)


def machine_busy() -> int:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)  # less idle and iowait


def snapshot() -> Snapshot | None:
    """The machine's and every process's CPU ticks so far; None where /proc is not Linux's."""
    try:
        busy = machine_busy()
    except (OSError, ValueError, IndexError):
        return None
    processes = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name, rest = stat[stat.find("(") + 1:stat.rfind(")")], stat[stat.rfind(")") + 2:].split()
        processes[int(entry)] = (name, int(rest[11]) + int(rest[12]))  # utime + stime
    return Snapshot(busy, processes)


def split(before: Snapshot | None, after: Snapshot | None, requests: int, workers) -> dict[str, float]:
    """µs of CPU per request between two snapshots: machine, app (the given worker pids), postgres, redis."""
    if before is None or after is None or requests <= 0:
        return {}
    per = 1e6 / TICK / requests
    used = {"machine": (after.busy - before.busy) * per, "app": 0.0, "postgres": 0.0, "redis": 0.0}
    workers = set(workers)
    for pid, (name, ticks) in after.processes.items():
        spent = ticks - before.processes.get(pid, (name, 0))[1]  # a process started meanwhile counts whole
        column = "app" if pid in workers else GROUPS.get(name)
        if column and spent > 0:
            used[column] += spent * per
    return {key: round(value, 1) for key, value in used.items()}
