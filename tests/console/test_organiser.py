"""The organiser's console in a real browser: the dashboard and volunteers (charts, search,
exports), join requests, patrols (create, roster with waitlist, the full-screen check-in code,
hours), and the admin's import followed live to its end; refused, by the API and shown on the page,
outside the organiser's areas."""
import csv
import io
import time
from datetime import datetime, timedelta, timezone

import openpyxl
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import func, select

from app import demo
from app.auth import service as auth_service
from app.patrols.models import Attendance, Patrol
from app.volunteers import import_jobs, locality
from app.volunteers import service as volunteer_service
from app.volunteers.models import Group, GroupMember, Volunteer
from tests import factories
from tests.clock import freeze
from tests.console.helpers import bars, enrolled_code, nav, refused, sign_in, texts, wait
from tests.patrols.helpers import MEETING, near, token
from tests.volunteers.test_import import BAD, GOOD, csv_bytes

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 in Guangzhou
GRID = "44010600100101"  # the demo volunteer's grid, in 五山街道's 华林社区
ORGANISER_NAV = ["工作台", "志愿者", "巡逻活动", "积分榜", "街坊群", "场所"]


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The services' time, frozen before the demo data is made (its patrols are this evening's)."""
    return freeze(monkeypatch, NOW)


@pytest.fixture
def downloads(browser, tmp_path):
    """The folder the browser saves downloads into."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    behaviour = {"behavior": "allow", "downloadPath": str(folder)}
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", behaviour)
    return folder


def downloaded(folder, name):
    """The bytes of a finished download."""
    path = folder / name
    wait(None, lambda _: path.exists() and not list(folder.glob("*.crdownload")))
    return path.read_bytes()


def api_stats(client, by):
    """What the API says of 天河区's volunteers, as the chart should draw it."""
    headers = factories.auth_headers(factories.user(roles=[("organiser", "440106")]))
    url = f"/api/v1/stats/volunteers?by={by}&area=440106"
    stats = client.get(url, headers=headers).get_json()
    rows = sorted(stats["rows"], key=lambda r: -r["count"])[:30]
    labels = [r["name"][:8] + "…" if len(r["name"]) > 9 else r["name"] for r in rows]  # as drawn
    return stats["total"], {(label, f"{r['count']:,}") for label, r in zip(labels, rows)}


def volunteer(name, grid=GRID):
    """A registered volunteer: (headers, Volunteer)."""
    user = factories.user()
    v = volunteer_service.register(user=user, real_name=name, grid=grid, trade="express",
                                   interests=["running"], service_roles=["patroller"])
    return factories.auth_headers(user), v


def demo_volunteer():
    """The demo resident, a volunteer in 五山街道: (headers, Volunteer)."""
    user = auth_service.find_by_phone(demo.DEMO_RESIDENT_PHONE)
    return factories.auth_headers(user), volunteer_service.volunteer_of(user)


def click(browser, selector):
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, selector))
    browser.find_element(By.CSS_SELECTOR, selector).click()


def notice(browser):
    wait(browser, lambda b: b.find_element(By.ID, "notice").is_displayed())
    return browser.find_element(By.ID, "notice").text


def fill(form, **values):
    for name, value in values.items():
        field = form.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)


def row_of(browser, selector, first_cell):
    """The table row whose first cell reads first_cell."""
    return next(r for r in browser.find_elements(By.CSS_SELECTOR, selector)
                if r.find_element(By.CSS_SELECTOR, "td").text == first_cell)


def image_loaded(element_id):
    script = f"return document.getElementById('{element_id}').naturalWidth"
    return lambda b: b.execute_script(script) > 0


def test_dashboard_volunteers_and_exports(client, live_server, browser, shoot, seeded, downloads):
    sign_in(browser, live_server, "organiser_tianhe")
    assert nav(browser) == ORGANISER_NAV
    total, streets = api_stats(client, "street")
    assert set(bars(browser, "overview-chart")) == streets and total > 100
    wait(browser, lambda b: b.find_element(By.ID, "total").text not in ("", "–"))
    assert int(browser.find_element(By.ID, "total").text.replace(",", "")) == total
    shoot("organiser-home")

    browser.get(f"{live_server}/console/volunteers")
    assert set(bars(browser, "chart")) == streets
    browser.find_element(By.CSS_SELECTOR, "#dims button[data-by=trade]").click()
    trades = api_stats(client, "trade")[1]
    wait(browser, lambda b: set(bars(b, "chart")) == trades)
    browser.find_element(By.NAME, "q").send_keys("陈大文")
    browser.find_element(By.CSS_SELECTOR, "form#search button[type=submit]").click()
    # masked, and only the one asked for
    wait(browser, lambda b: texts(b, "#rows tr td:first-child") == ["陈*文"])
    shoot("organiser-volunteers")

    browser.find_element(By.ID, "export-xlsx").click()
    xlsx = downloaded(downloads, "volunteers-440106.xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("志愿者编号", "姓名", "手机号") and len(rows) == total + 1
    assert {r[3] for r in rows[1:]} == {"天河区"}
    assert ("陈*文", "138****8000") in {r[1:3] for r in rows}
    browser.find_element(By.ID, "export").click()
    exported = downloaded(downloads, "volunteers-440106.csv").decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(exported)))) == total + 1

    browser.get(f"{live_server}/console/volunteers?area=440103")  # 荔湾区: not the organiser's
    assert refused(browser).startswith("无权访问")
    assert bars(browser, "chart", allow_none=True) == []


def test_organiser_approves_and_declines_join_requests(db, client, live_server, browser, shoot,
                                                       seeded):
    runners = db.session.execute(select(Group).where(Group.name == "五山跑步街坊群")).scalar_one()
    asking = [demo_volunteer(), volunteer("李小明")]
    for headers, _ in asking:
        r = client.post(f"/api/v1/groups/{runners.id}/members", json={}, headers=headers)
        assert r.status_code == 201 and r.get_json()["status"] == "pending"
    (_, chan), (_, lee) = asking

    sign_in(browser, live_server, "organiser_wushan")
    browser.get(f"{live_server}/console/groups")
    wait(browser, lambda b: texts(b, "#groups tr td:first-child") == ["五山跑步街坊群"])
    assert texts(browser, "#groups td.pending") == ["2"]
    click(browser, "#groups td.act button")
    wait(browser, lambda b: sorted(texts(b, "#requests tr td:first-child")) == ["李*明", "陈*文"])
    shoot("organiser-groups")

    row_of(browser, "#requests tr", "陈*文").find_element(By.XPATH, ".//button[text()='批准']").click()
    assert notice(browser) == "已批准 陈*文 的入群申请"
    row_of(browser, "#requests tr", "李*明").find_element(By.XPATH, ".//button[text()='拒绝']").click()
    wait(browser, lambda b: b.find_element(By.ID, "notice").text == "已拒绝 李*明 的入群申请")
    assert browser.find_element(By.ID, "no-requests").is_displayed()
    db.session.expire_all()
    members = db.session.execute(select(GroupMember.volunteer_id, GroupMember.status)
                                 .where(GroupMember.group_id == runners.id)).all()
    assert members == [(chan.id, "active")] and lee.id not in {m for m, _ in members}
    assert db.session.get(Group, runners.id).member_count == 1

    browser.get(f"{live_server}/console/groups")
    wait(browser, lambda b: b.find_element(By.ID, "none").is_displayed())
    browser.get(f"{live_server}/console/groups?area=440106002")  # 员村街道: not this organiser's
    assert refused(browser) == "无权访问：该区域不在您的管辖范围内"
    assert texts(browser, "#groups tr") == []


def test_organiser_creates_a_patrol_and_shows_its_code_full_screen(db, client, live_server, browser,
                                                                  shoot, seeded):
    community = locality.auto_group_of(GRID)
    sign_in(browser, live_server, "organiser_tianhe")
    browser.get(f"{live_server}/console/patrols")
    wait(browser, lambda b: len(texts(b, "#patrols tr")) == 2)  # the demo's two evening patrols
    browser.find_element(By.ID, "new").click()
    form = browser.find_element(By.ID, "patrol-form")
    wait(browser, lambda b: form.find_elements(By.CSS_SELECTOR, f"option[value='{community.id}']"))
    Select(form.find_element(By.NAME, "group_id")).select_by_value(str(community.id))
    assert form.find_element(By.NAME, "area").get_attribute("value") == GRID[:12]
    fill(form, title="华林社区周二夜巡", lat=str(MEETING["lat"]), lng=str(MEETING["lng"]),
         capacity="1")
    for name, value in (("starts_at", "2026-12-01T20:00"), ("ends_at", "2026-12-01T22:00")):
        field = form.find_element(By.NAME, name)
        browser.execute_script("arguments[0].value = arguments[1]", field, value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert notice(browser) == "已发布巡逻“华林社区周二夜巡”"
    wait(browser, lambda b: "华林社区周二夜巡" in texts(b, "#patrols tr td:first-child"))
    db.session.expire_all()
    patrol = db.session.execute(select(Patrol).where(Patrol.title == "华林社区周二夜巡")).scalar_one()
    assert (patrol.group_id, patrol.area_code, patrol.capacity, patrol.radius_m) == (
        community.id, GRID[:12], 1, 200)
    starts = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)  # 20:00 in Guangzhou
    assert patrol.starts_at.replace(tzinfo=timezone.utc) == starts

    for headers, _ in (demo_volunteer(), volunteer("李小明")):  # one seat: the second waits
        r = client.post(f"/api/v1/patrols/{patrol.id}/signups", headers=headers)
        assert r.status_code == 201
    row = row_of(browser, "#patrols tr", "华林社区周二夜巡")
    row.find_element(By.CSS_SELECTOR, "td.act button").click()
    wait(browser, lambda b: sorted(texts(b, "#roster tr")) == ["李*明候补第 1 位", "陈*文已报名"])
    wait(browser, image_loaded("checkin-qr"))
    shoot("organiser-patrols")

    browser.find_element(By.ID, "fullscreen").click()
    wait(browser, image_loaded("screen-qr"))
    qr = browser.find_element(By.ID, "screen-qr")
    assert f"/patrols/{patrol.id}/checkin-code.png?" in qr.get_attribute("src")
    view = browser.execute_script("return [window.innerWidth, window.innerHeight]")
    small = browser.find_element(By.ID, "checkin-qr").size["width"]
    assert qr.size["width"] >= max(0.6 * min(view), small + 40)
    assert qr.size["width"] == qr.size["height"]
    assert browser.find_element(By.ID, "screen-title").text == "华林社区周二夜巡 · 扫码签到"
    assert "60 秒后换新码" in browser.find_element(By.ID, "screen-hint").text
    shoot("organiser-checkin-screen")
    browser.find_element(By.ID, "screen-close").click()
    assert not browser.find_element(By.ID, "screen").is_displayed()
    assert not browser.execute_script("return document.fullscreenElement")


def test_organiser_certifies_hours_after_the_patrol(db, client, clock, live_server, browser, shoot,
                                                    seeded):
    community = locality.auto_group_of(GRID)
    organiser = factories.user(roles=[("organiser", "440106001")])
    starts = NOW + timedelta(hours=1)
    body = {"group_id": str(community.id), "area": GRID[:12], "title": "华林社区午间巡逻",
            "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "meeting_point": MEETING, "capacity": 5}
    r = client.post("/api/v1/patrols", json=body, headers=factories.auth_headers(organiser))
    assert r.status_code == 201, r.get_json()
    patrol_id = r.get_json()["id"]
    people = [demo_volunteer(), volunteer("李小明")]
    for headers, _ in people:
        r = client.post(f"/api/v1/patrols/{patrol_id}/signups", headers=headers)
        assert r.status_code == 201
    clock.set(starts + timedelta(minutes=6))
    for headers, _ in people:
        checkin = {"token": token(patrol_id), **near()}
        r = client.post("/api/v1/patrols/checkins", json=checkin, headers=headers)
        assert r.status_code == 201, r.get_json()
    clock.set(starts + timedelta(minutes=96))
    for headers, _ in people:  # 1.5 h each
        r = client.post(f"/api/v1/patrols/{patrol_id}/checkout", json=near(), headers=headers)
        assert r.status_code == 200
    clock.set(starts + timedelta(hours=3))

    sign_in(browser, live_server, "organiser_wushan")
    browser.get(f"{live_server}/console/patrols")
    browser.find_element(By.ID, "open").click()  # ended patrols too
    wait(browser, lambda b: "华林社区午间巡逻" in texts(b, "#patrols tr td:first-child"))
    row = row_of(browser, "#patrols tr", "华林社区午间巡逻")
    row.find_element(By.CSS_SELECTOR, "td.act button").click()
    wait(browser, lambda b: len(texts(b, "#attendance tr")) == 2)
    assert not browser.find_element(By.ID, "code").is_displayed()  # ended: no code to show
    assert all("记录 1.5 小时" in t for t in texts(browser, "#attendance tr td:nth-child(2)"))

    form = row_of(browser, "#attendance tr", "李*明").find_element(By.CSS_SELECTOR, "form")
    fill(form, hours="1.8", reason="提前到场布置")
    form.find_element(By.CSS_SELECTOR, "button").click()
    assert notice(browser) == "已认证 李*明 的工时：1.8 小时"
    browser.find_element(By.ID, "certify-all").click()
    wait(browser, lambda b: b.find_element(By.ID, "notice").text == "已按记录认证 1 人的工时")
    shoot("organiser-hours")
    db.session.expire_all()
    certified = dict(db.session.execute(select(Attendance.volunteer_id, Attendance.certified_tenths)
                                        .where(Attendance.patrol_id == int(patrol_id))).all())
    assert certified == {people[0][1].id: 15, people[1][1].id: 18}

    browser.get(f"{live_server}/console/leaderboards")  # 五山街道's board: 10 points an hour
    Select(browser.find_element(By.ID, "period")).select_by_value("all")
    browser.find_element(By.ID, "show").click()
    wait(browser, lambda b: bars(b, "chart", allow_none=True) == [("1. 李*明", "18 分"),
                                                                   ("2. 陈*文", "15 分")])
    assert browser.find_element(By.ID, "scope").get_attribute("value") == "street"
    shoot("organiser-leaderboards")


def test_admin_imports_with_live_progress_and_rejected_rows(app, db, monkeypatch, live_server,
                                                            browser, shoot, seeded, downloads,
                                                            tmp_path):
    # queued for the worker, as in production: the page follows the job while it waits and runs
    monkeypatch.setitem(app.config, "VOLUNTEER_IMPORT_RUNNER", "worker")
    before = db.session.execute(select(func.count()).select_from(Volunteer)).scalar()
    upload = tmp_path / "volunteers.csv"
    upload.write_bytes(csv_bytes([GOOD[0], BAD[0][0], GOOD[1], BAD[2][0], GOOD[2]]))

    sign_in(browser, live_server, "admin", enrolled_code(db, "admin"))
    assert "批量导入" in nav(browser)
    browser.get(f"{live_server}/console/imports")
    browser.find_element(By.NAME, "file").send_keys(str(upload))
    browser.find_element(By.CSS_SELECTOR, "form#upload button").click()
    wait(browser, lambda b: b.find_element(By.ID, "job-state").text == "排队中")
    assert browser.find_element(By.ID, "percent").text == "0%"
    assert "?job=" in browser.current_url
    time.sleep(1.5)  # the page polls meanwhile and still shows the queued job
    assert browser.find_element(By.ID, "job-state").text == "排队中"

    assert import_jobs.run_pending() == 1  # the worker
    wait(browser, lambda b: b.find_element(By.ID, "job-state").text == "已完成")
    assert browser.find_element(By.ID, "percent").text == "100%"
    assert browser.find_element(By.ID, "progress").get_attribute("value") == "100"
    assert browser.find_element(By.ID, "job-rows").text == "已处理 5 / 5 行"
    counts = [browser.find_element(By.ID, k).text for k in ("inserted", "updated", "rejected")]
    assert counts == ["3", "0", "2"]
    assert texts(browser, "#rejected-rows tr td:first-child") == ["3", "5"]
    shoot("admin-imports")
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(Volunteer)).scalar() == before + 3

    job_id = browser.current_url.split("?job=")[1]
    browser.find_element(By.ID, "rejected-download").click()
    report = downloaded(downloads, f"import-{job_id}-rejected.csv")
    rows = list(csv.reader(io.StringIO(report.decode("utf-8-sig"))))
    assert rows[0] == ["行号", "原因"] and [r[0] for r in rows[1:]] == ["3", "5"]
    assert BAD[0][1] in rows[1][1] and BAD[2][1] in rows[2][1]


def test_organiser_has_no_imports(live_server, browser, seeded, tmp_path):
    upload = tmp_path / "volunteers.csv"
    upload.write_bytes(csv_bytes([GOOD[0]]))
    sign_in(browser, live_server, "organiser_tianhe")
    browser.get(f"{live_server}/console/imports")
    assert "批量导入" not in nav(browser)
    browser.find_element(By.NAME, "file").send_keys(str(upload))
    browser.find_element(By.CSS_SELECTOR, "form#upload button").click()
    assert refused(browser).startswith("无权访问")
    assert not browser.find_element(By.ID, "job").is_displayed()
