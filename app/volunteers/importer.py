"""Volunteer files (CSV in UTF-8 or GB18030, or XLSX): read as a stream, check each row, hand batches to the bulk
path. Idempotent on phone: a second run updates, never duplicates. Rejected rows are reported with their line
number and reasons (never their contents: they hold names and phones)."""
import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache

from app.areas import service as area_service
from app.auth.models import CITY_CODE
from app.common.crypto import cipher
from app.common.phone import normalise_cn_mobile
from app.errors import ValidationFailed
from app.volunteers import bulk
from app.volunteers.service import NAME_AAD, REAL_NAME, name_index
from app.volunteers.taxonomy import Catalogue, interest_mask

MAX_INTERESTS_PER_VOLUNTEER = 5
TAG_CACHE_SIZE = 50_000  # distinct interest/role cells remembered per import (a few MB at most)
COLUMNS = {"phone": ("phone", "手机号", "手机号码", "手机"), "real_name": ("real_name", "name", "姓名"),
           "grid": ("grid", "grid_code", "网格", "网格代码"), "trade": ("trade", "行业"),
           "interests": ("interests", "兴趣"), "service_roles": ("service_roles", "roles", "服务岗位", "岗位")}
REQUIRED = ("phone", "real_name", "grid", "trade", "service_roles")
_LIST_SPLIT = re.compile(r"[,，;；、|/\s]+")
_PLAIN_MOBILE = re.compile(r"1\d{10}")


@lru_cache(maxsize=None)
def _mobile_prefix_valid(prefix: str) -> bool:
    # Whether a plain 11-digit number is a mainland mobile depends on its first five digits only: libphonenumber's
    # CN mobile pattern (1(?:610\d|740[0-5])\d{6}|1(?:[38]\d|4[57]|…)\d{8}) decides on at most five, and no other
    # type's pattern takes an 11-digit number starting 1 but 10…, which is never mobile. Checked against the full
    # check for every 7-digit prefix (two tails each) with phonenumbers 9.0.43; tests compare every 5-digit prefix.
    try:
        normalise_cn_mobile(prefix + "000000")
        return True
    except ValidationFailed:
        return False


def checked_phone(raw: str) -> str:
    """normalise_cn_mobile, with plain 11-digit numbers answered from a per-5-digit-prefix cache (bulk speed)."""
    text = raw.strip()
    if _PLAIN_MOBILE.fullmatch(text):
        if _mobile_prefix_valid(text[:5]):
            return text
        raise ValidationFailed("phone_invalid", "请输入正确的中国大陆手机号码")
    return normalise_cn_mobile(raw)


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
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — any unreadable workbook is the uploader's problem, told in Chinese
        raise _file_invalid("无法读取该 XLSX 文件，请确认文件未损坏") from None
    try:
        for number, values in enumerate(book.active.iter_rows(values_only=True), start=1):
            yield number, [_cell(v) for v in values]
    except Exception:  # noqa: BLE001
        raise _file_invalid("XLSX 文件内容无法读取，请确认文件未损坏") from None
    finally:
        book.close()


def read_rows(stream):
    """(line number, cells) of every row of a CSV or XLSX file (told apart by content, not name)."""
    head = stream.read(4)
    stream.seek(0)
    return _xlsx_rows(stream) if head.startswith(b"PK\x03\x04") else _csv_rows(stream)


def _header(cells: list[str]) -> dict[str, int]:
    names = [c.strip().lstrip("\ufeff").lower() for c in cells]
    found = {key: names.index(alias) for key, aliases in COLUMNS.items() for alias in aliases if alias in names}
    missing = [COLUMNS[k][1] + f"（{k}）" for k in REQUIRED if k not in found]
    if missing:
        raise ValidationFailed("import_columns_missing", "文件缺少必需的列：" + "、".join(missing),
                               errors={"files": {"file": ["缺少必需的列"]}})
    return found


class RowChecker:
    """Checks one row's cells; returns the clean values or the list of reasons it is refused."""

    def __init__(self, catalogue: Catalogue, allowed_areas: list[str] | None = None):
        self.catalogue = catalogue
        self.grids = frozenset(code for code, _ in area_service.within(CITY_CODE, "grid"))
        self.allowed = tuple(allowed_areas) if allowed_areas else None
        self._parsed: dict[tuple[str, str], tuple[frozenset, tuple]] = {}  # a roster repeats the same tag lists

    def check(self, cells: list[str], header: dict[str, int]) -> tuple | list[str]:
        """(phone, name, grid, trade_id, interest ids, role bits), or the reasons the row is refused."""
        errors, find, phone, width = [], self.catalogue.find, None, len(cells)
        value = {column: cells[n] for column, n in header.items() if n < width}

        def get(column: str) -> str:
            return value.get(column, "")

        try:
            phone = checked_phone(get("phone"))
        except ValidationFailed:
            errors.append("手机号：格式不正确，应为 11 位中国大陆手机号")
        name = get("real_name").strip()
        if not REAL_NAME.fullmatch(name):
            errors.append("姓名：应为 1–32 个汉字或字母" if name else "姓名：不能为空")
        grid = get("grid").strip()
        if grid not in self.grids:
            errors.append(f"网格：代码「{grid[:20]}」不存在，应为 14 位网格代码" if grid else "网格：不能为空")
        elif self.allowed and not grid.startswith(self.allowed):
            errors.append("网格：不在您的管辖范围内")
        trade = find("trade", get("trade"))
        if trade is None:
            errors.append(f"行业：未知的行业「{get('trade').strip()[:20]}」" if get("trade").strip() else "行业：不能为空")
        interests = self._tags("interest", get("interests"), "兴趣", errors)
        if len(interests) > MAX_INTERESTS_PER_VOLUNTEER:
            errors.append(f"兴趣：最多 {MAX_INTERESTS_PER_VOLUNTEER} 项")
        roles = self._tags("service_role", get("service_roles"), "服务岗位", errors)
        if not roles and not any(e.startswith("服务岗位") for e in errors):
            errors.append("服务岗位：至少填写一项（信息员、巡防员、调解员、宣传员、支援员、引导员）")
        if errors:
            return errors
        return phone, name, grid, trade.id, tuple(sorted(interests)), tuple(sorted(roles))

    def _tags(self, kind: str, text: str, label: str, errors: list) -> frozenset[int]:
        parsed = self._parsed.get((kind, text))
        if parsed is None:
            parsed = self._parse(kind, text, label)
            if len(self._parsed) < TAG_CACHE_SIZE:
                self._parsed[(kind, text)] = parsed
        errors.extend(parsed[1])
        return parsed[0]

    def _parse(self, kind: str, text: str, label: str) -> tuple[frozenset, tuple]:
        ids, errors = set(), []
        for part in filter(None, _LIST_SPLIT.split(text.strip())):
            entry = self.catalogue.find(kind, part)
            if entry is None:
                errors.append(f"{label}：未知的{label}「{part[:20]}」")
            else:
                ids.add(entry.id)
        return frozenset(ids), tuple(errors)


class Sealer:
    """Encrypts checked rows for the stage, with the cipher looked up once (not three times a row)."""

    def __init__(self):
        self.cipher = cipher()

    def row(self, line: int, phone: str, name: str, grid: str, trade_id: int, interests: list[int], roles: list[int]):
        """A checked row as the bulk path stages it (the last two fields only feed the tally)."""
        c = self.cipher
        # the phone's hash and ciphertext as auth stores them (auth_service.phone_hash; aad b"phone"): imported
        # people sign in by SMS with the same phone (tests check find_by_phone and phone_of on imported rows)
        return bulk.StageRow(line, c.blind_index(phone, "phone"), c.encrypt(phone, b"phone"), c.encrypt(name, NAME_AAD),
                             name_index(name, c), grid, trade_id, interest_mask(interests), sum(1 << r for r in roles),
                             0, interests, roles)  # new_id: drawn per batch, in grid order (bulk.make_batch)


@dataclass
class Report:
    """What an import did."""

    total: int = 0
    inserted: int = 0
    updated: int = 0
    rejected: int = 0
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
        if any(c.strip() for c in cells):
            header = _header(cells)
            break
    if header is None:
        raise _file_invalid("文件为空，或没有表头行")
    pending, seal = {}, Sealer().row
    for line, cells in rows:
        if not any(c.strip() for c in cells):
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
                  on_reject=None, on_progress=None) -> Report:
    """Import a CSV or XLSX stream; batches commit as they go (a re-run after a failure completes the rest)."""
    report = Report()
    checker = RowChecker(Catalogue(), allowed_areas)

    def written(total, _n):
        report.inserted, report.updated = total.inserted, total.updated
        if on_progress:
            on_progress(report)

    bulk.run(batches(read_rows(stream), checker, report, size=batch_size, on_reject=on_reject),
             background=background, on_written=written)
    return report
