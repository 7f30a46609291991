"""Points for useful reports: an accepted report earns its volunteer reporter points on the ledger, up to the daily
cap; residents who are not volunteers earn none."""
from sqlalchemy import select

from app.extensions import db
from app.patrols.models import PointsEntry, PointsSummary
from app.reports.models import Report
from tests.reports.helpers import GRID, act, file


def test_points_up_to_the_daily_cap(app, client, clock, monkeypatch, volunteer, community):
    monkeypatch.setitem(app.config, "REPORT_POINTS_DAILY_CAP", 12)
    _, headers = volunteer()
    awarded = [act(client, community[1], file(client, headers)["id"], "accept")["points_awarded"] for _ in range(4)]
    assert awarded == [5, 5, 2, 0]
    clock.advance(days=1)
    assert act(client, community[1], file(client, headers)["id"], "accept")["points_awarded"] == 5
    assert sorted(db.session.execute(select(PointsEntry.points)).scalars()) == [2, 5, 5, 5]
    assert db.session.execute(select(PointsSummary.points).where(PointsSummary.period == "all")).scalar() == 17


def test_rejected_reports_and_residents_earn_nothing(client, resident, volunteer, community):
    _, headers = volunteer()
    act(client, community[1], file(client, headers)["id"], "reject", reason="不属实")
    accepted = act(client, community[1], file(client, resident[1], grid=GRID)["id"], "accept")
    assert accepted["points_awarded"] == 0
    assert db.session.execute(select(PointsEntry)).first() is None
    assert db.session.execute(select(Report.points_awarded)).scalars().all() == [0, 0]
