"""Uploaded volunteer files run as background jobs (never inside a web worker): queued at once, run by the worker
command (or a development thread), followed through their progress; zip bombs and oversized files are refused
before any row is written."""
import csv
import io
import time
import zipfile
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from app.auth.models import RoleGrant
from app.common.time import utcnow
from app.volunteers import import_jobs
from app.volunteers.models import ImportJob, Volunteer
from config import ProductionConfig
from tests.volunteers.test_import import BAD, GOOD, csv_bytes, xlsx_bytes

URL = "/api/v1/admin/volunteers/imports"


@pytest.fixture
def worker(app, monkeypatch):
    """Uploads are queued for the worker command, as in production."""
    monkeypatch.setitem(app.config, "VOLUNTEER_IMPORT_RUNNER", "worker")


def post(client, headers, content: bytes, name="volunteers.csv"):
    return client.post(URL, data={"file": (io.BytesIO(content), name)}, headers=headers,
                       content_type="multipart/form-data")


def volunteer_count(db) -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(Volunteer)).scalar()


def test_upload_is_queued_then_run_by_the_worker_command(app, client, db, admin, login, worker):
    r = post(client, admin[1], csv_bytes([GOOD[0], BAD[1][0], GOOD[1]]))
    assert r.status_code == 202, r.get_json()
    queued = r.get_json()
    assert (queued["state"], queued["rows_total"], queued["rows_done"]) == ("queued", None, 0)
    assert r.headers["Location"].endswith(f"{URL}/{queued['id']}") and volunteer_count(db) == 0
    assert client.get(f"{URL}/{queued['id']}", headers=admin[1]).get_json()["state"] == "queued"
    assert client.get(f"{URL}/{queued['id']}", headers=login("admin")[1]).status_code == 404  # not theirs

    result = app.test_cli_runner().invoke(args=["volunteers", "run-imports"])
    assert result.exit_code == 0 and "volunteer imports run: 1" in result.output

    done = client.get(f"{URL}/{queued['id']}", headers=admin[1]).get_json()
    assert (done["state"], done["rows_total"], done["rows_done"], done["inserted"], done["rejected"]) == (
        "done", 3, 3, 2, 1)
    assert done["rejected_rows"][0]["line"] == 3 and done["finished_at"] and done["error"] is None
    assert volunteer_count(db) == 2
    assert db.session.get(ImportJob, int(queued["id"])).content is None  # the file is not kept once read
    report = client.get(f"{URL}/{queued['id']}/rejected.csv", headers=admin[1])
    assert report.status_code == 200 and report.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["行号", "原因"] and rows[1][0] == "3" and "网格" in rows[1][1] and len(rows) == 2
    assert client.get(f"{URL}/{queued['id']}/rejected.csv", headers=login("admin")[1]).status_code == 404
    assert app.test_cli_runner().invoke(args=["volunteers", "run-imports"]).output.strip() == \
        "volunteer imports run: 0"


def test_the_development_thread_runs_the_job(app, client, db, admin, monkeypatch):
    monkeypatch.setitem(app.config, "VOLUNTEER_IMPORT_RUNNER", "thread")
    job = post(client, admin[1], xlsx_bytes(GOOD), "v.xlsx").get_json()
    deadline = time.monotonic() + 30
    while (state := client.get(f"{URL}/{job['id']}", headers=admin[1]).get_json())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, state
        time.sleep(0.05)
    assert (state["state"], state["inserted"], state["rows_total"]) == ("done", 3, 3) and volunteer_count(db) == 3


def _bomb(inflated: int) -> bytes:
    """A workbook-looking zip whose one member inflates to `inflated` bytes of zeros (a few hundred KB packed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(inflated >> 20):
                member.write(chunk)
    return out.getvalue()


def test_a_zip_bomb_is_refused_from_its_directory_before_parsing(client, db, admin, monkeypatch):
    bomb = _bomb(200 << 20)
    assert len(bomb) < 400_000
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("the bomb reached openpyxl"))
    r = post(client, admin[1], bomb, "v.xlsx")
    assert r.status_code == 422 and r.get_json()["error"] == "import_file_invalid"
    assert "解压后超过" in r.get_json()["message"]
    assert db.session.execute(select(func.count()).select_from(ImportJob)).scalar() == 0


def test_rows_are_bounded_before_anything_is_written(app, client, db, admin, monkeypatch):
    monkeypatch.setitem(app.config, "VOLUNTEER_IMPORT_MAX_ROWS", 4)
    body = post(client, admin[1], csv_bytes(GOOD * 2)).get_json()  # 7 lines, 6 rows
    assert (body["state"], body["error"]) == ("failed", "import_file_invalid") and "超过 4 行" in body["message"]
    monkeypatch.setitem(app.config, "VOLUNTEER_IMPORT_MAX_ROWS", 1000)
    book = openpyxl.Workbook()
    for row in [["手机号", "姓名", "网格", "行业", "兴趣", "服务岗位"], *GOOD]:
        book.active.append(row)
    book.active.cell(row=1_000_000, column=16_384, value="x")  # a tiny file that claims a million rows
    packed = io.BytesIO()
    book.save(packed)
    body = post(client, admin[1], packed.getvalue(), "v.xlsx").get_json()
    assert (body["state"], body["error"]) == ("failed", "import_file_invalid")
    assert "超过 1,000 行" in body["message"] and len(packed.getvalue()) < 10_000
    assert volunteer_count(db) == 0


def test_a_wide_sheet_reads_only_its_first_columns(client, db, admin):
    book = openpyxl.Workbook()
    for row in [["手机号", "姓名", "网格", "行业", "兴趣", "服务岗位"], *GOOD]:
        book.active.append(row)
    book.active.cell(row=2, column=16_384, value="far away")
    packed = io.BytesIO()
    book.save(packed)
    body = post(client, admin[1], packed.getvalue(), "v.xlsx").get_json()
    assert (body["state"], body["inserted"]) == ("done", 3) and volunteer_count(db) == 3


def test_a_job_fails_when_its_uploader_is_no_longer_an_admin(app, client, db, admin, worker):
    job = post(client, admin[1], csv_bytes(GOOD)).get_json()
    db.session.execute(RoleGrant.__table__.delete().where(RoleGrant.user_id == admin[0].id,
                                                          RoleGrant.role == "admin"))
    db.session.commit()
    assert import_jobs.run_pending() == 1
    row = db.session.get(ImportJob, int(job["id"]))
    db.session.refresh(row)
    assert (row.state, row.error) == ("failed", "forbidden") and volunteer_count(db) == 0


def test_a_job_left_running_by_a_dead_worker_fails_and_the_next_runs(app, client, db, admin, worker):
    stale = ImportJob(created_by=admin[0].id, state="running", content=b"x", started_at=utcnow() - timedelta(hours=1),
                      updated_at=utcnow() - timedelta(minutes=31))
    db.session.add(stale)
    db.session.commit()
    job = post(client, admin[1], csv_bytes(GOOD)).get_json()
    assert import_jobs.run_pending() == 1
    db.session.expire_all()
    assert (db.session.get(ImportJob, stale.id).state, db.session.get(ImportJob, stale.id).error) == (
        "failed", "import_interrupted")
    assert db.session.get(ImportJob, int(job["id"])).state == "done"


def test_production_refuses_to_run_imports_in_web_workers():
    for runner in ("thread", "inline"):
        with pytest.raises(RuntimeError, match="VOLUNTEER_IMPORT_RUNNER must be worker"):
            ProductionConfig.validate({"VOLUNTEER_IMPORT_RUNNER": runner})


def test_an_inline_run_answers_the_finished_job(client, admin):
    r = post(client, admin[1], csv_bytes(GOOD))
    assert r.status_code == 202 and (r.get_json()["state"], r.get_json()["inserted"]) == ("done", 3)


def test_an_upload_with_other_fields_is_refused(client, db, admin):
    r = client.post(URL, data={"file": (io.BytesIO(csv_bytes(GOOD)), "v.csv"), "note": "x"}, headers=admin[1],
                    content_type="multipart/form-data")
    assert r.status_code == 422 and list(r.get_json()["errors"]["files"]) == ["note"]
    assert db.session.execute(select(func.count()).select_from(ImportJob)).scalar() == 0
