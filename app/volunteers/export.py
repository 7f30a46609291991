"""The masked volunteer list of an area, for organisers who open it in Excel: CSV (streamed) or XLSX (text cells).

Cells are safe to open: a cell that starts with = + - @, a tab or a carriage return gets a leading apostrophe in
the CSV (Excel then shows it as text instead of running it), and every XLSX cell is a text cell. The 19-digit
volunteer id is written `="…"` in the CSV, the one way Excel keeps all of its digits."""
import csv
import io
import tempfile

from flask import current_app
from sqlalchemy import tuple_

from app.areas import service as area_service
from app.auth import service as auth_service
from app.common.fields import FORMULA_START
from app.common.masking import mask_phone
from app.common.time import to_shanghai
from app.errors import ValidationFailed
from app.extensions import db
from app.volunteers import counts
from app.volunteers.models import Volunteer
from app.volunteers.search import filtered
from app.volunteers.service import masked_name
from app.volunteers.taxonomy import ROLE_NAMES, Catalogue, role_codes

EXPORT_BATCH = 2000
EXPORT_COLUMNS = ["志愿者编号", "姓名", "手机号", "区", "街道", "社区", "网格", "网格代码", "行业", "兴趣", "服务岗位",
                  "注册时间"]
_FIELDS = (Volunteer.id, Volunteer.grid_code, Volunteer.user_id, Volunteer.real_name_enc, Volunteer.trade_id,
           Volunteer.interest_mask, Volunteer.service_roles, Volunteer.created_at)


def safe_cell(text: str) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def batches(*, area: str):
    """Lists of export rows (masked, labelled) of an area, a batch at a time; the area is checked now, rows are
    read as the batches are consumed."""
    catalogue = Catalogue()
    query = filtered(catalogue, area=area).with_only_columns(*_FIELDS)
    level = area_service.level_of(area)
    names = area_service.names({area[:n] for n in (6, 9, 12, 14) if len(area) >= n})
    for below in area_service.LEVELS[area_service.LEVELS.index(level) + 1:]:
        names.update(dict(area_service.within(area, below)))
    return _batches(query, _Labels(names, catalogue))


def _batches(query, labels: "_Labels"):
    after = None
    while True:
        batch = query if after is None else query.where(tuple_(Volunteer.grid_code, Volunteer.id) > after)
        # plain rows (no ORM objects): an export of the whole city is 1.31 million of them
        rows = db.session.connection().execute(batch.order_by(Volunteer.grid_code, Volunteer.id)
                                               .limit(EXPORT_BATCH)).all()
        if not rows:
            return
        phones = auth_service.phones_of(v.user_id for v in rows)
        yield [labels.row(v, phones.get(v.user_id)) for v in rows]
        after = (rows[-1].grid_code, rows[-1].id)
        db.session.rollback()  # end the read transaction between batches: a long export holds no snapshot


def csv_chunks(*, area: str):
    """The export as CSV text chunks: UTF-8 BOM and header, then a batch of rows at a time."""
    rows = batches(area=area)

    def chunks():
        yield "\ufeff" + csv_text([EXPORT_COLUMNS])
        for batch in rows:
            yield csv_text([f'="{row[0]}"', *(safe_cell(cell) for cell in row[1:])] for row in batch)

    return chunks()


def xlsx_file(*, area: str):
    """The export as an XLSX workbook in a temporary file (rewound), every cell text; refused above
    VOLUNTEER_EXPORT_XLSX_MAX_ROWS volunteers (the CSV streams any size)."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    rows = batches(area=area)
    limit = current_app.config["VOLUNTEER_EXPORT_XLSX_MAX_ROWS"]
    if counts.total(area) > limit:
        raise ValidationFailed("export_too_large", f"该区域志愿者超过 {limit:,} 人，请缩小区域或导出 CSV")
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("志愿者")

    def text(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type, cell.number_format = "s", "@"  # a text cell, even for "=…" or 19 digits
        return cell

    sheet.append([text(name) for name in EXPORT_COLUMNS])
    for batch in rows:
        for row in batch:
            sheet.append([text(cell) for cell in row])
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    book.save(out)
    out.seek(0)
    return out


class _Labels:
    """Area, trade, interest and role names for export rows (tag combinations repeat: each is joined once)."""

    def __init__(self, names: dict, catalogue: Catalogue):
        self.names, self.catalogue, self.interests, self.roles = names, catalogue, {}, {}

    def row(self, v, phone) -> list[str]:
        g, names, catalogue = v.grid_code, self.names, self.catalogue
        interests = self.interests.get(v.interest_mask)
        if interests is None:
            interests = self.interests[v.interest_mask] = "、".join(
                i.name for i in catalogue.interests if v.interest_mask >> (i.id - 1) & 1)
        roles = self.roles.get(v.service_roles)
        if roles is None:
            roles = self.roles[v.service_roles] = "、".join(ROLE_NAMES[c] for c in role_codes(v.service_roles))
        return [str(v.id), masked_name(v) or "", mask_phone(phone) or "", names.get(g[:6], ""),
                names.get(g[:9], ""), names.get(g[:12], ""), names.get(g, ""), g,
                catalogue.trade_by_id[v.trade_id].name if v.trade_id else "", interests, roles,
                to_shanghai(v.created_at).strftime("%Y-%m-%d %H:%M")]


def csv_text(rows) -> str:
    """Rows as CSV text (CRLF lines, as Excel writes them)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()
