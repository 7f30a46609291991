"""Services hand rows (or Views of rows) to the Read schemas, which rename, compute and mask: the bodies keep
their keys and masking, and a value a View leaves out is left out of the body."""
from datetime import datetime, timezone

from app.auth.admin_routes import AccountRead
from app.common.crypto import cipher
from app.common.views import View
from app.patrols.models import Patrol
from app.patrols.schemas import AttendanceRecord, PatrolRead
from app.volunteers.models import Group, Volunteer
from app.volunteers.schemas import GroupRead, MemberRead, VolunteerRead
from app.volunteers.service import NAME_AAD
from tests import factories

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


def _volunteer(name: str | None = "陈大文", grid: str | None = "44010600100101") -> Volunteer:
    return Volunteer(id=7120448265311742211, real_name_enc=cipher().encrypt(name, NAME_AAD) if name else None,
                     grid_code=grid, trade_id=None, interest_mask=0, service_roles=0b10010, created_at=NOW,
                     moved_at=NOW)


def test_a_view_reads_through_to_its_row_and_its_own_values_win():
    row = Group(id=5, name="五山快递街坊群", member_count=3)
    view = View(row, member_count=40, area_name="五山街道")
    assert (view.name, view.member_count, view.area_name, view.row) == ("五山快递街坊群", 40, "五山街道", row)
    outer = View(view, distance="street")
    assert (outer.distance, outer.area_name, outer.name) == ("street", "五山街道", "五山快递街坊群")
    try:
        view.my_membership
    except AttributeError:
        pass
    else:
        raise AssertionError("a value neither the view nor the row has is an AttributeError")


def test_volunteer_read_masks_the_name_and_phone_and_decodes_the_roles():
    body = VolunteerRead().dump(View(_volunteer(), phone="13812345678", trade="express", interests=["running"]))
    assert body == {"id": "7120448265311742211", "real_name": "陈*文", "phone": "138****5678",
                    "grid": "44010600100101", "trade": "express", "interests": ["running"],
                    "service_roles": ["patroller", "support"], "created_at": NOW.isoformat()}


def test_member_read_of_a_departed_volunteer_without_a_phone_shows_nulls():
    view = View(_volunteer(None, None), phone=None, status="active", role="member", joined_at=None)
    body = MemberRead().dump(view)
    assert body == {"volunteer_id": "7120448265311742211", "real_name": None, "phone": None, "grid": None,
                    "status": "active", "role": "member", "joined_at": None}


def test_group_read_leaves_out_my_membership_unless_the_view_has_one():
    group = Group(id=9, name="五山快递街坊群", kind="trade", area_code="440106001", trade_id=1, interest_id=None,
                  join_policy="open", description="", auto_area=None, member_count=2, created_at=NOW)
    plain = GroupRead().dump(View(group, area_name="五山街道", trade="express", interest=None))
    assert "my_membership" not in plain and plain["area"] == "440106001" and plain["member_count"] == 2
    mine = GroupRead().dump(View(group, area_name="五山街道", trade="express", interest=None, my_membership=None))
    assert mine["my_membership"] is None and plain["id"] == mine["id"] == "9" and plain["auto"] is False


def test_patrol_read_computes_seats_and_the_meeting_point_from_the_row():
    patrol = Patrol(id=11, group_id=9, area_code="440106001001", title="夜间巡逻", description="", starts_at=NOW,
                    ends_at=NOW, meeting_lat=23.1376, meeting_lng=113.352, radius_m=200, capacity=8,
                    active_count=3, points_per_hour=10, status="scheduled", cancel_reason=None, created_at=NOW)
    body = PatrolRead().dump(View(patrol, area_name="东风社区"))
    assert body["meeting_point"] == {"lat": 23.1376, "lng": 113.352}
    assert (body["signed_up"], body["seats_left"], body["area"], body["group_id"]) == (3, 5, "440106001001", "9")


def test_attendance_record_shows_tenths_as_hours_and_no_certification_unless_one_was_made():
    from app.patrols.models import Attendance, HoursCertification

    attendance = Attendance(volunteer_id=3, checked_in_at=NOW, checkin_distance_m=12, checked_out_at=None,
                            checkout_distance_m=None, auto_checkout=False, hours_tenths=None, certified_tenths=15,
                            certifications=1, review=None)
    body = AttendanceRecord().dump(View(attendance, name="陈*文"))
    assert (body["recorded_hours"], body["certified_hours"], body["name"]) == (None, 1.5, "陈*文")
    assert "certification" not in body
    made = HoursCertification(seq=2, hours_tenths=7, reason="提前离开", created_at=NOW)
    body = AttendanceRecord().dump(View(attendance, name="陈*文", certification=made))
    assert body["certification"] == {"seq": 2, "hours": 0.7, "reason": "提前离开", "created_at": NOW.isoformat()}


def test_account_read_lists_roles_in_order_and_says_whether_totp_is_bound(db):
    user = factories.user(roles=[("organiser", "440106"), ("admin", "440106"), ("organiser", "440103")],
                          username="li")
    body = AccountRead().dump(user)
    assert body["roles"] == [{"role": "admin", "area": "440106"}, {"role": "organiser", "area": "440103"},
                             {"role": "organiser", "area": "440106"}]
    assert (body["id"], body["totp_enrolled"], body["is_active"]) == (str(user.id), False, True)
    user.totp_enabled_at = NOW
    assert AccountRead().dump(user)["totp_enrolled"] is True


def test_admin_disable_answers_the_account_as_account_read_dumps_it(client, login):
    _admin, headers = login("admin", "4401")
    user = factories.user(roles=[("volunteer", "440106"), ("resident", "4401")])
    r = client.post(f"/api/v1/admin/users/{user.id}/disable", headers=headers)
    assert r.status_code == 200
    assert r.get_json() == {"id": str(user.id), "username": None, "is_active": False, "totp_enrolled": False,
                            "roles": [{"role": "resident", "area": "4401"}, {"role": "volunteer", "area": "440106"}]}
