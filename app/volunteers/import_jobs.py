"""Volunteer imports as background jobs: an upload is checked and queued at once (202), a worker reads it, and
the uploader follows its progress and downloads its rejected rows.

Who runs the queued jobs (VOLUNTEER_IMPORT_RUNNER): `worker`, the `flask volunteers run-imports` command (cron or
a systemd service, never a web worker); `thread`, a thread of the development server started on each upload;
`inline`, the request itself (tests). All three go through `run_job`. Docs: docs/volunteer-imports.md."""
import io
import json
import logging
import threading
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.auth import principal
from app.common.archives import ArchiveRefused, check_zip
from app.common.time import utcnow
from app.common.views import View
from app.errors import AppError, NotFound, ValidationFailed
from app.extensions import db
from app.volunteers import importer
from app.volunteers.export import csv_text, safe_cell
from app.volunteers.models import ImportJob

log = logging.getLogger("jiefang.imports")
RUNNERS = ("worker", "thread", "inline")
REPORT_ROWS = 1000  # rejected rows a job's progress lists; rejected.csv has them all


def _refused(message: str) -> ValidationFailed:
    return ValidationFailed("import_file_invalid", message, errors={"files": {"file": [message]}})


def enqueue(*, user_id: int, upload) -> ImportJob:
    """Check what can be checked without reading the rows (not empty, an XLSX's inflated sizes), queue the file."""
    content = upload.read()
    if not content.strip():
        raise _refused("文件为空，或没有表头行")
    stream = io.BytesIO(content)
    if importer.is_xlsx(stream):
        try:
            check_zip(stream)
        except ArchiveRefused as refused:
            raise _refused(str(refused)) from None
    job = ImportJob(created_by=user_id, content=content, state="queued")
    db.session.add(job)
    db.session.commit()
    _dispatch(job.id)
    return job


def _dispatch(job_id: int) -> None:
    runner = current_app.config["VOLUNTEER_IMPORT_RUNNER"]
    if runner == "inline":
        run_job(job_id)
    elif runner == "thread":
        app = current_app._get_current_object()
        threading.Thread(target=_in_thread, args=(app,), name="volunteer-import", daemon=True).start()


def _in_thread(app) -> None:
    with app.app_context():
        try:
            run_pending()
        finally:
            db.session.remove()


def get_for(*, job_id: int, user_id: int) -> ImportJob:
    """A job, for the account that uploaded it (anyone else: 404, as if it did not exist)."""
    job = db.session.get(ImportJob, job_id, populate_existing=True)  # UPDATEs ran past the ORM
    if job is None or job.created_by != user_id:
        raise NotFound("import_not_found", "导入任务不存在")
    return job


def progress(job: ImportJob) -> View:
    """A job with the first REPORT_ROWS of its `rejected_rows` and whether there are more."""
    rejected = rejected_rows(job)
    return View(job, rejected_rows=rejected[:REPORT_ROWS],
                rejected_rows_truncated=len(rejected) > REPORT_ROWS)


def rejected_rows(job: ImportJob) -> list[dict]:
    """The job's rejected rows so far: [{line, reasons}]."""
    return [{"line": line, "reasons": reasons} for line, reasons in json.loads(job.rejected_rows or "[]")]


def rejected_csv(job: ImportJob) -> str:
    """The rejected rows as a CSV report (UTF-8 BOM): line number and reasons, cells safe to open in Excel."""
    rows = [[str(r["line"]), safe_cell("；".join(r["reasons"]))] for r in rejected_rows(job)]
    return "\ufeff" + csv_text([["行号", "原因"], *rows])


def run_pending(limit: int | None = None) -> int:
    """Fail jobs whose runner died, then run queued jobs, oldest first, until none is left (or `limit` ran)."""
    _fail_stale()
    ran = 0
    while limit is None or ran < limit:
        job_id = db.session.execute(select(ImportJob.id).where(ImportJob.state == "queued")
                                    .order_by(ImportJob.created_at).limit(1)).scalar()
        if job_id is None:
            break
        ran += run_job(job_id)
    return ran


def run_job(job_id: int) -> bool:
    """Claim a queued job and run it to its end (done or failed); False when another runner claimed it first."""
    now = utcnow()
    claimed = db.session.execute(update(ImportJob).where(ImportJob.id == job_id, ImportJob.state == "queued")
                                 .values(state="running", started_at=now, updated_at=now)).rowcount
    db.session.commit()
    if not claimed:
        return False
    job = db.session.get(ImportJob, job_id, populate_existing=True)  # UPDATEs ran past the ORM
    try:
        _run(job)
    except AppError as error:
        db.session.rollback()
        _finish(job_id, "failed", error=error.error, message=error.message)
    except Exception:  # noqa: BLE001 — the job fails, the worker goes on with the next one
        db.session.rollback()
        log.exception("volunteer import job %s failed", job_id)
        _finish(job_id, "failed", error="import_failed", message="导入失败，请稍后重试或联系管理员")
    return True


def _run(job: ImportJob) -> None:
    uploader = principal.load(job.created_by) if job.created_by else None
    areas = uploader.areas_for("admin") if uploader is not None and uploader.is_active else []
    if not areas:  # no longer an admin anywhere: an empty list would mean "anywhere" to the importer
        raise AppError("forbidden", "上传者已无导入权限")
    max_rows = current_app.config["VOLUNTEER_IMPORT_MAX_ROWS"]
    stream, rejected = io.BytesIO(job.content), []
    _set(job.id, rows_total=_data_rows(stream, max_rows))

    def progress(report) -> None:
        _set(job.id, rows_done=report.total, inserted=report.inserted, updated=report.updated,
             rejected=report.rejected)

    report = importer.import_stream(stream, allowed_areas=areas, max_rows=max_rows, on_progress=progress,
                                    on_reject=lambda line, reasons: rejected.append([line, reasons]))
    _finish(job.id, "done", rows_done=report.total, inserted=report.inserted, updated=report.updated,
            rejected=report.rejected, rejected_rows=json.dumps(rejected, ensure_ascii=False))


def _data_rows(stream, max_rows: int) -> int:
    """Non-blank rows after the header; a file beyond max_rows is refused before anything is written."""
    rows = sum(1 for _line, cells in importer.read_rows(stream, max_rows=max_rows) if "".join(cells).strip())
    stream.seek(0)
    return max(rows - 1, 0)


def _set(job_id: int, **values) -> None:
    db.session.execute(update(ImportJob).where(ImportJob.id == job_id).values(updated_at=utcnow(), **values))
    db.session.commit()


def _finish(job_id: int, state: str, **values) -> None:
    _set(job_id, state=state, finished_at=utcnow(), content=None, **values)


def _fail_stale() -> None:
    """Jobs left running by a runner that died (no progress for VOLUNTEER_IMPORT_STALE_MINUTES) fail; batches
    already written stay, and an upload of the same file completes the rest (imports are idempotent)."""
    cutoff = utcnow() - timedelta(minutes=current_app.config["VOLUNTEER_IMPORT_STALE_MINUTES"])
    db.session.execute(update(ImportJob).where(ImportJob.state == "running", ImportJob.updated_at < cutoff)
                       .values(state="failed", error="import_interrupted", message="导入中断，请重新上传该文件",
                               content=None, finished_at=utcnow(), updated_at=utcnow()))
    db.session.commit()
