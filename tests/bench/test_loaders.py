"""The bench's data generators and plan readers: exact counts, the tracing case where it is said to be, windows that
the purge really drops, plans read as they are printed. Pure functions: no database, no timing."""
from datetime import datetime, timedelta, timezone

from bench import keyset_pages, markers, scan_data, scans_load, timing

START = datetime(2026, 10, 31, tzinfo=timezone.utc)
SMALL = scan_data.Shape(venues=50, hot=5, codes=1000)


def _rows(**kwargs) -> list[list[str]]:
    return [line.split("\t") for chunk in scan_data.chunks(**kwargs) for line in chunk.splitlines()]


def test_chunks_give_exactly_the_rows_asked_in_copy_columns_inside_the_window():
    rows = _rows(rows=5_003, start=START, days=28, seed=1, shape=SMALL, size=1000)
    assert len(rows) == 5_003 and all(len(r) == len(scan_data.COLUMNS) for r in rows)
    stamps = [datetime.fromisoformat(r[0]) for r in rows]
    # local 06:00-23:00 of the 28 days: from 22:00 UTC the evening before the first day
    assert min(stamps) >= START - timedelta(hours=2) and max(stamps) < START + timedelta(days=28)
    venues = [int(r[2]) for r in rows]
    assert all(scan_data.VENUE_BASE <= v < scan_data.VENUE_BASE + SMALL.venues for v in venues)
    hot = sum(v < scan_data.VENUE_BASE + SMALL.hot for v in venues) / len(venues)
    assert 0.35 < hot < 0.5  # 40 % drawn among the hot ones, plus their share of the rest
    assert {r[4] for r in rows} == {"staff", "checkin"} and {r[5] for r in rows} == {"green", "yellow", "red"}
    assert all((r[5] == "green") == (r[6] == "t") for r in rows)
    assert len({(r[0], r[1]) for r in rows}) == len(rows)  # primary keys distinct


def test_chunks_are_the_same_for_a_seed_and_differ_for_another():
    one = list(scan_data.chunks(rows=300, start=START, days=28, seed=3, shape=SMALL))
    assert one == list(scan_data.chunks(rows=300, start=START, days=28, seed=3, shape=SMALL))
    assert one != list(scan_data.chunks(rows=300, start=START, days=28, seed=4, shape=SMALL))


def test_the_tracing_case_has_exactly_twenty_visits_whose_keys_person_keys_gives():
    rows = _rows(rows=2_000, start=START, days=28, seed=5, shape=SMALL, person=True)
    visits = [r for r in rows if int(r[3]) == scan_data.PERSON]
    assert len(rows) == 2_000 and len(visits) == scan_data.PERSON_VISITS
    assert {(r[0], int(r[1])) for r in visits} == set(scan_data.person_keys(start=START, days=28, seed=5, shape=SMALL))
    assert len({r[0][:10] for r in visits}) >= 15  # spread over the days, not one afternoon
    assert sum(int(r[2]) < scan_data.VENUE_BASE + SMALL.hot for r in visits) == 5  # a quarter at hot venues
    assert not any(int(r[3]) == scan_data.PERSON for r in _rows(rows=2_000, start=START, days=28, seed=5, shape=SMALL))


def test_the_expired_month_lies_wholly_before_the_retention_cutoff_and_the_window_after_it():
    for now in (datetime(2026, 11, 28, 15, tzinfo=timezone.utc), datetime(2026, 12, 1, 0, 30, tzinfo=timezone.utc),
                datetime(2027, 3, 1, 23, tzinfo=timezone.utc), datetime(2026, 11, 29, 0, 1, tzinfo=timezone.utc),
                datetime(2026, 11, 28, 23, 59, tzinfo=timezone.utc),
                datetime(2026, 11, 28, 15, 59, tzinfo=timezone.utc)):
        start, old = scans_load.window(now)
        cutoff = now - timedelta(days=scans_load.DAYS)
        month_end = (old + timedelta(days=32)).replace(day=1)
        assert old.day == 1 and month_end <= cutoff, now  # the purge drops its partition whole
        assert start - timedelta(hours=2) > cutoff, now  # the first local morning is kept by the purge
        assert start + timedelta(days=scans_load.DAYS - 1) <= now + timedelta(hours=8), now  # the last day: today


def test_plan_changes_with_the_scale_so_a_quick_table_is_reloaded_for_a_full_run():
    now = datetime(2026, 11, 28, 15, tzinfo=timezone.utc)
    quick, full = scans_load.plan(True, now), scans_load.plan(False, now)
    assert quick["rows"] == 300_000 and full["rows"] == 10_000_000 and full["old_rows"] == 200_000
    assert not markers.matches(quick, {k: full[k] for k in ("seed", "rows", "start")})
    assert markers.matches(full, {k: full[k] for k in ("seed", "rows", "start")})
    assert not markers.matches({}, {"rows": 1})


PLAN = """Sort  (cost=1.0..2.0 rows=3 width=8) (actual time=0.2..0.3 rows=18 loops=1)
  ->  Append  (actual time=0.1..0.2 rows=18 loops=1)
        ->  Bitmap Heap Scan on scans_y2026m11 scans_2  (actual rows=17 loops=1)
              ->  BitmapOr
                    ->  Bitmap Index Scan on scans_y2026m11_venue_id_scanned_at_idx  (actual rows=9 loops=1)
        ->  Index Scan using scans_y2026m10_pkey on scans_y2026m10 scans_1  (actual rows=1 loops=1)
Planning Time: 0.9 ms
Execution Time: 0.346 ms"""


def test_plans_are_read_for_their_indexes_and_time():
    assert timing.indexes_used(PLAN) == ["scans_y2026m11_venue_id_scanned_at_idx", "scans_y2026m10_pkey"]
    assert timing.reads_index(PLAN, "venue_id_scanned_at_idx")
    assert not timing.reads_index(PLAN, "health_code_id_scanned_at_idx")
    assert not timing.reads_index(PLAN + "\n  ->  Seq Scan on scans_y2026m09", "venue_id_scanned_at_idx")
    assert not timing.reads_index(PLAN + "\n  ->  Seq Scan on scans seen", "venue_id_scanned_at_idx")
    # a small side table read whole is the planner's right choice, not a scan of the scans table
    assert timing.reads_index(PLAN + "\n  ->  Seq Scan on health_codes holder", "venue_id_scanned_at_idx")
    assert timing.execution_ms(PLAN) == 0.346


def test_warm_ms_times_the_runs_after_the_warm_up():
    calls = []
    median, p95, last = timing.warm_ms(lambda: calls.append(1) or len(calls), runs=5, warmup=2)
    assert len(calls) == 7 and last == 7 and 0 <= median <= p95


def test_a_far_page_counts_as_fast_as_the_first_within_noise_only():
    assert keyset_pages.same_time(10.0, 12.0) and keyset_pages.same_time(1.0, 3.0)
    assert not keyset_pages.same_time(10.0, 20.0)
