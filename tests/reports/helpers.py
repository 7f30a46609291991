"""Shared helpers of the report tests: the frozen time, real areas, filing and moving reports through the API."""
import io
import itertools
from datetime import datetime, timezone

from PIL import Image

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 in Guangzhou
GRID = "44010600100101"  # 五山华林社区第1网格
COMMUNITY, STREET, DISTRICT = GRID[:12], GRID[:9], GRID[:6]
OTHER_COMMUNITY_GRID = "44010600100201"  # 五山荷塘社区, same street
FAR_GRID = "44011100200101"  # 白云区
HERE = {"lat": 23.1291, "lng": 113.3437}
_keys = itertools.count(1)


def key() -> str:
    """A fresh client key."""
    return f"client-key-{next(_keys):06d}"


def body(**overrides) -> dict:
    """A report body: a fire hazard in the test grid, here."""
    return {"client_key": key(), "category": "fire_hazard", "text": "楼道消防通道被杂物堵塞", "grid": GRID, **HERE,
            **overrides}


def file(client, headers, **overrides) -> dict:
    """File a report through the API (201) and return its body."""
    response = client.post("/api/v1/reports", json=body(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def act(client, headers, report_id: str, action: str, status: int = 200, **extra) -> dict:
    """Take an action on a report through the API, expecting status."""
    response = client.post(f"/api/v1/reports/{report_id}/transitions", json={"action": action, **extra},
                           headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def jpeg_with_gps(size=(64, 48)) -> bytes:
    """A JPEG carrying EXIF with a GPS position and a camera model."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x0110] = "FancyPhone 12"  # Model
    gps = {1: "N", 2: (23.0, 7.0, 44.0), 3: "E", 4: (113.0, 20.0, 37.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()
