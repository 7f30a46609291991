"""What `make bench` measures: the yardsticks, the HTTP scenarios and the data-scale sections, in table order.

Adding a hot path once its domain has landed (a few lines):
  1. write `def _name(fx) -> list[Request]` below: make the rows it needs through the domain's service
     functions (idempotently: the bench database is kept between runs) and return a few dozen requests,
     each with its own token/body, so the run does not hammer one cached row;
  2. put it as `prepare=` in its entry of HOT_PATHS (the entry already holds its yardstick and target).
A data-scale section is a module bench/<module>.py with `run(ctx, quick) -> list[Row]` (see DataSection).
"""
from bench import hot_paths
from bench.core import DataSection, Request, Scenario

NOTES = 50  # distinct bodies for the write yardstick


def _json(fx) -> list[Request]:
    return [Request("GET", "/api/v1/bench/json")]


def _write(fx) -> list[Request]:
    return [Request("POST", "/api/v1/bench/write", body={"note": f"bench-{i}"}) for i in range(NOTES)]


def _health(fx) -> list[Request]:
    return [Request("GET", "/api/v1/health")]


def _areas(fx) -> list[Request]:
    codes = fx.area_codes("community", 100) + fx.area_codes("grid", 100)
    return [Request("GET", f"/api/v1/areas/{code}") for code in codes]


def _me(fx) -> list[Request]:
    return [Request("GET", "/api/v1/me", token=token) for token in fx.tokens(100)]


# The ceilings every other row is a ratio of, measured in the same run under the same gunicorn settings.
YARDSTICKS = [
    Scenario("yardstick: bare JSON (framework ceiling)", _json, key="json"),
    Scenario("yardstick: one INSERT + commit", _write, key="write", expect=201),
]

# Platform routes: no target; their ratio shows what a signed-in request costs before any rule.
PLATFORM = [
    Scenario("GET /api/v1/health (SELECT 1)", _health, yardstick="json"),
    Scenario("GET /api/v1/areas/{code}", _areas, yardstick="json"),
    Scenario("GET /api/v1/me (auth path)", _me, yardstick="json"),
]

# ==== HOT PATHS: a new one is its prepare function, set as prepare= ====
HOT_PATHS = [
    Scenario("token issue GET /health-codes/{id}/token", hot_paths.token_issue, yardstick="json", min_ratio=0.5),
    Scenario("QR PNG GET /health-codes/{id}/qr.png", hot_paths.qr_png, yardstick="json"),  # CPU: qr_render
    Scenario("staff verify + scan record", hot_paths.staff_verify, yardstick="write", min_ratio=0.8),
    Scenario("resident check-in POST /checkins", hot_paths.check_in, yardstick="write", min_ratio=0.8, expect=201,
             unique=True),
    Scenario("patrol check-in POST /patrols/checkins", hot_paths.patrol_check_in, yardstick="write", expect=201,
             unique=True),
    Scenario("volunteer stats GET /stats/volunteers", hot_paths.volunteer_stats, yardstick="json", max_p50_ms=100),
    Scenario("leaderboard GET /leaderboards", hot_paths.leaderboard, yardstick="json", max_p50_ms=100),
]

# ==== DATA AT CITY SCALE: each is bench/<module>.py exposing run(ctx, quick) -> list[Row] ====
DATA_SECTIONS = [
    DataSection("QR render, CPU per image", "qr_render", target="p50 ≤ 10 ms CPU"),
    DataSection("import 1.31 M volunteers", "volunteers_import", target="≥ 50,000 rows/s", before_http=True),
    DataSection("load ≥ 10 M scans", "scans_load", target="load rate reported", before_http=True),
    DataSection("tracing, person with 20 visits", "tracing", target="p50 ≤ 10 ms warm"),
    DataSection("per-venue stats", "venue_stats", target="reported"),
    DataSection("leaderboards at 1.31 M (ledger built first)", "leaderboards", target="≤ 100 ms each",
                before_http=True),
    DataSection("volunteer stats at 1.31 M", "volunteer_stats", target="≤ 100 ms each"),
    DataSection("keyset page 1,000 vs page 1", "keyset_pages", target="same time"),
    DataSection("scan purge (drop expired partitions)", "scans_purge", target="reported"),
]
