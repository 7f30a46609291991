"""The figures, exact and live: 响应率 (answered within the accept deadline), 解决率 (resolved within the resolve
deadline), 满意率 (confirmed ÷ closed), the median time to resolve (to the minute) and the open overdue count. A
case still open past a deadline counts against its rate now, not when it is finally answered. A street or a wider
area reads the tallies (tally_figures.py); a community or a grid, a small range of reports, is one pass over the
reports filed in the window inside it. Either way grouped by street, department or category."""
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select, text

from app.areas import service as area_service
from app.auth.access import ensure_acts_on
from app.common import time as clock
from app.common.upsert import is_postgres
from app.errors import ValidationFailed
from app.extensions import db
from app.reports import tally_figures
from app.reports.models import OPEN_STATES, Category, Department, Report
from app.reports.tallies import minutes_between

ROLES = ("community_staff", "street_staff", "admin")
CLOSED_OUT = ("rejected", "duplicate")
FIGURES = ("count", "responded_on_time", "response_due", "resolved_on_time", "resolution_due", "confirmed", "closed",
           "open_overdue", "flagged")
TALLIED = len("440106001")  # areas this long or shorter (city, district, street) read the tallies


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def _figures(now: datetime) -> list:
    r = Report
    handled = r.state.not_in(CLOSED_OUT)
    return [
        func.count().label("count"),
        _count(and_(r.responded_at.is_not(None), r.responded_at <= r.accept_due_at)).label("responded_on_time"),
        _count((r.responded_at.is_not(None)) | (r.accept_due_at < now)).label("response_due"),
        _count(and_(handled, r.resolved_at.is_not(None), r.resolved_at <= r.resolve_due_at)).label("resolved_on_time"),
        _count(and_(handled, (r.resolved_at.is_not(None)) | (r.resolve_due_at < now))).label("resolution_due"),
        _count(r.state == "confirmed").label("confirmed"),
        _count(r.state.in_(("confirmed", "closed"))).label("closed"),
        _count(and_(r.state.in_(OPEN_STATES), r.due_at < now)).label("open_overdue"),
        _count(r.flagged).label("flagged"),
    ]


def _median():
    minutes = func.floor(func.extract("epoch", Report.resolved_at - Report.submitted_at) / 60)
    return func.percentile_cont(0.5).within_group(minutes * 60)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _shape(counts: dict, median_seconds) -> dict:
    out = {key: int(counts.get(key) or 0) for key in FIGURES}
    out.update(response_rate=_ratio(out["responded_on_time"], out["response_due"]),
               resolution_rate=_ratio(out["resolved_on_time"], out["resolution_due"]),
               satisfaction_rate=_ratio(out["confirmed"], out["closed"]),
               median_hours_to_resolve=None if median_seconds is None else round(float(median_seconds) / 3600, 2))
    return out


def _key_column(by: str):
    return {"street": area_service.child_key(Report.grid_code, "street"), "department": Report.department_id,
            "category": Report.category_id}[by]


def _medians(where, key=None) -> dict:
    """{group key (None: no grouping): median seconds to resolve, to the minute}, computed here (SQLite)."""
    keys = [] if key is None else [key]
    spans: dict = {}
    for row in db.session.execute(select(*keys, Report.submitted_at, Report.resolved_at)
                                  .where(and_(where, Report.resolved_at.is_not(None)))):
        k = None if key is None else row[0]
        spans.setdefault(k, []).append(minutes_between(row[-2], row[-1]) * 60)
    return {k: _middle(sorted(v)) for k, v in spans.items()}


def _middle(values: list[float]) -> float:
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def _names(by: str, keys) -> dict:
    if by == "street":
        return area_service.names({k for k in keys if k})
    model = Department if by == "department" else Category
    return dict(db.session.execute(select(model.id, model.name).where(model.id.in_([k for k in keys if k]))).all())


def _window(start: date | None, end: date | None, now: datetime) -> tuple[datetime, datetime]:
    today = clock.to_shanghai(now).date()
    end = end or today
    start = start or end - timedelta(days=29)
    if start > end:
        raise ValidationFailed("window_invalid", "开始日期不能晚于结束日期",
                               errors={"query": {"from": ["晚于结束日期"]}})
    first = datetime.combine(start, time(), clock.SHANGHAI)
    return first, datetime.combine(end + timedelta(days=1), time(), clock.SHANGHAI)


def report_stats(*, user, area: str | None, by: str, start: date | None, end: date | None) -> dict:
    """The figures of the reports filed in [from, to] (Guangzhou dates) inside an area the caller covers."""
    area = area or (user.areas_for(*ROLES) or ["4401"])[0]
    area_service.get(area)
    ensure_acts_on(area, *ROLES)
    return figures(area=area, by=by, start=start, end=end)


def figures(*, area: str, by: str, start: date | None, end: date | None) -> dict:
    """The figures of an area (no access check: report_stats makes it), grouped by street, department or category."""
    now = clock.utcnow()
    first, last = _window(start, end, now)
    if is_postgres():  # the best plans depend on the window and the area: never a prepared statement's generic one
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    if len(area) <= TALLIED:
        groups, total = tally_figures.figures(area, by, first, last, first.date(), (last - timedelta(days=1)).date(),
                                              now)
    else:
        groups, total = _scanned(area, by, first, last, now)
    names = _names(by, [key for key, _, _ in groups])
    return {"area": area, "by": by, "from_": first.date(), "to": (last - timedelta(days=1)).date(), "as_of": now,
            "total": _shape(*total),
            "groups": [{"key": str(key), "name": names.get(key), **_shape(counts, median)}
                       for key, counts, median in sorted(groups, key=lambda group: str(group[0]))]}


def _scanned(area: str, by: str, first: datetime, last: datetime, now: datetime) -> tuple[list, tuple]:
    """The figures from the reports filed in the window inside the area, in the shape tally_figures gives."""
    where = and_(area_service.in_subtree(Report.grid_code, area), Report.submitted_at >= first,
                 Report.submitted_at < last)
    groups, (total, median) = (_one_pass if is_postgres() else _passes)(where, _key_column(by), now)
    return ([(row.key, row._asdict(), seconds) for row, seconds in groups],
            ({} if total is None else total._asdict(), median))


def _one_pass(where, key, now) -> tuple[list, tuple]:
    """PostgreSQL: the groups and the total (ROLLUP), medians included, in one scan."""
    median = _median().filter(Report.resolved_at.is_not(None)).label("median_seconds")
    db.session.execute(text("SET LOCAL work_mem = '64MB'"))  # the medians' sorts stay in memory (this transaction)
    rows = db.session.execute(select(key.label("key"), func.grouping(key).label("whole"), *_figures(now), median)
                              .where(where).group_by(func.rollup(key))).all()
    total = next((row for row in rows if row.whole), None)
    return [(row, row.median_seconds) for row in rows if not row.whole], \
        (total, total.median_seconds if total is not None else None)


def _passes(where, key, now) -> tuple[list, tuple]:
    """Elsewhere (SQLite): a grouped query, a total query and the medians computed here."""
    rows = db.session.execute(select(key.label("key"), *_figures(now)).where(where).group_by(key)).all()
    medians = _medians(where, key)
    total = db.session.execute(select(*_figures(now)).where(where)).one()
    return [(row, medians.get(row.key)) for row in rows], (total, _medians(where).get(None))
