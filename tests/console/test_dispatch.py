"""有呼必应 in the console, in a real browser: a case goes round the loop (community staff accept
it, street staff dispatch it, department staff start and resolve it) through the dispatch pages,
which count down to its due times, show its photos and timeline, show the API's refusals and
conflicts, and chart the three rates the API gives.

The browser keeps the real clock: reports are filed through the API and their deadlines moved
relative to the server's clock."""
import io
from datetime import timedelta

import pytest
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from app.auth.models import User
from app.common import time as clock
from app.reports import deadlines
from app.reports.models import Report, Transition
from tests import factories
from tests.console.helpers import bars, nav, refused, sign_in, texts, wait

GRID = "44010600100101"  # 五山华林社区第1网格: the demo's community_hualin, street_wushan, fire_tianhe
OTHER_GRID = "44010600100201"  # 荷塘社区, the same street
COMMUNITY, STREET = GRID[:12], GRID[:9]
ROWS = "#cases tr"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 72), (40, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def headers_of(role: str, area: str) -> dict:
    return factories.auth_headers(factories.user(roles=[(role, area)]))


def take(client, headers, report_id, action: str, **extra) -> None:
    """Move a case on through the API, as a colleague working beside the browser."""
    response = client.post(f"/api/v1/reports/{report_id}/transitions",
                           json={"action": action, **extra}, headers=headers)
    assert response.status_code == 200, response.get_json()


class Reporter:
    """A resident filing reports through the API."""

    def __init__(self, client):
        self.client = client
        self.headers = headers_of("resident", "4401")
        self.count = 0

    def photo(self) -> str:
        upload = {"photo": (io.BytesIO(_jpeg()), "p.jpg")}
        response = self.client.post("/api/v1/report-photos", data=upload, headers=self.headers,
                                    content_type="multipart/form-data")
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def file(self, text: str, grid: str = GRID, **extra) -> int:
        self.count += 1
        body = {"client_key": f"console-dispatch-{self.count:04d}", "category": "fire_hazard",
                "text": text, "grid": grid, **extra}
        response = self.client.post("/api/v1/reports", json=body, headers=self.headers)
        assert response.status_code == 201, response.get_json()
        return int(response.get_json()["id"])


def fresh(db, report_id: int) -> Report:
    """The report as the database holds it now (the live server commits in its own sessions)."""
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(Report, report_id)


def steps(db, report_id: int) -> list[tuple[str, int | None, str | None]]:
    db.session.rollback()
    rows = db.session.execute(
        select(Transition.action, Transition.actor_id, Transition.reason)
        .where(Transition.report_id == report_id).order_by(Transition.seq)).all()
    return [tuple(row) for row in rows]


def user_id(db, username: str) -> int:
    return db.session.execute(select(User.id).where(User.username == username)).scalar_one()


@pytest.fixture
def cases(client, db, seeded):
    """Three reports in 华林社区's grid, filed by a resident (one with a photo, one whose accept
    deadline passed an hour ago, one escalated twice, so flagged), and one in 荷塘社区, outside
    community_hualin's area."""
    reporter = Reporter(client)
    ids = {"photo": reporter.file("楼道消防通道被杂物堵塞", photos=[reporter.photo()]),
           "overdue": reporter.file("消防栓被车辆遮挡"),
           "flagged": reporter.file("电动车在楼道充电"),
           "elsewhere": reporter.file("商铺灭火器过期", grid=OTHER_GRID)}
    now = clock.utcnow()
    overdue = db.session.get(Report, ids["overdue"])
    overdue.submitted_at = now - timedelta(hours=3)
    overdue.accept_due_at = overdue.due_at = now - timedelta(hours=1)
    flagged = db.session.get(Report, ids["flagged"])
    for _ in range(2):
        deadlines.escalate_one(flagged, now)
    db.session.commit()
    return ids


# ---- reading and driving the pages

def script(browser, selector, expression):
    """expression (of `e`) for every element the selector finds, read in one go."""
    return browser.execute_script(
        f"return [...document.querySelectorAll(arguments[0])].map(e => {expression})", selector)


def row_ids(browser):
    return script(browser, ROWS, "e.dataset.id")


def countdown(browser, report_id):
    return browser.find_element(By.CSS_SELECTOR, f"#cases tr[data-id='{report_id}'] .due")


def open_case(browser, live_server, report_id):
    browser.get(f"{live_server}/console/report?id={report_id}")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#timeline li"))


def moves(browser):
    return script(browser, "form.move", "e.dataset.action")


def move(browser, action, reason=None):
    """Take a move on the open case through its form; the notice that follows."""
    form = wait(browser, lambda b: b.find_element(By.CSS_SELECTOR,
                                                  f"form.move[data-action={action}]"))
    if reason:
        form.find_element(By.NAME, "reason").send_keys(reason)
    form.find_element(By.CSS_SELECTOR, "button").click()
    wait(browser, lambda b: b.find_element(By.ID, "notice").is_displayed())
    return browser.find_element(By.ID, "notice").text


def queue(client, name, role, area):
    """The ids of a queue as the API lists it to a holder of the role."""
    response = client.get(f"/api/v1/reports?queue={name}&limit=50", headers=headers_of(role, area))
    assert response.status_code == 200
    return [item["id"] for item in response.get_json()["items"]]


def test_a_case_goes_round_the_loop(client, db, live_server, browser, shoot, cases):
    sign_in(browser, live_server, "community_hualin")
    assert nav(browser) == ["工作台", "有呼必应工单", "有呼必应统计"]
    listed = queue(client, "community", "community_staff", COMMUNITY)
    assert len(listed) == 3
    browser.get(f"{live_server}/console/dispatch")
    wait(browser, lambda b: row_ids(b) == listed)  # oldest first, as the API lists them
    assert texts(browser, "#queues button.on") == ["社区待受理"]
    late, due = countdown(browser, cases["overdue"]), countdown(browser, cases["photo"])
    assert late.text.startswith(("超时 00:59:", "超时 01:00:"))
    assert "overdue" in late.get_attribute("class")
    assert late.value_of_css_property("color") == "rgba(180, 35, 24, 1)"  # --warn
    assert due.text.startswith("剩余 01:5") and "overdue" not in due.get_attribute("class")
    first = due.text
    wait(browser, lambda b: countdown(b, cases["photo"]).text != first)  # it counts down, live
    flagged = browser.find_element(By.CSS_SELECTOR, f"#cases tr[data-id='{cases['flagged']}']")
    assert "两次升级" in flagged.text and "区级督办" in flagged.text
    shoot("dispatch-queue")

    browser.find_element(By.CSS_SELECTOR, f"#cases tr[data-id='{cases['photo']}'] a").click()
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#timeline li"))
    # the photo loads from its signed link alone: an <img> sends no Authorization header
    wait(browser, lambda b: script(b, "#photos img", "e.naturalWidth") == [96])
    assert moves(browser) == ["accept", "reject", "merge"]
    shoot("dispatch-case")
    assert move(browser, "accept") == "报事已受理"
    report = fresh(db, cases["photo"])
    assert report.state == "accepted" and report.responded_at is not None
    assert steps(db, report.id)[-1] == ("accept", user_id(db, "community_hualin"), None)
    wait(browser, lambda b: texts(b, "#timeline li strong") == ["报事", "受理"])
    assert moves(browser) == []  # community staff do not dispatch
    shoot("dispatch-case-accepted")

    sign_in(browser, live_server, "street_wushan")
    browser.get(f"{live_server}/console/dispatch")
    wait(browser, lambda b: str(cases["photo"]) in row_ids(b))
    assert texts(browser, "#queues button") == ["街道待派单"]
    open_case(browser, live_server, cases["photo"])
    department = Select(wait(browser, lambda b: b.find_element(By.NAME, "department")))
    assert department.first_selected_option.text == "消防救援大队"  # the category's own
    department.select_by_value("fire")
    shoot("dispatch-case-street")
    assert move(browser, "dispatch") == "报事已派单"
    report = fresh(db, cases["photo"])
    assert report.state == "dispatched" and report.department_id == 2
    assert report.due_at > clock.utcnow()
    assert steps(db, report.id)[-1] == ("dispatch", user_id(db, "street_wushan"), None)

    sign_in(browser, live_server, "fire_tianhe")
    browser.get(f"{live_server}/console/dispatch")
    wait(browser, lambda b: row_ids(b) == [str(cases["photo"])])
    assert texts(browser, "#queues button.on") == ["部门待处置"]
    browser.find_element(By.CSS_SELECTOR, f"#cases tr[data-id='{cases['photo']}'] a").click()
    wait(browser, lambda b: moves(b) == ["start", "hand_back"])
    assert move(browser, "start") == "报事处置中"
    assert fresh(db, cases["photo"]).state == "in_progress"
    wait(browser, lambda b: moves(b) == ["resolve"])
    note = "已清理楼道杂物，通道恢复畅通"
    assert move(browser, "resolve", reason=note) == "报事已办结"
    report = fresh(db, cases["photo"])
    assert report.state == "resolved" and report.resolved_at is not None
    fire = user_id(db, "fire_tianhe")
    assert steps(db, report.id)[-2:] == [("start", fire, None), ("resolve", fire, note)]
    wait(browser, lambda b: texts(b, "#timeline li strong")
         == ["报事", "受理", "派单", "开始处置", "办结"])
    assert texts(browser, "#timeline li:last-child blockquote") == [note]
    assert moves(browser) == []
    shoot("dispatch-case-resolved")


def test_a_move_the_state_no_longer_allows_shows_the_conflict(client, db, live_server, browser,
                                                              cases):
    sign_in(browser, live_server, "community_hualin")
    open_case(browser, live_server, cases["overdue"])
    assert browser.find_element(By.CSS_SELECTOR, "#case-due .due").text.startswith("超时")
    colleague = headers_of("community_staff", COMMUNITY)
    take(client, colleague, cases["overdue"], "accept")  # while the page is open
    notice = move(browser, "reject", reason="不属于受理范围")
    assert notice == "报事当前状态为「已受理」，不能执行该操作"
    assert fresh(db, cases["overdue"]).state == "accepted"
    assert [s[0] for s in steps(db, cases["overdue"])] == ["submit", "accept"]
    # the page shows where the case stands now
    wait(browser, lambda b: texts(b, "#case-badges .state") == ["已受理"])
    assert moves(browser) == []


def test_community_staff_are_refused_the_street_queue_and_other_communities(db, live_server,
                                                                            browser, cases):
    sign_in(browser, live_server, "community_hualin")
    browser.get(f"{live_server}/console/dispatch?queue=street")
    assert refused(browser) == "无权访问：您没有该队列的权限"
    assert texts(browser, ROWS) == []

    browser.get(f"{live_server}/console/report?id={cases['elsewhere']}")
    assert refused(browser) == "无权访问：您无权查看该报事"
    assert not browser.find_element(By.ID, "case").is_displayed()

    browser.get(f"{live_server}/console/report?id=not-a-case")
    assert refused(browser) == "请从工单队列打开一条报事"

    browser.get(f"{live_server}/console/report-stats?area=440106002")  # 员村街道, not theirs
    assert refused(browser).startswith("无权访问")
    assert fresh(db, cases["elsewhere"]).state == "submitted"


def _api_stats(client, by):
    response = client.get(f"/api/v1/stats/reports?by={by}&area={STREET}",
                          headers=headers_of("street_staff", STREET))
    assert response.status_code == 200
    return response.get_json()


def _percent(rate):
    return "—" if rate is None else f"{round(rate * 1000) / 10:g}%"


def _counts(groups):
    return [(g["name"], f"{g['count']} 件") for g in groups]


def test_the_three_rates_and_the_counts_are_drawn_as_the_api_gives_them(client, live_server,
                                                                         browser, shoot, cases):
    staff = headers_of("community_staff", STREET)
    for report_id in (cases["photo"], cases["elsewhere"]):  # in time; the overdue one was not
        take(client, staff, report_id, "accept")
    stats = _api_stats(client, "street")
    total = stats["total"]
    assert total["response_rate"] == round(2 / 3, 4) and total["count"] == 4

    sign_in(browser, live_server, "street_wushan")
    wait(browser, lambda b: texts(b, "#grants li"))
    shoot("dispatch-home")
    browser.get(f"{live_server}/console/report-stats")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#rates .meter"))
    drawn = script(browser, "#rates .meter", "[e.dataset.rate, e.querySelector('meter').value, "
                                             "e.querySelector('.value').textContent]")
    assert drawn == [[key, total[key] or 0, _percent(total[key])]
                     for key in ("response_rate", "resolution_rate", "satisfaction_rate")]
    assert "按时响应 2 / 3" in browser.find_element(By.ID, "rates").text
    assert bars(browser, "groups-chart") == _counts(stats["groups"])
    assert texts(browser, "#groups td:nth-child(4)") == [_percent(g["response_rate"])
                                                         for g in stats["groups"]]
    shoot("dispatch-stats")

    browser.find_element(By.CSS_SELECTOR, "#by button[data-by=department]").click()
    departments = _api_stats(client, "department")["groups"]
    assert departments and departments[0]["name"] == "消防救援大队"
    wait(browser, lambda b: bars(b, "groups-chart") == _counts(departments))


def test_a_department_hands_a_case_back_once_and_a_duplicate_is_merged(client, db, live_server,
                                                                       browser, shoot, cases):
    street = headers_of("street_staff", STREET)
    take(client, headers_of("community_staff", COMMUNITY), cases["photo"], "accept")
    take(client, street, cases["photo"], "dispatch", department="fire")

    sign_in(browser, live_server, "fire_tianhe")
    open_case(browser, live_server, cases["photo"])
    assert move(browser, "hand_back", reason="非本部门职责，请改派") == "报事已受理"
    report = fresh(db, cases["photo"])
    assert report.state == "accepted" and report.hand_backs == 1
    assert steps(db, report.id)[-1] == ("hand_back", user_id(db, "fire_tianhe"),
                                        "非本部门职责，请改派")
    take(client, street, cases["photo"], "dispatch", department="fire")
    open_case(browser, live_server, cases["photo"])
    wait(browser, lambda b: moves(b) == ["start"])  # a department hands a case back once
    assert texts(browser, "#moves .hint") == ["已退回过一次，不能再次退回"]

    sign_in(browser, live_server, "community_hualin")
    open_case(browser, live_server, cases["flagged"])
    assert "两次升级" in browser.find_element(By.ID, "case-badges").text
    # the open reports of the same kind nearby are offered
    assert str(cases["overdue"]) in script(browser, "#nearby option", "e.value")
    form = browser.find_element(By.CSS_SELECTOR, "form.move[data-action=merge]")
    form.find_element(By.NAME, "duplicate_of").send_keys(str(cases["overdue"]))
    shoot("dispatch-case-merge")
    assert move(browser, "merge") == "报事已合并"
    report = fresh(db, cases["flagged"])
    assert report.state == "duplicate" and report.merged_into_id == cases["overdue"]
    wait(browser, lambda b: texts(b, "#case-facts a") == [str(cases["overdue"])])
