"""What the console's browser tests share: the demo data, signing in (with the second factor where the role needs
it), and reading what a page shows."""
from datetime import timedelta

import pyotp
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from app import demo
from app.auth import second_factor
from app.auth.models import User
from app.common import time as app_time


def wait(browser, condition, seconds=15):
    return WebDriverWait(browser, seconds).until(condition)


def enrolled_code(db, username: str) -> str:
    """Enrol the account's authenticator (admins and officials need one) and give its next code, both at the time
    the server sees (frozen, when the test froze it)."""
    user = db.session.execute(select(User).where(User.username == username)).scalar_one()
    totp = pyotp.TOTP(second_factor.start_enrolment(user)["secret"])
    now = app_time.utcnow()
    second_factor.confirm_enrolment(user, totp.at(now))
    return totp.at(now + timedelta(seconds=30))  # the confirming code is spent


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
