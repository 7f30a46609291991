"""The bench's HTTP passes (bench/measure.py): the order runs go in, and how a row's ratio is read from them."""
import contextlib
from types import SimpleNamespace

import pytest

from bench import measure as measuring
from bench.core import Request, Scenario
from bench.loadgen import LoadResult


def run(rate: float) -> LoadResult:
    return LoadResult(requests=int(rate * 10), seconds=10.0, p50_ms=2.0, p99_ms=9.0)


JSON = Scenario("json", lambda fx: [Request("GET", "/j")], key="json")
WRITE = Scenario("write", lambda fx: [Request("POST", "/w")], key="write", expect=201)
TOKEN = Scenario("token", lambda fx: [Request("GET", "/t")], yardstick="json", min_ratio=0.5)
SCAN = Scenario("scan", lambda fx: [Request("POST", "/s")], yardstick="write", min_ratio=0.8)


PATROL = Scenario("patrol", lambda fx: [Request("POST", "/p")], yardstick="write")  # no target: after the pairs


def measured(scenario: Scenario, *timeline) -> measuring.Measured:
    """A scenario's runs at their places in the run order: measured(SCAN, (3, 600), (9, 300))."""
    return measuring.Measured(scenario, runs=[run(rate) for _, rate in timeline], at=[at for at, _ in timeline])


def test_a_pass_pairs_each_ratio_target_with_its_yardstick_on_both_sides():
    assert measuring.pass_order([JSON, WRITE, TOKEN, PATROL, SCAN]) == [JSON, TOKEN, JSON, WRITE, SCAN, WRITE,
                                                                         PATROL]
    assert measuring.pass_order([JSON, WRITE, PATROL]) == [JSON, WRITE, PATROL]  # no target: no pair


def test_pass_ratio_is_to_the_yardstick_runs_just_before_and_after_the_run():
    write = measured(WRITE, (0, 1000), (2, 1000), (10, 500), (12, 500))
    # the machine slows down in pass 2: the scenario and the yardstick beside it fall together
    assert measuring.pass_ratios(measured(SCAN, (1, 600), (11, 300)), write) == [0.6, 0.6]
    # far from the run, a yardstick's runs do not count: the nearest on either side do
    assert measuring.pass_ratios(measured(SCAN, (5, 600)), write) == [0.8]
    # a yardstick run missing (a failed one): the one on the other side alone
    assert measuring.pass_ratios(measured(SCAN, (1, 600), (13, 300)), measured(WRITE, (2, 1000), (12, 500))) \
        == [0.6, 0.6]
    assert measuring.pass_ratios(measured(SCAN, (1, 600)), measured(WRITE)) == []
    assert measuring.pass_ratios(measured(SCAN, (1, 600)), None) == []


def test_the_row_gives_the_median_pass_ratio_and_judges_it():
    m = measured(SCAN, (1, 900), (4, 500), (7, 880))
    m.cpus = [{"machine": 100.0, "app": 80.0}, {"machine": 300.0, "app": 200.0}, {"machine": 200.0, "app": 110.0}]
    yard = measured(WRITE, (0, 1000), (2, 1000), (3, 1000), (5, 1000), (6, 1000), (8, 1000))
    row = measuring.row_for(m, {"write": yard})
    assert row.extra["pass_ratios"] == [0.9, 0.5, 0.88] and row.ratio == 0.88 and row.met is True
    assert row.note == "passes 0.90 / 0.50 / 0.88"
    assert row.rate == pytest.approx(760.0)
    assert row.extra["cpu_us_per_request"] == {"machine": 200.0, "app": pytest.approx(130.0)}
    low = measuring.row_for(measured(SCAN, (1, 500), (4, 790)), {"write": yard})
    assert low.ratio == pytest.approx(0.645) and low.met is False
    single = measuring.row_for(measured(TOKEN, (1, 500)), {"json": measured(JSON, (0, 1000), (2, 1000))})
    assert single.ratio == 0.5 and single.met is True and single.note == ""


def test_passes_run_every_scenario_each_target_between_its_yardstick_runs(monkeypatch):
    driven, said = [], []

    def drive(args, gen, base, scenario, requests, seconds, connections, offset=0):
        if seconds == args.seconds:
            driven.append(scenario.name)
        return run(1000 if scenario.key else 600)

    monkeypatch.setattr(measuring, "_drive", drive)
    monkeypatch.setattr(measuring, "smoke", lambda base, scenario, requests: "")
    monkeypatch.setattr(measuring.cpu_split, "snapshot", lambda: None)
    server = SimpleNamespace(base="http://127.0.0.1:1", workers=lambda: [1, 2])
    sampler = SimpleNamespace(window_mb=lambda: 50.0)
    app = SimpleNamespace(app_context=contextlib.nullcontext)
    args = SimpleNamespace(seconds=15, warmup=5)
    plan = [JSON, WRITE, TOKEN, SCAN, PATROL]
    out = measuring.measure(plan, args=args, gen="wrk", server=server, sampler=sampler, app=app, fixtures=None,
                            say=said.append, passes=2)
    one_pass = ["json", "token", "json", "write", "scan", "write", "patrol"]
    assert driven == one_pass * 2 + ["json", "write"]
    results = out["results"]
    assert list(results) == [s.name for s in plan]  # the table keeps the plan's order
    assert [len(results[s.name].runs) for s in plan] == [5, 5, 2, 2, 2]
    assert results["scan"].at == [4, 11] and results["write"].at == [3, 5, 10, 12, 15]
    assert [line for line in said if not line.startswith("  ")] == ["pass 1 of 2", "pass 2 of 2",
                                                                      "yardsticks again"]
    driven.clear()
    measuring.measure(plan, args=args, gen="wrk", server=server, sampler=sampler, app=app, fixtures=None,
                      say=said.append)
    assert driven == one_pass + ["json", "write"]  # one pass: the same order
