"""The console's browser tests: a live server on the test database, and headless Chromium driven by Selenium.

Screenshots of each main page, at 1280 px and 360 px wide, are written to CONSOLE_SCREENSHOTS
(default: instance/console-screenshots) for a person to look at."""
import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import demo

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS", Path(__file__).parents[2] / "instance" / "console-screenshots"))


@pytest.fixture
def live_server(app):
    """The app served on a free local port in a thread, for the length of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium (Debian's package) with an empty profile; skipped where it is not installed, unless
    REQUIRE_BROWSER is set (as in CI), where that fails instead."""
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("REQUIRE_BROWSER is set but chromium / chromedriver are not installed")
        pytest.skip("needs Debian's chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,900",
                 "--lang=zh-CN"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def shoot(browser):
    """shoot(name): save the current page at 1280 px and at 360 px wide."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def _shoot(name: str) -> None:
        for width, height in ((1280, 900), (360, 780)):
            browser.set_window_size(width, height)
            browser.save_screenshot(str(SHOTS / f"{name}-{width}.png"))
        browser.set_window_size(1280, 900)

    return _shoot


@pytest.fixture
def seeded(app, db):
    """The `make run` demo data: staff accounts, the demo resident's code, 200 volunteers, groups, patrols."""
    demo.seed()
    db.session.commit()
