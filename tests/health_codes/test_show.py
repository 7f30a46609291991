"""亮码: the token route, the public keys a scanner verifies with offline, and the QR image a real decoder reads."""
import io
from datetime import timedelta

import pytest
import zxingcpp
from PIL import Image

from app import qr
from app.health_codes import service, tokens
from tests.health_codes.conftest import URL


@pytest.fixture
def code(clock, resident, apply_code):
    return apply_code(resident[1])


def test_token_is_short_lived_and_not_cached(client, clock, resident, code):
    r = client.get(f"{URL}/{code['id']}/token", headers=resident[1])
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    body = r.get_json()
    assert body["colour"] == "green" and body["refresh_in"] == 60
    assert body["issued_at"] == "2026-03-02T02:00:00+00:00" and body["expires_at"] == "2026-03-02T02:02:00+00:00"
    assert len(body["token"]) <= 122 and qr.version(body["token"]) <= 7
    for secret in ("张三明", "13812341234", "440106", "4401061990"):
        assert secret not in body["token"]


def test_scanner_verifies_offline_with_published_keys(client, clock, resident, code):
    token = client.get(f"{URL}/{code['id']}/token", headers=resident[1]).get_json()["token"]
    r = client.get(f"{URL}/keys")
    assert r.status_code == 200 and "max-age" in r.headers["Cache-Control"]
    jwks = r.get_json()
    assert jwks["keys"][0] | {"x": None} == {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
                                              "kid": "dev1", "x": None}
    claims = tokens.verify(token, tokens.keys_from_jwks(jwks), clock.now + timedelta(seconds=30))
    assert claims.colour == "green" and len(claims.ref) == 8 and claims.kid == "dev1"


def _decode(png: bytes) -> tuple[str, tuple]:
    image = Image.open(io.BytesIO(png))
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1 and results[0].format == zxingcpp.BarcodeFormat.QRCode
    return results[0].text, image.convert("RGB").getpixel((4 * qr.SCALE, 4 * qr.SCALE))  # a finder module


@pytest.mark.parametrize("colour", ["green", "yellow", "red"])
def test_png_decodes_to_the_exact_token_in_the_codes_colour(client, db, clock, login, resident, code, colour):
    if colour != "green":
        service.official_set_colour(code_id=int(code["id"]), colour=colour, reason="测试", official_id=login(
            "health_official")[0].id)
    token = client.get(f"{URL}/{code['id']}/token", headers=resident[1]).get_json()["token"]
    r = client.get(f"{URL}/{code['id']}/qr.png", headers=resident[1])
    assert r.status_code == 200 and r.mimetype == "image/png" and r.headers["Cache-Control"] == "no-store"
    text, pixel = _decode(r.data)
    assert text == token  # same clock, same key: Ed25519 signs deterministically
    assert pixel == qr.COLOURS[colour]


def test_svg(client, resident, code):
    r = client.get(f"{URL}/{code['id']}/qr.png?format=svg", headers=resident[1])
    assert r.status_code == 200 and r.mimetype == "image/svg+xml" and r.headers["Cache-Control"] == "no-store"
    assert r.data.startswith(b"<svg") and b'fill="#009650"' in r.data and r.data.count(b"<path") == 1


def test_bad_format_is_422(client, resident, code):
    r = client.get(f"{URL}/{code['id']}/qr.png?format=gif", headers=resident[1])
    assert r.status_code == 422 and "format" in r.get_json()["errors"]["query"]


def test_qr_render_is_deterministic_and_sized():
    token = "A" * 50 + "b" * 68
    png = qr.render(token, "red")
    assert png == qr.render(token, "red") and qr.render(token, "red", "svg").startswith(b"<svg")
    size = (len(qr.matrix(token))) * qr.SCALE
    assert Image.open(io.BytesIO(png)).size == (size, size)



def test_token_issue_reads_three_rows_and_writes_nothing(client, resident, code, statements):
    with statements() as seen:
        assert client.get(f"{URL}/{code['id']}/token", headers=resident[1]).status_code == 200
    assert len(seen) <= 3 and all(s.lstrip().upper().startswith("SELECT") for s in seen), seen


def test_bad_token_lifetime_or_keys_refuse_to_start(app):
    from app.health_codes.routes import check_config

    for change, words in (({"HEALTH_CODE_TOKEN_TTL_SECONDS": 300}, "TTL_SECONDS"),
                          ({"HEALTH_CODE_RETIRED_KEY_IDS": "dev1"}, "retired")):
        with pytest.raises(RuntimeError, match=words):
            check_config({**app.config, **change})
