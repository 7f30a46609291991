"""The staff console in a real browser: each role signs in, sees its dashboard with charts drawn, does its main
task and sees the result, and is refused (by the API, shown on the page) where another role's page begins."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import func, select

from app import demo
from app.health_codes.models import HealthCode
from app.venues.models import TracingQuery
from tests import factories
from tests.venues.test_venues import VENUE


@pytest.fixture
def seeded(app, db):
    """The `make run` demo data: staff accounts, the demo resident's code, 200 volunteers, groups, patrols."""
    demo.seed()
    db.session.commit()


def wait(browser, condition, seconds=15):
    return WebDriverWait(browser, seconds).until(condition)


def enrolled_code(db, username: str) -> str:
    """Enrol the account's authenticator (admins and officials need one) and give its next code."""
    from datetime import datetime, timedelta, timezone

    import pyotp

    from app.auth import second_factor
    from app.auth.models import User

    user = db.session.execute(select(User).where(User.username == username)).scalar_one()
    totp = pyotp.TOTP(second_factor.start_enrolment(user)["secret"])
    second_factor.confirm_enrolment(user, totp.now())
    return totp.at(datetime.now(timezone.utc) + timedelta(seconds=30))  # the confirming code is spent


def sign_in(browser, live_server, username, totp=None):
    browser.get(f"{live_server}/console/login")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(demo.DEMO_PASSWORD)
    if totp:
        browser.find_element(By.NAME, "totp").send_keys(totp)
    browser.find_element(By.CSS_SELECTOR, "form#login button").click()
    wait(browser, ec.url_to_be(f"{live_server}/console/"))


def bars(browser, chart, allow_none=False):
    """The bars drawn in a chart, once there are any (or at once with allow_none): [(label, value text)]."""
    read = ("return [...document.querySelectorAll(arguments[0])].map("
            "g => [g.querySelector('text.label').textContent, g.querySelector('text.value').textContent])")
    if allow_none:
        return [tuple(row) for row in browser.execute_script(read, f"#{chart} svg g.bar-row")]
    rows = wait(browser, lambda b: b.execute_script(read, f"#{chart} svg g.bar-row"))
    return [tuple(row) for row in rows]


def texts(browser, selector):
    """The text of every element the selector finds, read in one go (the page may redraw meanwhile)."""
    return browser.execute_script("return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)",
                                  selector)


def refused(browser):
    wait(browser, lambda b: b.find_element(By.ID, "notice").is_displayed())
    return browser.find_element(By.ID, "notice").text


def nav(browser):
    """The navigation's links for the signed-in roles (once the page's script has shown them)."""
    wait(browser, lambda b: b.find_element(By.ID, "who").text)
    return [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#nav a") if a.is_displayed()]


def api_stats(client, by):
    """What the API says of 天河区's volunteers, as the chart should draw it."""
    headers = factories.auth_headers(factories.user(roles=[("organiser", "440106")]))
    stats = client.get(f"/api/v1/stats/volunteers?by={by}&area=440106", headers=headers).get_json()
    rows = sorted(stats["rows"], key=lambda r: -r["count"])[:30]
    return stats["total"], {(r["name"][:8] + "…" if len(r["name"]) > 9 else r["name"], f"{r['count']:,}") for r in rows}


def test_organiser_sees_volunteers_and_patrols_and_is_refused_another_district(client, live_server, browser, shoot, seeded):
    sign_in(browser, live_server, "organiser_tianhe")
    assert nav(browser) == ["工作台", "志愿者", "巡逻活动", "积分榜", "场所"]
    total, streets = api_stats(client, "street")
    assert set(bars(browser, "overview-chart")) == streets and total > 100
    wait(browser, lambda b: b.find_element(By.ID, "total").text not in ("", "–"))
    assert int(browser.find_element(By.ID, "total").text.replace(",", "")) == total
    shoot("organiser-home")

    browser.get(f"{live_server}/console/volunteers")
    bars(browser, "chart")
    browser.find_element(By.CSS_SELECTOR, "#dims button[data-by=trade]").click()
    trades = api_stats(client, "trade")[1]
    wait(browser, lambda b: set(bars(b, "chart")) == trades)
    search = browser.find_element(By.NAME, "q")
    search.send_keys("陈大文")
    browser.find_element(By.CSS_SELECTOR, "form#search button[type=submit]").click()
    wait(browser, lambda b: texts(b, "#rows tr td:first-child") == ["陈*文"])  # masked, only the one asked for
    shoot("organiser-volunteers")

    browser.get(f"{live_server}/console/patrols")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#patrols button"))
    browser.find_elements(By.CSS_SELECTOR, "#patrols button")[0].click()
    wait(browser, lambda b: b.execute_script("return document.getElementById('checkin-qr').naturalWidth") > 0)
    shoot("organiser-patrol")

    browser.get(f"{live_server}/console/volunteers?area=440103")  # 荔湾区: not the organiser's
    assert refused(browser).startswith("无权访问")
    assert bars(browser, "chart", allow_none=True) == []


def test_official_traces_with_audit_and_is_refused_volunteers(app, db, live_server, browser, shoot, seeded):
    code_id = db.session.execute(select(HealthCode.id)).scalars().first()
    sign_in(browser, live_server, "official", enrolled_code(db, "official"))
    assert nav(browser) == ["工作台", "健康码与流调", "场所"]
    browser.get(f"{live_server}/console/health")
    form = browser.find_element(By.ID, "trace")
    form.find_element(By.NAME, "health_code_id").send_keys(str(code_id))
    for name, value in (("since", "2026-11-01T00:00"), ("until", "2026-11-20T00:00")):
        browser.execute_script("arguments[0].value = arguments[1]", form.find_element(By.NAME, name), value)
    form.find_element(By.NAME, "purpose").send_keys("密接排查")
    form.find_element(By.CSS_SELECTOR, "button").click()
    wait(browser, lambda b: b.find_element(By.ID, "result").is_displayed())
    assert browser.find_element(By.ID, "notice").text == "查询已记入审计日志"
    assert db.session.execute(select(func.count()).select_from(TracingQuery)).scalar() == 1
    shoot("official-tracing")

    browser.get(f"{live_server}/console/volunteers")
    assert refused(browser).startswith("无权访问")


def test_admin_downloads_a_venue_poster(client, db, live_server, browser, shoot, seeded):
    owner = factories.user(roles=[("resident", "4401")])
    assert client.post("/api/v1/venues", json=VENUE, headers=factories.auth_headers(owner)).status_code == 201
    sign_in(browser, live_server, "admin", enrolled_code(db, "admin"))
    browser.get(f"{live_server}/console/venues")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#venues button"))
    assert browser.find_element(By.CSS_SELECTOR, "#venues tr td").text == VENUE["name"]
    browser.find_element(By.CSS_SELECTOR, "#venues button").click()
    wait(browser, lambda b: b.execute_script("return document.getElementById('poster').naturalWidth") > 0
         or b.find_element(By.ID, "notice").text)
    assert browser.find_element(By.ID, "notice").text == ""
    assert browser.find_element(By.ID, "poster-download").get_attribute("href").startswith("blob:")
    shoot("admin-venue")


def test_console_without_sign_in_goes_to_login(live_server, browser):
    browser.get(f"{live_server}/console/volunteers")
    wait(browser, ec.url_to_be(f"{live_server}/console/login"))
    browser.find_element(By.NAME, "username").send_keys("organiser_tianhe")
    browser.find_element(By.NAME, "password").send_keys("wrong-password")
    browser.find_element(By.CSS_SELECTOR, "form#login button").click()
    wait(browser, lambda b: b.find_element(By.ID, "error").is_displayed())
    assert browser.current_url == f"{live_server}/console/login"
