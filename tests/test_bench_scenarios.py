"""Every `make bench` scenario of a landed domain still gets the answer it measures (so a changed route
breaks here, not in the middle of a benchmark). Small numbers of codes and venues stand in for the bench's."""
import json

import pytest

from bench import hot_paths
from bench.database import Fixtures
from bench.scenarios import HOT_PATHS, PLATFORM, YARDSTICKS

LANDED = [s for s in PLATFORM + HOT_PATHS if s.prepare is not None]


def test_every_hot_path_names_a_yardstick_that_exists():
    keys = {s.key for s in YARDSTICKS}
    assert keys == {"json", "write"}
    assert all(s.yardstick in keys for s in PLATFORM + HOT_PATHS)


@pytest.mark.parametrize("scenario", LANDED, ids=[s.name for s in LANDED])
def test_scenario_requests_get_the_expected_answer(app, client, monkeypatch, scenario):
    monkeypatch.setattr(hot_paths, "RESIDENTS", 3)
    monkeypatch.setattr(hot_paths, "VENUES", 2)
    requests = scenario.prepare(Fixtures(app))
    assert requests
    for req in {0: requests[0], len(requests) - 1: requests[-1]}.values():
        reply = client.open(req.path, method=req.method, headers=req.all_headers(),
                            data=None if req.body is None else json.dumps(req.body))
        assert reply.status_code == scenario.expect, (req.method, req.path, reply.get_data(as_text=True)[:200])
