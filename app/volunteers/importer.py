"""Volunteer files (CSV in UTF-8 or GB18030, or XLSX): read as a stream, check each row, hand batches to the bulk
path. Idempotent on phone: a second run updates, never duplicates. Rejected rows are reported with their line
number and reasons (never their contents: they hold names and phones)."""
import codecs
import csv
import io
from dataclasses import dataclass, field

from app.common.archives import ArchiveRefused, check_zip
from app.errors import ValidationFailed
from app.volunteers import bulk
from app.volunteers.checks import RowChecker, Sealer
from app.volunteers.taxonomy import Catalogue

COLUMNS = {"phone": ("phone", "手机号", "手机号码", "手机"), "real_name": ("real_name", "name", "姓名"),
           "grid": ("grid", "grid_code", "网格", "网格代码"), "trade": ("trade", "行业"),
           "interests": ("interests", "兴趣"), "service_roles": ("service_roles", "roles", "服务岗位", "岗位")}
REQUIRED = ("phone", "real_name", "grid", "trade", "service_roles")
MAX_COLUMNS = 64  # cells read per XLSX row: one cell in column XFD must not make every row 16,384 wide


def _file_invalid(message: str) -> ValidationFailed:
    return ValidationFailed("import_file_invalid", message, errors={"files": {"file": [message]}})


def _csv_rows(stream):
    sample = stream.read(65536)
    stream.seek(0)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        encoding = "gb18030"  # what Excel in China saves "CSV" as
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    reader = csv.reader(text)
    try:
        for cells in reader:
            yield reader.line_num, cells
    except (csv.Error, UnicodeDecodeError):
        raise _file_invalid(f"文件第 {reader.line_num + 1} 行附近无法读取：请保存为 UTF-8 编码的 CSV 或 XLSX") from None
    finally:
        text.detach()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(stream):
    import openpyxl

    try:
        check_zip(stream)
    except ArchiveRefused as refused:
        raise _file_invalid(str(refused)) from None
    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — any unreadable workbook is the uploader's problem, told in Chinese
        raise _file_invalid("无法读取该 XLSX 文件，请确认文件未损坏") from None
    try:
        for number, values in enumerate(book.active.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1):
            yield number, [_cell(v) for v in values]
    except Exception:  # noqa: BLE001
        raise _file_invalid("XLSX 文件内容无法读取，请确认文件未损坏") from None
    finally:
        book.close()


def is_xlsx(stream) -> bool:
    """Whether the stream holds a zip archive (XLSX) rather than text (CSV); the stream is rewound."""
    head = stream.read(4)
    stream.seek(0)
    return head.startswith(b"PK\x03\x04")


def read_rows(stream, *, max_rows: int | None = None):
    """(line number, cells) of every row of a CSV or XLSX file (told apart by content, not name); with max_rows,
    a file with more rows (blank ones included) is refused when the reader reaches them."""
    rows = _xlsx_rows(stream) if is_xlsx(stream) else _csv_rows(stream)
    return rows if max_rows is None else _bounded(rows, max_rows)


def _bounded(rows, max_rows: int):
    try:
        for line, cells in rows:
            if line > max_rows:
                raise _file_invalid(f"文件超过 {max_rows:,} 行，请拆分后再导入")
            yield line, cells
    finally:
        rows.close()


def _header(cells: list[str]) -> dict[str, int]:
    names = [c.strip().lstrip("\ufeff").lower() for c in cells]
    found = {key: names.index(alias) for key, aliases in COLUMNS.items() for alias in aliases if alias in names}
    missing = [COLUMNS[k][1] + f"（{k}）" for k in REQUIRED if k not in found]
    if missing:
        raise ValidationFailed("import_columns_missing", "文件缺少必需的列：" + "、".join(missing),
                               errors={"files": {"file": ["缺少必需的列"]}})
    return found


@dataclass
class Report:
    """What an import did."""

    total: int = 0
    inserted: int = 0
    updated: int = 0
    rejected: int = 0  # rows refused by their checks, and (once the import ends) by import_scope
    refused: int = 0  # rows import_scope refused: people with accounts already
    rejected_rows: list = field(default_factory=list)


def batches(rows, checker: RowChecker, report: Report, *, size: int, on_reject=None):
    """Checked, encrypted batches (at most one row per phone: the later row wins) from (line, cells) rows."""
    rows = iter(rows)
    try:
        yield from _batches(rows, checker, report, size, on_reject)
    finally:
        rows.close()  # a file refused half-way is let go now, while it is still open


def _batches(rows, checker: RowChecker, report: Report, size: int, on_reject):
    header = None
    for _line, cells in rows:
        if "".join(cells).strip():
            header = _header(cells)
            break
    if header is None:
        raise _file_invalid("文件为空，或没有表头行")
    pending, seal = {}, Sealer().row
    for line, cells in rows:
        if not "".join(cells).strip():  # a blank row (as any(c.strip() for c in cells), at a third of the cost)
            continue
        report.total += 1
        result = checker.check(cells, header)
        if isinstance(result, list):
            report.rejected += 1
            if on_reject:
                on_reject(line, result)
            continue
        row = seal(line, *result)
        pending[row.phone_hash] = row
        if len(pending) >= size:
            yield bulk.make_batch(pending)
            pending = {}
    if pending:
        yield bulk.make_batch(pending)


def import_stream(stream, *, allowed_areas=None, batch_size: int = 20_000, background: bool = False,
                  on_reject=None, on_progress=None, max_rows: int | None = None) -> Report:
    """Import a CSV or XLSX stream; batches commit as they go (a re-run after a failure completes the rest)."""
    report = Report()
    checker = RowChecker(Catalogue(), allowed_areas)

    def written(total, _n):
        report.inserted, report.updated, report.refused = total.inserted, total.updated, total.refused
        if on_progress:
            on_progress(report)

    bulk.run(batches(read_rows(stream, max_rows=max_rows), checker, report, size=batch_size, on_reject=on_reject),
             background=background, on_written=written, allowed_areas=allowed_areas, on_reject=on_reject)
    report.rejected += report.refused
    return report
