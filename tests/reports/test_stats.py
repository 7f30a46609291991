"""The figures on a hand-computed fixture: 响应率, 解决率 and 满意率, the median time to resolve and open overdue
cases (which count as late), inside the caller's area only."""
from datetime import timedelta

import pytest

from app.extensions import db
from app.reports import catalogue
from app.reports.models import Report
from tests.reports.helpers import FAR_GRID, GRID, NOW

STREET_2_GRID = "44010600200101"  # 员村街道
H = timedelta(hours=1)
D = timedelta(days=1)


def _report(name, category, grid, submitted, state, responded=None, resolved=None, flagged=False):
    cat = catalogue.category(category)
    accept_h, resolve_h = catalogue.deadlines(cat, "normal")
    accept_due, resolve_due = submitted + accept_h * H, submitted + resolve_h * H
    due = {"submitted": accept_due, "in_progress": resolve_due}.get(state)
    db.session.add(Report(client_key=name, reporter_id=None, category_id=cat.id, department_id=cat.department_id,
                          text=name, grid_code=grid, state=state, submitted_at=submitted, updated_at=submitted,
                          accept_due_at=accept_due, resolve_due_at=resolve_due, due_at=due, responded_at=responded,
                          resolved_at=resolved, flagged=flagged))


@pytest.fixture
def fixture_reports():
    """fire_hazard: 2 h to accept, 48 h to resolve; sanitation: 8 h and 72 h."""
    t = NOW - 10 * D
    _report("A", "fire_hazard", GRID, t, "confirmed", responded=t + H, resolved=t + 20 * H)  # all on time
    _report("B", "fire_hazard", GRID, t, "closed", responded=t + 3 * H, resolved=t + 60 * H)  # both late
    t = NOW - 5 * D
    _report("C", "fire_hazard", GRID, t, "in_progress", responded=t + H)  # open, past its 48 h: late
    _report("D", "sanitation", STREET_2_GRID, NOW - H, "submitted")  # inside its 8 h: not yet judged
    _report("E", "sanitation", STREET_2_GRID, NOW - 20 * H, "submitted", flagged=True)  # unanswered past 8 h: late
    t = NOW - 3 * D
    _report("F", "sanitation", STREET_2_GRID, t, "rejected", responded=t + 2 * H)  # answered on time, not resolvable
    _report("G", "fire_hazard", GRID, NOW - 41 * D, "submitted")  # before the window
    _report("H", "fire_hazard", FAR_GRID, NOW - 2 * D, "submitted")  # outside the area
    db.session.commit()


QUERY = "/api/v1/stats/reports?area=440106&from=2026-11-01&to=2026-11-30"


def test_three_rates_median_and_open_overdue(client, fixture_reports, login):
    response = client.get(QUERY + "&by=street", headers=login("street_staff", "440106")[1])
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == {
        "count": 6, "responded_on_time": 3, "response_due": 5, "response_rate": 0.6,
        "resolved_on_time": 1, "resolution_due": 3, "resolution_rate": 0.3333,
        "confirmed": 1, "closed": 2, "satisfaction_rate": 0.5,
        "median_hours_to_resolve": 40.0, "open_overdue": 2, "flagged": 1}
    wushan, yuancun = body["groups"]
    assert (wushan["key"], wushan["name"], yuancun["key"], yuancun["name"]) == \
        ("440106001", "五山街道", "440106002", "员村街道")
    assert (wushan["count"], wushan["response_rate"], wushan["resolution_rate"], wushan["satisfaction_rate"],
            wushan["median_hours_to_resolve"], wushan["open_overdue"]) == (3, 0.6667, 0.3333, 0.5, 40.0, 1)
    assert (yuancun["count"], yuancun["response_rate"], yuancun["resolution_rate"], yuancun["satisfaction_rate"],
            yuancun["median_hours_to_resolve"], yuancun["open_overdue"]) == (3, 0.5, None, None, None, 1)


def test_by_category_and_department(client, fixture_reports, admin):
    by_category = client.get(QUERY + "&by=category", headers=admin[1]).get_json()["groups"]
    assert [(g["name"], g["count"], g["open_overdue"]) for g in by_category] == [("消防隐患", 3, 1), ("环境卫生", 3, 1)]
    by_department = client.get(QUERY + "&by=department", headers=admin[1]).get_json()["groups"]
    assert [(g["name"], g["count"]) for g in by_department] == [("消防救援大队", 3), ("环卫所", 3)]


def test_only_inside_the_callers_area(client, fixture_reports, login):
    street = login("street_staff", "440106001")[1]
    own = client.get("/api/v1/stats/reports?from=2026-11-01&to=2026-11-30", headers=street).get_json()
    assert own["area"] == "440106001" and own["total"]["count"] == 3
    wider = client.get(QUERY, headers=street)
    assert wider.status_code == 403 and wider.get_json()["error"] == "area_forbidden"
    for role in ("resident", "volunteer", "department_staff", "organiser"):
        assert client.get(QUERY, headers=login(role)[1]).status_code == 403


@pytest.mark.parametrize("query", ["by=grid", "from=2026-11-30&to=2026-11-01", "from=yesterday", "area=12",
                                   "area=999999", "extra=1"])
def test_bad_queries(client, admin, query):
    response = client.get(f"/api/v1/stats/reports?{query}", headers=admin[1])
    assert 400 <= response.status_code < 500 and response.get_json()["error"]


def test_empty_window(client, admin):
    body = client.get("/api/v1/stats/reports?area=440106&from=2026-01-01&to=2026-01-31", headers=admin[1]).get_json()
    assert body["groups"] == [] and body["total"]["count"] == 0 and body["total"]["response_rate"] is None
    assert (body["from"], body["to"]) == ("2026-01-01", "2026-01-31")
