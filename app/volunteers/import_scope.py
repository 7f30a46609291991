"""What an import may not do to people who have accounts already: make a volunteer of an account whose owner
never consented (only its owner registers, in the mini-program), or change a volunteer who lives outside the
importer's areas (the row's new grid is checked with the row; this is the volunteer's current one)."""
from sqlalchemy import Table, delete, select

from app.auth import bulk as account_bulk
from app.extensions import db
from app.volunteers import counts
from app.volunteers.models import Volunteer

NO_CONSENT = "手机号：该号码已注册账号但尚未登记为志愿者，须本人在小程序中登记（同意后）方可加入"
OUT_OF_AREA = "手机号：该志愿者现居网格不在您的管辖范围内，不能修改其信息"


def refuse(stage: Table, tally: counts.Tally, allowed_areas: tuple[str, ...] | None) -> list[tuple[int, str]]:
    """Remove the staged rows that may not be written (and count them out of the batch's tally); returns
    (line, reason) of each, in line order."""
    s = stage.c
    staged, account_id = account_bulk.join_accounts(
        select(s.line, s.grid_code, s.trade_id, s.interest_mask, s.service_roles,
               Volunteer.id.label("volunteer_id"), Volunteer.grid_code.label("current_grid")), s.phone_hash)
    rows = db.session.execute(staged.outerjoin(Volunteer, Volunteer.user_id == account_id).order_by(s.line)).all()
    refused = []
    for row in rows:
        if row.volunteer_id is None:
            refused.append((row, NO_CONSENT))
        elif allowed_areas and not (row.current_grid or "").startswith(allowed_areas):
            refused.append((row, OUT_OF_AREA))
    if refused:
        db.session.execute(delete(stage).where(s.line.in_([row.line for row, _ in refused])))
        for row, _ in refused:
            tally.add_volunteer(row, -1)
    return [(row.line, reason) for row, reason in refused]
