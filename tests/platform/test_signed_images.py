"""Images `<image src>` can load: each image route answers a short-lived signed URL its JSON route hands out."""
import io
from datetime import datetime
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import zxingcpp
from PIL import Image

from app.health_codes import service as hc_service
from tests import factories
from tests.auth_flows import envelope


def _decode(r) -> str:
    assert r.status_code == 200 and r.mimetype == "image/png", (r.status_code, r.mimetype, r.data[:300])
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(r.data)))
    return found.text


def _altered(url: str, **changes) -> str:
    parts = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return f"{parts.path}?{urlencode({**query, **changes})}"


@pytest.fixture
def own_code(client, login):
    user, headers = login("resident")
    return user, headers, factories.health_code(owner=user)


def test_health_code_image_url_works_without_a_header_and_dies_with_its_token(client, clock, own_code, login):
    _, headers, code = own_code
    body = client.get(f"/api/v1/health-codes/{code.id}/token", headers=headers).get_json()
    url = body["qr_url"]
    exp = int(parse_qs(urlparse(url).query)["exp"][0])
    assert exp <= datetime.fromisoformat(body["expires_at"]).timestamp()  # never outlives the token it came with
    token = _decode(client.get(url))  # no Authorization header, as <image src> sends
    assert hc_service.check(token=token).colour == "green"
    envelope(client.get(f"/api/v1/health-codes/{code.id}/qr.png"), 401, "token_missing")
    envelope(client.get(_altered(url, sig="A" * 22)), 403, "image_url_invalid")
    envelope(client.get(_altered(url, exp=exp + 3600)), 403, "image_url_invalid")
    other, _ = login("resident")
    envelope(client.get(_altered(url, uid=str(other.id))), 403, "image_url_invalid")
    envelope(client.get(url.replace(str(code.id), "987654321")), 403, "image_url_invalid")
    clock.advance(seconds=121)
    envelope(client.get(url), 403, "image_url_expired")


def test_withdrawn_code_image_is_gone_even_with_a_live_url(app, client, own_code):
    _, headers, code = own_code
    url = client.get(f"/api/v1/health-codes/{code.id}/token", headers=headers).get_json()["qr_url"]
    assert client.delete(f"/api/v1/health-codes/{code.id}", headers=headers).status_code == 204
    with app.app_context():  # a request of its own, as in production (the test's context keeps `g` across requests)
        assert client.get(url).status_code == 404


def test_poster_url_lasts_longer_and_is_signed(client, clock, login):
    owner, headers = login("resident")
    venue = factories.venue(owner=owner)
    forms = client.get(f"/api/v1/venues/{venue.id}/code", headers=headers).get_json()
    assert _decode(client.get(forms["poster_url"])) == forms["link"]
    envelope(client.get(_altered(forms["poster_url"], sig="x")), 403, "image_url_invalid")
    clock.advance(minutes=59)
    assert client.get(forms["poster_url"]).status_code == 200
    clock.advance(minutes=2)
    envelope(client.get(forms["poster_url"]), 403, "image_url_expired")

