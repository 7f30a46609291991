"""/metrics: behind METRICS_TOKEN (refused while none is configured), Prometheus text with requests by route template
and status, rate-limit refusals, Redis fallbacks, database outages and backlogs."""
import re

import pytest

from app.ops import metrics

TOKEN = "scrape-token-for-tests"


@pytest.fixture
def scrape(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)

    def _scrape() -> str:
        r = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200 and r.mimetype == "text/plain"
        return r.get_data(as_text=True)

    return _scrape


def _value(text: str, metric: str, **labels) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(metric + "{") or line.startswith(metric + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if all(found.get(k) == v for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
    return total


def test_refused_without_a_configured_token_and_with_a_wrong_one(app, client, monkeypatch):
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
        r = client.get("/metrics", headers=headers)
        assert r.status_code == 401 and r.get_json()["error"] == "metrics_token_invalid", "none configured"
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN + "x"}):
        r = client.get("/metrics", headers=headers)
        assert r.status_code == 401 and r.get_json()["error"] == "metrics_token_invalid"
    assert client.get("/api/v1/metrics").status_code == 404, "not on the public API path"


def test_requests_by_route_template_and_status(client, scrape, login):
    headers = login("resident")[1]
    before = scrape()
    for _ in range(3):
        assert client.get("/api/v1/areas/440106").status_code == 200
    assert client.get("/api/v1/health-codes/987654321", headers=headers).status_code == 404
    after = scrape()
    route = {"route": "/api/v1/areas/<string:code>", "method": "GET", "status": "200"}
    assert _value(after, "jiefang_request_duration_seconds_count", **route) - \
        _value(before, "jiefang_request_duration_seconds_count", **route) == 3
    missing = {"route": "/api/v1/health-codes/<int:code_id>", "status": "404"}
    assert _value(after, "jiefang_request_duration_seconds_count", **missing) >= 1
    assert "987654321" not in after, "paths never become labels"


def test_rate_limit_refusals_are_counted(app, client, scrape, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_AUTH", "2 per minute")
    before = _value(scrape(), "jiefang_rate_limited_total", route="/api/v1/auth/login/password")
    body = {"username": "nobody-here", "password": "wrong-password"}
    statuses = [client.post("/api/v1/auth/login/password", json=body).status_code for _ in range(4)]
    assert statuses == [401, 401, 429, 429]
    assert _value(scrape(), "jiefang_rate_limited_total", route="/api/v1/auth/login/password") - before == 2


def test_backlogs_are_counted_at_scrape_time(scrape, monkeypatch):
    monkeypatch.setattr(metrics, "_BACKLOGS", {})
    waiting = [3]
    metrics.backlog("outbox", lambda: waiting[0])
    metrics.backlog("broken", lambda: 1 / 0)
    assert _value(scrape(), "jiefang_backlog", name="outbox") == 3
    waiting[0] = 7
    text = scrape()
    assert _value(text, "jiefang_backlog", name="outbox") == 7 and 'name="broken"' not in text


def test_fallbacks_and_outages_are_exported(scrape):
    metrics.REDIS_FALLBACKS.labels("unreachable").inc()
    metrics.DATABASE_UNAVAILABLE.labels("OperationalError").inc()
    text = scrape()
    assert _value(text, "jiefang_redis_fallbacks_total", reason="unreachable") >= 1
    assert _value(text, "jiefang_database_unavailable_total", fault="OperationalError") >= 1
