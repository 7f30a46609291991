"""Duplicates: open reports of the same category nearby are offered on filing and to the accepting staff; merging
links them, and every reporter of a merged report follows the one case."""
from sqlalchemy import select

from app.extensions import db
from app.patrols.models import Notification
from app.reports.models import Report
from tests.reports.helpers import act, body, file


def test_nearby_open_reports_of_the_category_are_offered(client, clock, volunteer):
    _, first = volunteer()
    _, second = volunteer()
    original = file(client, first)
    file(client, first, category="sanitation")  # another category: not offered
    file(client, first, lat=23.1391, lng=113.3437)  # about 1.1 km away: not offered
    clock.advance(hours=1)
    again = file(client, second, lat=23.1295, lng=113.3440)  # about 50 m away
    assert [r["id"] for r in again["duplicates_nearby"]] == [original["id"]]
    clock.advance(hours=80)  # outside the 72-hour window
    late = file(client, second, lat=23.1295, lng=113.3440)
    assert original["id"] not in [r["id"] for r in late["duplicates_nearby"]]


def test_candidates_come_nearest_first_in_the_same_order_every_time(client, clock, volunteer, community):
    _, reporter = volunteer()
    far = file(client, reporter, lat=23.1291, lng=113.3446)["id"]  # about 90 m east
    clock.advance(minutes=5)
    close = file(client, reporter, lat=23.1291, lng=113.3439)["id"]  # about 20 m east
    clock.advance(minutes=5)
    middle = file(client, reporter, lat=23.1291, lng=113.3442)["id"]  # about 50 m east
    clock.advance(minutes=5)
    again = file(client, reporter)
    assert [r["id"] for r in again["duplicates_nearby"]] == [close, middle, far]
    for _ in range(3):
        shown = client.get(f"/api/v1/reports/{again['id']}", headers=community[1]).get_json()
        assert [r["id"] for r in shown["duplicates_nearby"]] == [close, middle, far]


def test_accepting_staff_see_candidates_and_merge_so_both_reporters_follow(client, volunteer, community, street, fire):
    first_user, first = volunteer()
    second_user, second = volunteer()
    original = file(client, first)["id"]
    copy = file(client, second, lat=23.1292, lng=113.3438)["id"]
    seen = client.get(f"/api/v1/reports/{copy}", headers=community[1]).get_json()
    assert [r["id"] for r in seen["duplicates_nearby"]] == [original]
    merged = act(client, community[1], copy, "merge", duplicate_of=original)
    assert merged["state"] == "duplicate" and merged["merged_into"] == original
    assert db.session.get(Report, int(copy)).merged_into_id == int(original)

    # the second reporter follows the case: may read it, and hears of its progress
    assert client.get(f"/api/v1/reports/{original}", headers=second).status_code == 200
    act(client, community[1], original, "accept")
    act(client, street[1], original, "dispatch")
    act(client, fire[1], original, "start")
    act(client, fire[1], original, "resolve", reason="已清理")
    kinds = db.session.execute(select(Notification.user_id).where(Notification.kind == "report_update")).scalars()
    told = list(kinds)
    assert told.count(second_user.id) >= 4 and told.count(first_user.id) >= 4
    assert act(client, second, original, "confirm")["state"] == "confirmed"


def test_merge_needs_a_live_target(client, volunteer, community):
    _, headers = volunteer()
    rid = file(client, headers)["id"]
    assert act(client, community[1], rid, "merge", status=422)["error"] == "duplicate_of_required"
    assert act(client, community[1], rid, "merge", status=409, duplicate_of=rid)["error"] == "merge_target_invalid"
    rejected = file(client, headers)["id"]
    act(client, community[1], rejected, "reject", reason="不属实")
    assert act(client, community[1], rid, "merge", status=409, duplicate_of=rejected)["error"] == \
        "merge_target_invalid"
    assert db.session.get(Report, int(rid)).state == "submitted"


def test_repeated_retries_make_one_report(client, volunteer):
    user, headers = volunteer()
    payload = body()
    statuses = sorted(client.post("/api/v1/reports", json=payload, headers=headers).status_code for _ in range(3))
    assert statuses == [200, 200, 201]
    assert len(db.session.execute(select(Report.id).where(Report.reporter_id == user.id)).all()) == 1
