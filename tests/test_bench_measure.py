"""The bench's HTTP rounds (bench/measure.py): the order runs go in, and how a row's ratio is read from them."""
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


def test_round_ratio_is_to_the_yardstick_runs_around_the_round():
    # the machine slows down in round 2: the scenario and its yardstick fall together
    assert measuring.round_ratios([run(600), run(300)], [run(1000), run(1000), run(500)]) == [0.6, 0.4]
    # a yardstick run missing: every round is read against the mean of the runs there are
    assert measuring.round_ratios([run(600), run(300)], [run(1000), run(500)]) == [0.8, 0.4]
    assert measuring.round_ratios([run(600)], []) == []


def test_the_row_gives_the_median_round_ratio_and_judges_it():
    m = measuring.Measured(SCAN, runs=[run(900), run(500), run(880)],
                           cpus=[{"machine": 100.0, "app": 80.0}, {"machine": 300.0, "app": 200.0},
                                 {"machine": 200.0, "app": 110.0}])
    yard = [run(1000), run(1000), run(1000), run(1000)]
    row = measuring.row_for(m, {"write": yard})
    assert row.extra["round_ratios"] == [0.9, 0.5, 0.88] and row.ratio == 0.88 and row.met is True
    assert row.note == "rounds 0.90 / 0.50 / 0.88"
    assert row.rate == pytest.approx(760.0)
    assert row.extra["cpu_us_per_request"] == {"machine": 200.0, "app": pytest.approx(130.0)}
    low = measuring.row_for(measuring.Measured(SCAN, runs=[run(500), run(790)]), {"write": yard[:3]})
    assert low.ratio == pytest.approx(0.645) and low.met is False
    single = measuring.row_for(measuring.Measured(TOKEN, runs=[run(500)]), {"json": [run(1000), run(1000)]})
    assert single.ratio == 0.5 and single.met is True and single.note == ""


def test_rounds_run_every_scenario_and_bracket_each_round_with_the_yardsticks(monkeypatch):
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
    plan = [JSON, WRITE, TOKEN, SCAN]
    out = measuring.measure(plan, args=args, gen="wrk", server=server, sampler=sampler, app=app, fixtures=None,
                            say=said.append, rounds=2)
    assert driven == ["json", "write", "token", "scan"] * 2 + ["json", "write"]
    assert [len(out["results"][s.name].runs) for s in plan] == [3, 3, 2, 2]
    assert [line for line in said if not line.startswith("  ")] == ["round 1 of 2", "round 2 of 2",
                                                                      "yardsticks again"]
    driven.clear()
    measuring.measure(plan, args=args, gen="wrk", server=server, sampler=sampler, app=app, fixtures=None,
                      say=said.append)
    assert driven == ["json", "write", "token", "scan", "json", "write"]  # one round: as before
