"""12345 work orders: a CSV becomes reports with source=12345, in the same queue; bad rows go to the reject
report; importing again adds nothing."""
import csv

from sqlalchemy import select

from app.extensions import db
from app.reports.models import Report
from tests.reports.helpers import GRID

ROWS = [
    ["order_no", "category", "text", "grid", "received_at", "urgency", "lat", "lng"],
    ["GZ001", "消防隐患", "商铺门口堆放煤气罐", GRID, "2026-11-30 08:00:00", "紧急", "23.1291", "113.3437"],
    ["GZ002", "sanitation", "垃圾清运不及时", GRID, "2026-11-29T20:00:00+08:00", "", "", ""],
    ["GZ003", "不存在的类别", "x", GRID, "2026-11-30 08:00:00", "", "", ""],
    ["GZ004", "噪音扰民", "夜间施工", "44019999999999", "2026-11-30 08:00:00", "", "", ""],
    ["GZ005", "噪音扰民", "夜间施工", GRID, "yesterday", "", "", ""],
    ["", "噪音扰民", "夜间施工", GRID, "2026-11-30 08:00:00", "", "", ""],
]


def _write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


def test_import_with_reject_report(app, tmp_path, client, community):
    source = tmp_path / "orders.csv"
    _write(source, ROWS)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "import-12345", str(source)])
    assert result.exit_code == 0 and "imported: 2, already there: 0, rejected: 4" in result.output
    with open(f"{source}.rejects.csv", encoding="utf-8") as fh:
        rejects = list(csv.DictReader(fh))
    assert [(r["line"], r["error"]) for r in rejects] == [("4", "category_unknown"), ("5", "grid_unknown"),
                                                          ("6", "received_at_invalid"), ("7", "column_missing")]
    reports = db.session.execute(select(Report).order_by(Report.client_key)).scalars().all()
    assert [(r.client_key, r.source, r.urgency, r.reporter_id) for r in reports] == [
        ("12345-GZ001", "12345", "urgent", None), ("12345-GZ002", "12345", "normal", None)]
    assert reports[0].submitted_at.isoformat() == "2026-11-30T00:00:00+00:00"
    assert reports[0].accept_due_at.isoformat() == "2026-11-30T01:00:00+00:00"  # urgent fire hazard: 1 hour
    queue = client.get("/api/v1/reports?queue=community", headers=community[1]).get_json()["items"]
    assert {r["source"] for r in queue} == {"12345"} and len(queue) == 2

    again = runner.invoke(args=["reports", "import-12345", str(source)])
    assert "imported: 0, already there: 2, rejected: 4" in again.output
    assert len(db.session.execute(select(Report.id)).all()) == 2
