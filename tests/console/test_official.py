"""The health official's console in a real browser: the city's colour counts drawn per day, a
code's history, tracing with every action audited (and its rows in the database), and another
role's page refused."""

from datetime import datetime, timedelta, timezone

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import func, select

from app import demo
from app.auth.models import User
from app.health_codes import officials
from app.health_codes.models import ColourChange, HealthCode
from app.venues.models import Scan, TracingQuery, Venue
from tests.clock import freeze
from tests.console.helpers import enrolled_code, nav, refused, sign_in, texts, wait
from tests.console.test_venue_manager import shoot_section

NOW = datetime(2026, 3, 5, 2, 0, tzinfo=timezone.utc)  # 10:00 in Guangzhou
HEALTH_MODULES = ("service", "state", "officials", "links", "persons")


@pytest.fixture
def world(app, db, monkeypatch):
    """The demo data made three days before NOW (two green persons: the demo resident and a
    parent); two days before NOW the parent is a case (red); the day before both visit one venue
    half an hour apart."""
    clock = freeze(monkeypatch, NOW - timedelta(days=3))
    for module in HEALTH_MODULES:
        monkeypatch.setattr(f"app.health_codes.{module}.utcnow", lambda: clock.now)
    demo.seed()
    db.session.commit()
    official = db.session.execute(select(User).where(User.username == "official")).scalar_one()
    own, parent = (
        db.session.execute(
            select(HealthCode.id).where(HealthCode.relation == relation)
        ).scalar_one()
        for relation in ("self", "family")
    )
    officials.official_set_colour(
        code_id=parent,
        colour="red",
        reason="确诊病例",
        official_id=official.id,
        now=clock.advance(days=1),
    )
    venue = Venue(
        name="天河城购物中心",
        category="商场",
        address="天河路208号",
        area_code="440106001001",
        lat=23.1375,
        lng=113.3235,
        created_by=official.id,
        approved_at=clock.now,
    )
    db.session.add(venue)
    db.session.flush()
    for code_id, minutes in ((parent, 0), (own, 30)):
        db.session.add(
            Scan(
                scanned_at=NOW - timedelta(days=1, minutes=-minutes),
                venue_id=venue.id,
                health_code_id=code_id,
                kind="checkin",
                colour="green",
                passed=True,
            )
        )
    db.session.commit()
    clock.set(NOW)
    return {"own": own, "parent": parent}


def _columns(browser, colour):
    """(date, value) of each column the colour's chart draws."""
    return [
        tuple(c)
        for c in browser.execute_script(
            "return [...document.querySelectorAll(`[data-colour='${arguments[0]}'] rect.col`)]"
            ".map(r => [r.dataset.date, Number(r.dataset.value)])",
            colour,
        )
    ]


def test_official_sees_colour_counts_traces_with_audit_and_reads_history(
    app, db, live_server, browser, shoot, world
):
    sign_in(browser, live_server, "official", enrolled_code(db, "official"))
    assert nav(browser) == ["工作台", "健康码与流调", "场所", "持码人记录"]
    browser.get(f"{live_server}/console/health?from=2026-03-01&to=2026-03-05")
    wait(browser, lambda b: len(_columns(b, "red")) == 5)
    assert _columns(browser, "green") == [
        ("2026-03-01", 0),
        ("2026-03-02", 2),
        ("2026-03-03", 1),
        ("2026-03-04", 1),
        ("2026-03-05", 1),
    ]
    assert [v for _, v in _columns(browser, "red")] == [0, 0, 1, 1, 1]
    assert [v for _, v in _columns(browser, "yellow")] == [0, 0, 0, 0, 0]
    assert texts(browser, "[data-colour] .latest") == ["1", "0", "1"]
    shoot("official-health")

    # tracing: the case's contacts, the query audited; the contact turned yellow, audited too
    form = browser.find_element(By.ID, "trace")
    form.find_element(By.NAME, "health_code_id").send_keys(str(world["parent"]))
    for name, value in (("since", "2026-03-01T00:00"), ("until", "2026-03-05T00:00")):
        browser.execute_script(
            "arguments[0].value = arguments[1]", form.find_element(By.NAME, name), value
        )
    form.find_element(By.NAME, "purpose").send_keys("密接排查")
    assert "记入审计" in form.find_element(By.CSS_SELECTOR, "button").text
    form.find_element(By.CSS_SELECTOR, "button").click()
    wait(browser, lambda b: b.find_element(By.ID, "result").is_displayed())
    assert browser.find_element(By.ID, "notice").text == "查询已记入审计日志"
    assert db.session.execute(select(TracingQuery.purpose, TracingQuery.official_id)).all() == [
        (
            "密接排查",
            db.session.execute(select(User.id).where(User.username == "official")).scalar_one(),
        )
    ]
    assert texts(browser, "#contacts tr td:nth-child(2)") == [str(world["own"])]
    browser.find_element(By.CSS_SELECTOR, "#contacts input[type=checkbox]").click()
    browser.find_element(By.CSS_SELECTOR, "#apply input[name=reason]").send_keys("同场所密接")
    browser.find_element(By.CSS_SELECTOR, "#apply button").click()
    applied = "已为 1 人赋黄码，操作已记入审计日志（原因：同场所密接）"
    wait(browser, lambda b: b.find_element(By.ID, "notice").text == applied)
    db.session.expire_all()
    assert db.session.get(HealthCode, world["own"]).colour == "yellow"
    decision = db.session.execute(
        select(ColourChange).where(
            ColourChange.health_code_id == world["own"], ColourChange.source == "official"
        )
    ).scalar_one()
    assert (decision.from_colour, decision.to_colour, decision.note) == (
        "green",
        "yellow",
        "同场所密接",
    )
    shoot_section(browser, "result", "official-tracing")

    # the chart follows: today one yellow, no green
    browser.find_element(By.CSS_SELECTOR, "#period button[type=submit]").click()
    wait(browser, lambda b: _columns(b, "yellow")[-1] == ("2026-03-05", 1))
    assert _columns(browser, "green")[-1] == ("2026-03-05", 0)

    # the contact's history: the decision just made, then the first assignment
    browser.get(f"{live_server}/console/health-history")
    browser.find_element(By.NAME, "code").send_keys(str(world["own"]))
    browser.find_element(By.CSS_SELECTOR, "#lookup button").click()
    wait(browser, lambda b: b.find_element(By.ID, "history").is_displayed())
    items = texts(browser, "#timeline li")
    assert (
        len(items) == 2
        and "卫健人员判定" in items[0]
        and "绿码 → 黄码" in items[0]
        and "同场所密接" in items[0]
    )
    assert "首次赋码：绿码" in items[1]
    assert browser.find_element(By.ID, "history-now").text == "最近一次赋码：黄码"
    shoot("official-history")
    browser.find_element(By.NAME, "code").clear()
    browser.find_element(By.NAME, "code").send_keys("123")
    browser.find_element(By.CSS_SELECTOR, "#lookup button").click()
    wait(
        browser,
        lambda b: b.find_element(By.ID, "notice").text == "健康码不存在，请返回列表刷新后重试",
    )

    browser.get(f"{live_server}/console/volunteers")
    assert refused(browser).startswith("无权访问")


def test_counts_refused_for_a_district_organiser(live_server, browser, seeded):
    sign_in(browser, live_server, "organiser_tianhe")
    browser.get(f"{live_server}/console/health")
    assert refused(browser) == "无权访问：您的账号无权执行此操作"
    assert browser.find_elements(By.CSS_SELECTOR, "#colours rect.col") == []


def test_history_needs_the_number(db, live_server, browser, seeded):
    sign_in(browser, live_server, "official", enrolled_code(db, "official"))
    browser.get(f"{live_server}/console/health-history?code=12ab")
    wait(browser, lambda b: b.find_element(By.ID, "notice").text == "请输入健康码编号（数字）")
    assert not browser.find_element(By.ID, "history").is_displayed()
    assert db.session.execute(select(func.count()).select_from(TracingQuery)).scalar() == 0
