"""Log lines cannot be forged, every response says nosniff, personal answers are never cached, the docs page can be
switched off, and a 422 stays short however many unknown fields a body holds."""
import io
import json
import logging
import os
import subprocess
import sys

from sqlalchemy import select

from app.common.headers import PUBLIC_CACHEABLE
from app.common.log_safety import escape
from app.venues.models import Venue

VENUE = {"name": "天河城购物中心", "category": "商场", "address": "天河路208号", "area": "440106001001",
         "lat": 23.1375, "lng": 113.3235}


def _written(client, path, **kwargs) -> str:
    """What the request log writes for one request, through a real formatter and stream."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("jiefang.request")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)  # setLevel, not .level: it also clears the logger's enabled-for cache
    try:
        client.get(path, **kwargs)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    return stream.getvalue()


def test_a_newline_in_the_path_cannot_forge_a_log_line(client):
    text = _written(client, "/api/v1/areas/x%0AINFO%20jiefang.request%20rid=forged%20status=200%0D%1B[31m")
    assert text.count("\n") == 1, text  # one request, one line
    assert "\\x0aINFO jiefang.request rid=forged" in text and "\\x0d\\x1b[31m" in text
    assert "\x1b" not in text and "\r" not in text


def test_every_logged_value_is_escaped_whatever_the_logger(caplog):
    with caplog.at_level(logging.INFO, logger="anything.else"):
        logging.getLogger("anything.else").info("user said %s and %r", "a\nb\\n", ValueError("x\u2028y"))
        logging.getLogger("anything.else").info("%(who)s", {"who": "\x00evil"})
    assert [r.getMessage() for r in caplog.records] == ["user said a\\x0ab\\\\n and 'x\\\\u2028y'", "\\x00evil"]
    assert escape("行\t2") == "行\\x092"


def test_nosniff_everywhere_and_no_store_on_personal_answers(client, login):
    user, headers = login("resident")
    for response in (client.get("/api/v1/me", headers=headers), client.get("/api/v1/me"),
                     client.get("/api/v1/nowhere"), client.post("/api/v1/venues", json={}, headers=headers)):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store", response.status
    public = client.get("/api/v1/areas")
    assert public.status_code == 200 and "Cache-Control" not in public.headers
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    keys = client.get("/api/v1/health-codes/keys")
    assert keys.headers["Cache-Control"] == "public, max-age=300"
    assert client.get("/no-such-page").headers["X-Content-Type-Options"] == "nosniff"
    assert {"areas.list_areas", "volunteers.list_trades"} <= PUBLIC_CACHEABLE


def test_docs_page_is_switched_off_by_config(client):
    assert client.get("/api/v1/docs").status_code == 200
    code = ("from app import create_app; from config import TestingConfig; "
            "print(sorted(r.rule for r in create_app(TestingConfig).url_map.iter_rules()))")
    env = {**os.environ, "API_DOCS_UI": "off", "TEST_DATABASE_URL": "sqlite:///:memory:"}
    routes = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__)))).stdout
    assert "/api/v1/openapi.json" in routes and "/api/v1/docs" not in routes


def test_a_422_lists_at_most_twenty_unknown_fields(client, login, db):
    _, headers = login("resident")
    body = {**VENUE, **{f"field_{n:05d}_" + "x" * 200: n for n in range(3000)}}  # 0.6 MB
    r = client.post("/api/v1/venues", data=json.dumps(body), content_type="application/json", headers=headers)
    assert r.status_code == 422 and r.get_json()["error"] == "validation_failed"
    listed = r.get_json()["errors"]["json"]
    assert len(listed) == 20 and all(len(name) <= 64 for name in listed)
    assert len(r.data) < 4000
    assert db.session.execute(select(Venue)).first() is None
