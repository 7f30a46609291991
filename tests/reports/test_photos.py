"""Photos: re-encoded without EXIF or GPS (the stored bytes are read back), one row per content, size-limited,
served through expiring signed links, at most three to a report."""
import io

from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.reports.models import Photo, ReportPhoto
from tests.reports.helpers import act, file, jpeg_with_gps


def _upload(client, headers, data: bytes, name="p.jpg"):
    return client.post("/api/v1/report-photos", data={"photo": (io.BytesIO(data), name)}, headers=headers,
                       content_type="multipart/form-data")


def test_gps_and_exif_are_stripped_from_the_stored_bytes(client, volunteer):
    _, headers = volunteer()
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the upload does carry a position
    response = _upload(client, headers, original)
    assert response.status_code == 201
    photo = db.session.get(Photo, int(response.get_json()["id"]))
    stored = Image.open(io.BytesIO(photo.data))
    assert stored.format == "JPEG" and not stored.getexif() and "exif" not in stored.info
    assert b"FancyPhone" not in photo.data and b"GPS" not in photo.data
    assert len(photo.sha256) == 64 and (photo.width, photo.height) == (64, 48)


def test_same_picture_is_stored_once_and_linked_to_the_report(client, volunteer):
    _, headers = volunteer()
    first = _upload(client, headers, jpeg_with_gps()).get_json()
    second = _upload(client, headers, jpeg_with_gps()).get_json()
    assert first["id"] == second["id"]
    report = file(client, headers, photos=[first["id"]])
    assert len(report["photos"]) == 1
    assert db.session.execute(select(func.count()).select_from(Photo)).scalar() == 1
    assert db.session.execute(select(ReportPhoto.stage)).scalars().all() == ["report"]


def test_signed_link_serves_the_photo_until_it_expires(client, clock, volunteer):
    _, headers = volunteer()
    link = file(client, headers, photos=[_upload(client, headers, jpeg_with_gps()).get_json()["id"]])["photos"][0]
    served = client.get(link)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(served.data)).size == (64, 48)
    forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert client.get(forged).status_code == 404
    clock.advance(hours=2)
    expired = client.get(link)
    assert expired.status_code == 410 and expired.get_json()["error"] == "photo_link_expired"


def test_bad_uploads_are_refused(client, app, volunteer):
    _, headers = volunteer()
    assert _upload(client, headers, b"not an image").get_json()["error"] == "photo_invalid"
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    assert _upload(client, headers, gif.getvalue()).get_json()["error"] == "photo_invalid"
    big = app.config["REPORT_PHOTO_MAX_BYTES"] + 1
    assert _upload(client, headers, b"\xff" * big).get_json()["error"] == "photo_too_large"
    missing = client.post("/api/v1/report-photos", data={}, headers=headers, content_type="multipart/form-data")
    assert missing.status_code == 422 and missing.get_json()["error"] == "photo_required"
    assert db.session.execute(select(func.count()).select_from(Photo)).scalar() == 0


def test_someone_elses_photo_cannot_be_attached(client, volunteer):
    _, owner = volunteer()
    _, other = volunteer()
    photo = _upload(client, owner, jpeg_with_gps()).get_json()["id"]
    response = client.post("/api/v1/reports", json={"client_key": "k-00000001", "category": "sanitation",
                                                    "text": "垃圾", "photos": [photo]}, headers=other)
    assert response.status_code == 422 and response.get_json()["error"] == "photo_not_found"


def test_resolution_photos(client, volunteer, community, street, fire):
    _, headers = volunteer()
    rid = file(client, headers)["id"]
    act(client, community[1], rid, "accept")
    act(client, street[1], rid, "dispatch")
    act(client, fire[1], rid, "start")
    photo = _upload(client, fire[1], jpeg_with_gps(size=(30, 20))).get_json()["id"]
    resolved = act(client, fire[1], rid, "resolve", reason="已清理", photos=[photo])
    assert len(resolved["resolution_photos"]) == 1 and resolved["photos"] == []
