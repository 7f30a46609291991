"""The staff console in a real browser: each role signs in, sees its dashboard with charts drawn, does its main
task and sees the result, and is refused (by the API, shown on the page) where another role's page begins."""
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from tests import factories
from tests.console.helpers import bars, nav, refused, sign_in, texts, wait


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


def test_console_without_sign_in_goes_to_login(live_server, browser):
    browser.get(f"{live_server}/console/volunteers")
    wait(browser, ec.url_to_be(f"{live_server}/console/login"))
    browser.find_element(By.NAME, "username").send_keys("organiser_tianhe")
    browser.find_element(By.NAME, "password").send_keys("wrong-password")
    browser.find_element(By.CSS_SELECTOR, "form#login button").click()
    wait(browser, lambda b: b.find_element(By.ID, "error").is_displayed())
    assert browser.current_url == f"{live_server}/console/login"
