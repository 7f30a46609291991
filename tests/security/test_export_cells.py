"""Exports that are safe to open in Excel: no cell runs as a formula, ids keep every digit; the XLSX export has the
CSV's rows, scope and access rules."""
import csv
import io

import openpyxl
import pytest

from app.extensions import db as _db
from app.volunteers.models import Interest, Trade
from tests.volunteer_helpers import GRID_A1, GRID_OTHER_STREET, WUSHAN, YUANCUN, register

EVIL_TRADE = '=HYPERLINK("http://x.cn","点我")'  # names hold at most 32 characters
EVIL_INTEREST = "@SUM(1+1)*cmd|' /C calc'!A0"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def hostile(client, login):
    """Two volunteers in 五山 with a trade and an interest named like formulas (as older data may hold)."""
    _db.session.add_all([Trade(id=90, code="evil", name=EVIL_TRADE), Interest(id=60, code="evil", name=EVIL_INTEREST)])
    _db.session.commit()
    people = [register(client, login, grid=GRID_A1, trade="evil", interests=["evil"]),
              register(client, login, grid=GRID_OTHER_STREET, trade="it", interests=[])]
    return [body["id"] for _, _, body in people]


def test_csv_cells_never_start_a_formula_and_ids_keep_every_digit(client, login, hostile):
    r = client.get("/api/v1/volunteers/export.csv", headers=login("organiser", WUSHAN)[1])
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 2
    row = rows[1]
    assert row[0] == f'="{hostile[0]}"' and len(hostile[0]) >= 18
    assert row[8] == "'" + EVIL_TRADE and row[9] == "'" + EVIL_INTEREST
    assert [cell for cell in row[1:] if cell[:1] in ("=", "+", "-", "@", "\t", "\r")] == []


def test_xlsx_export_has_text_cells_read_back(client, login, hostile):
    r = client.get("/api/v1/volunteers/export.xlsx", headers=login("organiser", WUSHAN)[1])
    assert r.status_code == 200 and r.mimetype == XLSX and r.headers["Cache-Control"] == "no-store"
    assert f'filename=volunteers-{WUSHAN}.xlsx' in r.headers["Content-Disposition"].replace('"', "")
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]][:3] == ["志愿者编号", "姓名", "手机号"] and len(rows) == 2
    cells = rows[1]
    assert all(c.data_type == "s" for c in cells)
    assert cells[0].value == hostile[0] and cells[0].number_format == "@"
    assert cells[8].value == EVIL_TRADE and cells[9].value == EVIL_INTEREST
    assert cells[1].value.startswith("陈*") and cells[2].value[3:7] == "****" and cells[7].value == GRID_A1


def test_xlsx_export_keeps_the_csv_scope_and_access(app, client, login, hostile, monkeypatch):
    wushan = login("organiser", WUSHAN)[1]
    r = client.get(f"/api/v1/volunteers/export.xlsx?area={YUANCUN}", headers=wushan)
    assert r.status_code == 403 and r.get_json()["error"] == "area_forbidden"
    for role in ("resident", "volunteer", "venue_staff", "health_official"):
        assert client.get("/api/v1/volunteers/export.xlsx", headers=login(role)[1]).status_code == 403
    assert client.get("/api/v1/volunteers/export.xlsx?area=440199", headers=login("admin")[1]).status_code == 404
    r = client.get("/api/v1/volunteers/export.xlsx?area=4401", headers=login("admin")[1])
    assert len(list(openpyxl.load_workbook(io.BytesIO(r.data)).active.iter_rows())) == 3
    monkeypatch.setitem(app.config, "VOLUNTEER_EXPORT_XLSX_MAX_ROWS", 1)
    r = client.get("/api/v1/volunteers/export.xlsx?area=4401", headers=login("admin")[1])
    assert r.status_code == 422 and r.get_json()["error"] == "export_too_large"
