"""Data section: GET /api/v1/volunteers search, page 1 against page 1,000 (quick: page 50) reached by following
the cursors, median of warm runs each: keyset pages cost the same wherever they are (never OFFSET)."""
from bench import volunteers
from bench.core import Row

SEARCHES = ("area=4401", "area=4401&trade=express", "area=4401&interest=running")


def same_time(first: float, nth: float) -> bool:
    """"As fast as the first": within a quarter plus 2 ms of scheduling noise."""
    return nth <= 1.25 * first + 2


def run(ctx, quick: bool) -> list[Row]:
    pages = 50 if quick else 1000
    rows = []
    with ctx.app.app_context():
        headers = {"Authorization": f"Bearer {ctx.fixtures.tokens(1, role='admin')[0]}"}
        client = ctx.app.test_client()
        for query in SEARCHES:
            first, nth, reached = volunteers.keyset_timing(client, headers, query, pages=pages,
                                                           runs=5 if quick else 9)
            rows.append(Row(f"keyset page {reached:,} vs page 1: {query}", p50_ms=nth, unit="ms",
                            target="≈ page 1 (≤ 1.25× + 2 ms)", met=same_time(first, nth) and reached == pages,
                            note=f"page 1: {first:.1f} ms" + ("" if reached == pages else
                                                              f"; only {reached} pages of results")))
    return rows
