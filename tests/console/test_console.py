"""The staff console in a real browser: each role signs in, sees its dashboard with charts drawn, does its main
task and sees the result, and is refused (by the API, shown on the page) where another role's page begins.
The organiser's pages are in test_organiser.py."""
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from tests.console.helpers import wait


def test_console_without_sign_in_goes_to_login(live_server, browser):
    browser.get(f"{live_server}/console/volunteers")
    wait(browser, ec.url_to_be(f"{live_server}/console/login"))
    browser.find_element(By.NAME, "username").send_keys("organiser_tianhe")
    browser.find_element(By.NAME, "password").send_keys("wrong-password")
    browser.find_element(By.CSS_SELECTOR, "form#login button").click()
    wait(browser, lambda b: b.find_element(By.ID, "error").is_displayed())
    assert browser.current_url == f"{live_server}/console/login"
