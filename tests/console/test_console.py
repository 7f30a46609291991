"""The staff console in a real browser: each role signs in, sees its dashboard with charts drawn, does its main
task and sees the result, and is refused (by the API, shown on the page) where another role's page begins.
The organiser's pages are in test_organiser.py."""
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from sqlalchemy import func, select

from app.health_codes.models import HealthCode
from app.venues.models import TracingQuery
from tests import factories
from tests.console.helpers import enrolled_code, nav, refused, sign_in, wait
from tests.venues.test_venues import VENUE


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
