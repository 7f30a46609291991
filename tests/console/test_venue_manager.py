"""The venue manager's console in a real browser: my venues, visits per hour drawn, the poster as
PNG and as an A4 PDF, staff invited by phone (a member only once they accept) and removed; other
roles' pages refused. Also the area staff's venues page with the same poster downloads."""

import io
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image, PdfParser
from selenium.webdriver.common.by import By
from sqlalchemy import select

from app.auth.models import User
from app.invitations.models import Invitation
from app.venues.models import Scan, VenueStaff
from tests import factories
from tests.console.conftest import SHOTS
from tests.console.helpers import bars, enrolled_code, nav, refused, sign_in, texts, wait
from tests.venues.test_venues import VENUE

DAY = "2026-03-04"
AT_TEN = datetime(2026, 3, 4, 2, 0, tzinfo=timezone.utc)  # 10:00 in Guangzhou
INVITEE = "13912345678"


@pytest.fixture
def manager_venue(client, db, seeded):
    """A venue the demo `venue_staff` account registered (so it is its admin), with three visits
    at 10:00 and one at 14:00 on DAY."""
    owner = db.session.execute(select(User).where(User.username == "venue_staff")).scalar_one()
    r = client.post("/api/v1/venues", json=VENUE, headers=factories.auth_headers(owner))
    assert r.status_code == 201, r.get_json()
    venue = r.get_json()
    for minutes in (0, 10, 20, 240):
        db.session.add(
            Scan(
                scanned_at=AT_TEN + timedelta(minutes=minutes),
                venue_id=int(venue["id"]),
                health_code_id=1000 + minutes,
                kind="checkin",
                colour="green",
                passed=True,
            )
        )
    db.session.commit()
    return venue


def _show_day(browser, day):
    field = browser.find_element(By.ID, "visit-date")
    browser.execute_script(
        "arguments[0].value = arguments[1];arguments[0].dispatchEvent(new Event('change'))",
        field,
        day,
    )


def _download(browser, folder, link_id, name) -> bytes:
    """Click a download link as a person would; the file Chromium saves in folder."""
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)}
    )
    browser.find_element(By.ID, link_id).click()
    wait(browser, lambda b: (folder / name).exists() and (folder / name).stat().st_size > 0)
    return (folder / name).read_bytes()


def shoot_section(browser, section, name) -> None:
    """Like `shoot`, with one section scrolled into view (below the fold on either width)."""
    for width, height in ((1280, 900), (360, 780)):
        browser.set_window_size(width, height)
        browser.execute_script("document.getElementById(arguments[0]).scrollIntoView()", section)
        browser.save_screenshot(str(SHOTS / f"{name}-{width}.png"))
    browser.set_window_size(1280, 900)


def _one_page_pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-") and len(PdfParser.PdfParser(buf=data).pages) == 1


def test_manager_sees_visits_downloads_posters_and_invites_then_removes_staff(
    client, db, live_server, browser, shoot, manager_venue, tmp_path
):
    invitee = factories.user(phone_number=INVITEE)
    sign_in(browser, live_server, "venue_staff")
    assert nav(browser) == ["工作台", "我的场所"]
    browser.get(f"{live_server}/console/my-venues")
    wait(
        browser, lambda b: b.find_element(By.ID, "venue").is_displayed()
    )  # the one venue opens by itself
    assert texts(browser, "#my-venues li .pill") == ["管理员"]
    assert browser.find_element(By.ID, "venue-title").text == VENUE["name"]
    _show_day(browser, DAY)
    wait(browser, lambda b: ("10时", "3 人次") in bars(b, "hours"))
    assert ("14时", "1 人次") in bars(browser, "hours") and browser.find_element(
        By.ID, "visit-total"
    ).text == "4"
    wait(
        browser,
        lambda b: b.execute_script("return document.getElementById('poster').naturalWidth") > 0,
    )
    png = _download(browser, tmp_path, "poster-png", f"poster-{manager_venue['id']}.png")
    assert png.startswith(b"\x89PNG") and Image.open(io.BytesIO(png)).size == (1240, 1754)
    assert _one_page_pdf(
        _download(browser, tmp_path, "poster-pdf", f"poster-{manager_venue['id']}.pdf")
    )
    assert browser.find_element(By.ID, "notice").text == ""

    # invite by phone: nothing is granted until the invitee accepts
    browser.find_element(By.CSS_SELECTOR, "#invite input[name=phone]").send_keys(INVITEE)
    browser.find_element(By.CSS_SELECTOR, "#invite button").click()
    wait(
        browser,
        lambda b: b.find_element(By.ID, "notice").text.startswith(f"已向 {INVITEE} 发出邀请"),
    )
    invitation = db.session.execute(
        select(Invitation).where(Invitation.invitee_id == invitee.id)
    ).scalar_one()
    assert (invitation.kind, invitation.status, invitation.target_id) == (
        "venue_staff",
        "pending",
        int(manager_venue["id"]),
    )
    assert (
        db.session.execute(select(VenueStaff).where(VenueStaff.user_id == invitee.id)).first()
        is None
    )
    assert texts(browser, "#staff tr td:nth-child(2)") == ["管理员"]
    r = client.post(
        f"/api/v1/me/invitations/{invitation.id}/accept", headers=factories.auth_headers(invitee)
    )
    assert r.status_code == 200, r.get_json()

    browser.refresh()
    wait(browser, lambda b: texts(b, "#staff tr td:nth-child(2)") == ["管理员", "检测员"])
    _show_day(browser, DAY)
    wait(
        browser,
        lambda b: (
            bars(b, "hours")
            == [
                ("10时", "3 人次"),
                ("11时", "0 人次"),
                ("12时", "0 人次"),
                ("13时", "0 人次"),
                ("14时", "1 人次"),
            ]
        ),
    )
    assert texts(browser, "#staff tr td:first-child")[1] == "139****5678"
    shoot("venue-manager")
    shoot_section(browser, "staff-card", "venue-manager-staff")
    browser.find_element(By.CSS_SELECTOR, f"#staff tr[data-user='{invitee.id}'] button").click()
    browser.switch_to.alert.accept()
    wait(browser, lambda b: texts(b, "#staff tr td:nth-child(2)") == ["管理员"])
    assert browser.find_element(By.ID, "notice").text == "已移除检测员 139****5678"
    db.session.expire_all()
    assert (
        db.session.execute(select(VenueStaff).where(VenueStaff.user_id == invitee.id)).first()
        is None
    )

    for page in ("health", "venues"):  # the officials' and the area staff's pages
        browser.get(f"{live_server}/console/{page}")
        assert refused(browser).startswith("无权访问")


def test_an_inspector_sees_visits_and_poster_but_not_the_staff(
    client, db, live_server, browser, manager_venue
):
    owner = db.session.execute(select(User).where(User.username == "venue_staff")).scalar_one()
    other = factories.user(
        username="inspector_li", password="inspector-pass-2026", phone_number=INVITEE
    )
    client.post(
        f"/api/v1/venues/{manager_venue['id']}/staff",
        json={"phone": INVITEE},
        headers=factories.auth_headers(owner),
    )
    invitation = db.session.execute(
        select(Invitation).where(Invitation.invitee_id == other.id)
    ).scalar_one()
    assert (
        client.post(
            f"/api/v1/me/invitations/{invitation.id}/accept", headers=factories.auth_headers(other)
        ).status_code
        == 200
    )
    browser.get(f"{live_server}/console/login")
    browser.find_element(By.NAME, "username").send_keys("inspector_li")
    browser.find_element(By.NAME, "password").send_keys("inspector-pass-2026")
    browser.find_element(By.CSS_SELECTOR, "form#login button").click()
    wait(browser, lambda b: b.current_url == f"{live_server}/console/")
    assert nav(browser) == ["工作台", "我的场所"]
    browser.get(f"{live_server}/console/my-venues")
    wait(browser, lambda b: b.find_element(By.ID, "venue").is_displayed())
    assert texts(browser, "#my-venues li .pill") == ["检测员"]
    _show_day(browser, DAY)
    wait(browser, lambda b: ("10时", "3 人次") in bars(b, "hours"))
    assert not browser.find_element(By.ID, "staff-card").is_displayed()


def test_admin_downloads_a_venue_poster_as_png_and_pdf(
    client, db, live_server, browser, shoot, seeded, tmp_path
):
    owner = factories.user(roles=[("resident", "4401")])
    assert (
        client.post("/api/v1/venues", json=VENUE, headers=factories.auth_headers(owner)).status_code
        == 201
    )
    sign_in(browser, live_server, "admin", enrolled_code(db, "admin"))
    browser.get(f"{live_server}/console/venues")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#venues button"))
    assert browser.find_element(By.CSS_SELECTOR, "#venues tr td").text == VENUE["name"]
    browser.find_element(By.CSS_SELECTOR, "#venues button").click()
    wait(
        browser,
        lambda b: (
            b.execute_script("return document.getElementById('poster').naturalWidth") > 0
            or b.find_element(By.ID, "notice").text
        ),
    )
    assert browser.find_element(By.ID, "notice").text == ""
    venue_id = browser.find_element(By.ID, "poster-pdf").get_attribute("data-venue")
    assert _one_page_pdf(_download(browser, tmp_path, "poster-pdf", f"poster-{venue_id}.pdf"))
    shoot("admin-venue")
