"""Posters WeChat opens: the short id as a 小程序码's scene or a link, check-in with it, rotation, /v/{id}."""
import io

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from app.venues import poster
from app.venues.models import Scan
from tests.auth_flows import envelope
from tests.venues.test_scans import holder, place  # noqa: F401 — fixtures
from tests.wechat_fake import real_wechat_api, wechat_api_server  # noqa: F401 — fixtures


def _poster_text(client, place) -> str:
    r = client.get(f"/api/v1/venues/{place['venue']['id']}/poster.png", headers=place["owner"][1])
    assert r.status_code == 200 and r.mimetype == "image/png", r.get_data(as_text=True)
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(r.data)))
    return decoded.text


def _forms(client, place) -> dict:
    return client.get(f"/api/v1/venues/{place['venue']['id']}/code", headers=place["owner"][1]).get_json()


def _scan_count(db) -> int:
    return db.session.execute(select(func.count()).select_from(Scan)).scalar()


def test_poster_link_opens_outside_wechat_and_its_id_checks_in(client, db, app, place, holder):
    forms = _forms(client, place)
    short, link = forms["short_id"], forms["link"]
    assert len(short) <= 32 and short.startswith("V") and link == app.config["VENUE_LINK_BASE"] + short
    assert _poster_text(client, place) == link  # WeChat not configured: the poster's QR is the link
    page = client.get(f"/v/{short}")
    assert page.status_code == 200 and page.mimetype == "text/html" and "请在微信中打开" in page.get_data(as_text=True)
    body = {"venue_code": short, "health_code_id": holder["code"]["id"]}
    r = client.post("/api/v1/checkins", json=body, headers=holder["headers"])
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["venue"]["id"] == place["venue"]["id"] and _scan_count(db) == 1


def test_link_and_old_long_code_check_in_until_rotated(client, db, place, holder):
    forms = _forms(client, place)
    code_id = holder["code"]["id"]
    for form in (forms["link"], forms["venue_code"]):  # the link itself, and a poster printed before short ids
        r = client.post("/api/v1/checkins", json={"venue_code": form, "health_code_id": code_id},
                        headers=holder["headers"])
        assert r.status_code in (200, 201), r.get_json()
    rotated = client.post(f"/api/v1/venues/{place['venue']['id']}/code/rotate", headers=place["owner"][1]).get_json()
    assert rotated["short_id"] != forms["short_id"]
    before = _scan_count(db)
    for form in (forms["short_id"], forms["link"], forms["venue_code"]):
        envelope(client.post("/api/v1/checkins", json={"venue_code": form, "health_code_id": code_id},
                             headers=holder["headers"]), 422, "venue_code_outdated")
    assert _scan_count(db) == before


def test_forged_short_ids_are_refused(client, db, place, holder):
    short = _forms(client, place)["short_id"]
    forged = short[:-2] + ("AA" if short[-2:] != "AA" else "BB")
    for bad in (forged, "V" + "A" * 30, short + "x"):
        envelope(client.post("/api/v1/checkins", json={"venue_code": bad, "health_code_id": holder["code"]["id"]},
                             headers=holder["headers"]), 422, "venue_code_invalid")
        envelope(client.get(f"/v/{bad}"), 404, "venue_code_invalid")
    assert _scan_count(db) == 0


def test_wechat_domain_verification_file(client, app, monkeypatch):
    envelope(client.get("/v/Kx81dZ2AbC.txt"), 404, "venue_code_invalid")
    monkeypatch.setitem(app.config, "WECHAT_LINK_VERIFY_FILE", "Kx81dZ2AbC.txt")
    monkeypatch.setitem(app.config, "WECHAT_LINK_VERIFY_CONTENT", "d41d8cd98f00b204e9800998ecf8427e")
    r = client.get("/v/Kx81dZ2AbC.txt")
    assert r.status_code == 200 and r.mimetype == "text/plain" and r.data == b"d41d8cd98f00b204e9800998ecf8427e"


def test_poster_prints_the_miniprogram_code_when_wechat_is_configured(client, db, app, place, holder,
                                                                      real_wechat_api):
    short = _forms(client, place)["short_id"]
    assert _poster_text(client, place) == f"pages/checkin/index?scene={short}"
    assert _poster_text(client, place) == f"pages/checkin/index?scene={short}"
    paths = [path for path, _, _ in real_wechat_api.calls]
    assert paths == ["/cgi-bin/stable_token", "/wxa/getwxacodeunlimit"]  # the poster is drawn once
    poster._drawn.cache_clear()
    assert _poster_text(client, place) == f"pages/checkin/index?scene={short}"
    paths = [path for path, _, _ in real_wechat_api.calls]
    assert paths == ["/cgi-bin/stable_token", "/wxa/getwxacodeunlimit", "/wxa/getwxacodeunlimit"]  # token cached
    _, query, body = real_wechat_api.calls[1]
    assert query == {"access_token": real_wechat_api.token}
    assert body["scene"] == short and body["page"] == "pages/checkin/index" and body["env_version"] == "release"
    # the scene the mini-program receives checks in
    r = client.post("/api/v1/checkins", json={"venue_code": short, "health_code_id": holder["code"]["id"]},
                    headers=holder["headers"])
    assert r.status_code == 201 and _scan_count(db) == 1


def test_expired_access_token_is_refreshed_once(client, place, real_wechat_api):
    real_wechat_api.token = "ACCESS-old"
    real_wechat_api.script["/wxa/getwxacodeunlimit"] = [(200, {"errcode": 42001, "errmsg": "access_token expired"})]
    app_token = client.application.extensions.setdefault("wechat_token", {})
    app_token.update(token="ACCESS-old", until=1e12)
    assert _poster_text(client, place).startswith("pages/checkin/index?scene=V")
    paths = [(path, body.get("force_refresh")) for path, _, body in real_wechat_api.calls]
    assert paths == [("/wxa/getwxacodeunlimit", None), ("/cgi-bin/stable_token", True),
                     ("/wxa/getwxacodeunlimit", None)]


@pytest.mark.parametrize("reply, status, error", [
    ((200, {"errcode": 41030, "errmsg": "invalid page"}), 503, "wechat_page_missing"),
    ((200, {"errcode": 45009, "errmsg": "reach max api daily quota limit"}), 429, "wechat_rate_limited"),
    ((200, {"errcode": -1, "errmsg": "system error"}), 503, "wechat_busy"),
    ((200, {"errcode": 99999, "errmsg": "new"}), 503, "wechat_error"),
    ((502, {"errcode": -1}), 503, "wechat_unavailable"),
])
def test_miniprogram_code_errors_are_the_envelope(client, place, real_wechat_api, reply, status, error):
    real_wechat_api.script["/wxa/getwxacodeunlimit"] = [reply]
    r = client.get(f"/api/v1/venues/{place['venue']['id']}/poster.png", headers=place["owner"][1])
    envelope(r, status, error)


def test_wrong_app_secret_is_503_and_not_logged(client, app, place, real_wechat_api, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "WECHAT_SECRET", "wrong-secret-value")
    r = client.get(f"/api/v1/venues/{place['venue']['id']}/poster.png", headers=place["owner"][1])
    envelope(r, 503, "wechat_misconfigured")
    assert "wrong-secret-value" not in caplog.text
