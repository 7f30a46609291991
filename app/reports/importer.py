"""12345 hotline work orders (CSV) into reports with source=12345, so both channels share one queue and one set of
figures. Columns: order_no, category (code or Chinese name), text, grid, received_at (ISO 8601; Guangzhou time
when it has no offset), and optionally urgency, lat, lng (GCJ-02), address. A row already imported (same order_no)
is skipped; a bad row goes to the reject report with its line number and reason, and the rest still load."""
import csv
from datetime import datetime

from app.areas import service as area_service
from app.common.time import SHANGHAI
from app.errors import AppError
from app.extensions import db
from app.reports import catalogue, service

REQUIRED = ("order_no", "category", "text", "grid", "received_at")
REJECT_COLUMNS = ("line", "order_no", "error", "message")


class RowError(Exception):
    """A row that cannot become a report."""

    def __init__(self, error: str, message: str):
        super().__init__(error)
        self.error, self.message = error, message


def _category(value: str, by_name: dict):
    if value in by_name:
        return by_name[value]
    try:
        return catalogue.category(value)
    except AppError:
        raise RowError("category_unknown", f"未知类别：{value}") from None


def _when(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RowError("received_at_invalid", "来电时间格式有误") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _data(row: dict) -> dict:
    if any("\x00" in (value or "") for value in row.values() if isinstance(value, str)):
        raise RowError("nul_character", "含有空字符")
    missing = [c for c in REQUIRED if not (row.get(c) or "").strip()]
    if missing:
        raise RowError("column_missing", f"缺少字段：{', '.join(missing)}")
    if len(row["text"]) > 1000 or len(row["order_no"]) > 50:
        raise RowError("too_long", "内容或工单编号过长")
    data = {"client_key": f"12345-{row['order_no'].strip()}", "text": row["text"].strip(),
            "urgency": "urgent" if (row.get("urgency") or "").strip() in ("urgent", "紧急") else "normal",
            "address": (row.get("address") or "").strip()[:200] or None}
    if (row.get("lat") or "").strip() and (row.get("lng") or "").strip():
        try:
            data.update(lat=float(row["lat"]), lng=float(row["lng"]))
        except ValueError:
            raise RowError("position_invalid", "经纬度有误") from None
    return data


def _grid(code: str) -> str:
    try:
        return area_service.get_at_level(code.strip(), "grid").code
    except AppError:
        raise RowError("grid_unknown", f"网格不存在：{code}") from None


def import_file(path: str, rejects_path: str) -> dict:
    """Load a work-order CSV; write rejected rows to rejects_path. Returns the counts."""
    by_name = {c.name: c for c in catalogue.categories(active_only=False)}
    counts = {"imported": 0, "skipped": 0, "rejected": 0}
    with open(path, newline="", encoding="utf-8-sig") as source, \
            open(rejects_path, "w", newline="", encoding="utf-8") as sink:
        rejects = csv.writer(sink)
        rejects.writerow(REJECT_COLUMNS)
        for line, row in enumerate(csv.DictReader(source), start=2):
            try:
                outcome = _one(row, by_name)
            except RowError as exc:
                rejects.writerow((line, row.get("order_no"), exc.error, exc.message))
                outcome = "rejected"
            counts[outcome] += 1
    db.session.commit()
    return counts


def _one(row: dict, by_name: dict) -> str:
    data = _data(row)
    if service.existing(None, data["client_key"]) is not None:
        return "skipped"
    report = service.new_report(category=_category(row["category"].strip(), by_name), grid=_grid(row["grid"]),
                                data=data, source="12345", reporter_id=None, submitted_at=_when(row["received_at"]))
    db.session.add(report)
    db.session.flush()
    service.record(report, action="submit", actor_id=None, from_state=None, reason="12345 热线工单")
    return "imported"
