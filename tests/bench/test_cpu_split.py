"""The bench's CPU split per request (bench/cpu_split.py) and its table in the report."""
import os
import sys

import pytest

from bench import cpu_split, report
from bench.core import Row

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")


def test_split_charges_each_process_to_its_column_per_request():
    tick_us = 1e6 / cpu_split.TICK
    before = cpu_split.Snapshot(1000, {10: ("python", 100), 20: ("postgres", 50), 21: ("postgres", 5),
                                       30: ("redis-server", 7), 40: ("wrk", 3)})
    after = cpu_split.Snapshot(1400, {10: ("python", 300), 20: ("postgres", 90), 21: ("postgres", 15),
                                      22: ("postgres", 10), 30: ("redis-server", 27), 40: ("wrk", 60)})
    cpu = cpu_split.split(before, after, requests=100, workers=[10])
    assert cpu == {"machine": round(400 * tick_us / 100, 1), "app": round(200 * tick_us / 100, 1),
                   "postgres": round(60 * tick_us / 100, 1),  # 40 + 10, and a backend started meanwhile: 10
                   "redis": round(20 * tick_us / 100, 1)}


def test_split_is_empty_without_snapshots_or_requests():
    snap = cpu_split.Snapshot(1, {})
    assert cpu_split.split(None, snap, 10, []) == {}
    assert cpu_split.split(snap, snap, 0, []) == {}


@linux
def test_snapshot_sees_this_process_spend_cpu():
    before = cpu_split.snapshot()
    sum(i * i for i in range(3_000_000))
    after = cpu_split.snapshot()
    assert after.processes[os.getpid()][1] > before.processes[os.getpid()][1]
    assert cpu_split.split(before, after, 1, [os.getpid()])["app"] > 0


def test_report_lists_the_split_of_the_rows_that_have_one():
    rows = [Row("token issue", rate=2400.0, extra={"cpu_us_per_request": {"machine": 824.0, "app": 701.0,
                                                                           "postgres": 0.0, "redis": 36.0}}),
            Row("import", rate=22821.0, unit="rows/s")]
    table = report.cpu_text_table(rows)
    assert "token issue" in table and "import" not in table
    assert table.splitlines()[-1].split()[-5:] == ["824", "701", "0", "36", "87"]
    assert report.cpu_text_table(rows[1:]) == ""


def test_busy_fraction_is_the_share_of_all_cores():
    from bench import machine

    ticks = iter([1_000, 1_000 + cpu_split.TICK * (os.cpu_count() or 1) // 2])
    slept = []
    assert machine.busy_fraction(1.0, read=lambda: next(ticks), sleep=slept.append) == pytest.approx(0.5, abs=0.01)
    assert slept == [1.0]


@linux
def test_busy_fraction_reads_this_machine():
    from bench import machine

    assert 0 <= machine.busy_fraction(0.05) <= 1.5


def test_settle_waits_for_a_quiet_machine_and_gives_up_at_its_limit():
    from bench import machine

    now = [0.0]

    def busy_then(shares):
        it = iter(shares)

        def busy():
            now[0] += 1  # each reading takes a second
            return next(it)
        return busy

    assert machine.settle(busy=busy_then([0.9, 0.6, 0.1]), clock=lambda: now[0]) == "quiet after 3 s"
    now[0] = 0.0
    said = machine.settle(busy=busy_then([0.9] * 100), clock=lambda: now[0], limit=5)
    assert said == "still 90% busy after 5 s: the timings below ran on a busy machine"
    assert machine.settle(busy=lambda: None) == "not measured (no /proc/stat)"
