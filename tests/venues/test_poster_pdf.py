"""The print-ready poster: one A4 page whose image carries the same 场所码 as the PNG poster."""

import io

import pytest
import zxingcpp
from PIL import Image, PdfParser

from tests.auth_flows import envelope
from tests.venues.test_venues import owner, venue  # noqa: F401 — fixtures

A4_POINTS = (595.28, 841.89)


def _url(venue_id) -> str:
    return f"/api/v1/venues/{venue_id}/poster.pdf"


def _pages(data: bytes) -> list:
    return PdfParser.PdfParser(buf=data).pages


def _page_image(data: bytes) -> Image.Image:
    """The one image the page draws (a JPEG stream), decoded."""
    pdf = PdfParser.PdfParser(buf=data)
    page = pdf.read_indirect(pdf.pages[0])
    [ref] = page[b"Resources"][b"XObject"].values()
    return Image.open(io.BytesIO(pdf.read_indirect(ref).buf))


def test_owner_downloads_one_a4_page_with_the_venue_code(client, owner, venue):
    r = client.get(_url(venue["id"]), headers=owner[1])
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.data.startswith(b"%PDF-") and len(_pages(r.data)) == 1
    assert r.headers["Content-Disposition"] == f'attachment; filename="poster-{venue["id"]}-v1.pdf"'
    pdf = PdfParser.PdfParser(buf=r.data)
    box = pdf.read_indirect(pdf.pages[0])[b"MediaBox"]
    assert [round(v, 1) for v in box[2:]] == [pytest.approx(a, abs=1) for a in A4_POINTS]
    png = client.get(f"/api/v1/venues/{venue['id']}/poster.png", headers=owner[1])
    [in_png] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    [in_pdf] = zxingcpp.read_barcodes(_page_image(r.data))
    assert in_pdf.text == in_png.text


def test_area_staff_may_download_others_are_refused(client, venue, login):
    for role, area in (("organiser", "440106"), ("health_official", "4401"), ("admin", "4401")):
        r = client.get(_url(venue["id"]), headers=login(role, area)[1])
        assert r.status_code == 200 and r.data.startswith(b"%PDF-"), role
    envelope(
        client.get(_url(venue["id"]), headers=login("organiser", "440103")[1]),
        403,
        "venue_forbidden",
    )
    envelope(client.get(_url(venue["id"]), headers=login("resident")[1]), 403, "venue_forbidden")
    envelope(
        client.get(_url(venue["id"]), headers=login("venue_staff", "440106")[1]),
        403,
        "venue_forbidden",
    )
    envelope(client.get(_url(venue["id"])), 401, "token_missing")


def test_unknown_venue_and_bad_ids_get_the_envelope(client, owner, venue):
    envelope(client.get(_url(987654321), headers=owner[1]), 404, "venue_not_found")
    envelope(client.get(_url("abc"), headers=owner[1]), 404, "not_found")
