"""Data section: GET /api/v1/stats/volunteers for each `by=` dimension inside the city and inside a district, in
process (test client: routing, JWT, the count query, JSON), median of warm runs; exact: the total must equal a plain
count of the volunteers in the area, and area dimensions must add up to it."""
from sqlalchemy import text

from bench import volunteers
from bench.core import Row

DIMENSIONS = ("district", "street", "community", "grid", "trade", "interest", "service_role")
AREAS = ("4401", "440106")  # the city, 天河区
TARGET_MS = 100


def exact_total(db, area: str) -> int:
    return db.session.execute(text("SELECT count(*) FROM volunteers WHERE left_at IS NULL AND grid_code >= :a "
                                   "AND grid_code < :b"), {"a": area, "b": area + "~"}).scalar()


def row(by: str, area: str, ms: float, body: dict, truth: int) -> Row:
    adds_up = by not in ("district", "street", "community", "grid") or sum(r["count"] for r in body["rows"]) == truth
    exact = body["total"] == truth and adds_up
    return Row(f"volunteer stats by={by} area={area} ({len(body['rows']):,} rows)", p50_ms=ms, unit="ms",
               target=f"≤ {TARGET_MS} ms, exact", met=ms <= TARGET_MS and exact,
               note=f"total {body['total']:,}" + ("" if exact else f" ≠ {truth:,} counted: NOT exact"))


def run(ctx, quick: bool) -> list[Row]:
    from app.extensions import db

    rows = []
    with ctx.app.app_context():
        headers = {"Authorization": f"Bearer {ctx.fixtures.tokens(1, role='admin')[0]}"}
        client = ctx.app.test_client()
        for area in AREAS:
            truth = exact_total(db, area)
            db.session.rollback()
            for by in DIMENSIONS:
                if by == "district" and area != "4401":
                    continue  # one district by district says nothing
                ms, body = volunteers.stats_timing(client, headers, by, area, runs=5 if quick else 9)
                rows.append(row(by, area, ms, body, truth))
    return rows
