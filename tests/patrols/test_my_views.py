"""My views: my sign-ups (upcoming first), my venues, and my membership in group detail and lists."""
from datetime import timedelta

from tests import factories
from tests.invitation_helpers import bind_inspector
from tests.patrols.helpers import NOW
from tests.volunteer_helpers import make_group


def test_my_signups_upcoming_first_then_past(client, new_patrol, volunteer, organiser, clock):
    later = new_patrol(title="晚班巡逻", starts_at=NOW + timedelta(days=2))
    sooner = new_patrol(title="早班巡逻", starts_at=NOW + timedelta(hours=3))
    past = new_patrol(title="已结束的巡逻", starts_at=NOW + timedelta(hours=1))
    full = new_patrol(title="满员巡逻", starts_at=NOW + timedelta(days=1), capacity=1)
    dropped = new_patrol(title="已退出的巡逻", starts_at=NOW + timedelta(days=3))
    user, headers, _ = volunteer()
    other = volunteer()
    assert client.post(f"/api/v1/patrols/{full['id']}/signups", headers=other[1]).status_code == 201
    for patrol in (later, sooner, past, full, dropped):
        assert client.post(f"/api/v1/patrols/{patrol['id']}/signups", headers=headers).status_code in (200, 201)
    assert client.delete(f"/api/v1/patrols/{dropped['id']}/signups/me", headers=headers).status_code == 200
    clock.advance(hours=4)  # the 11:00-13:00 patrol is over
    r = client.get("/api/v1/me/signups", headers=headers)
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert [i["patrol"]["title"] for i in items] == ["早班巡逻", "满员巡逻", "晚班巡逻", "已结束的巡逻"]
    assert [i["upcoming"] for i in items] == [True, True, True, False]
    assert [(i["status"], i["waitlist_position"]) for i in items][1] == ("waitlisted", 1)
    assert all(i["patrol_id"] == i["patrol"]["id"] for i in items)
    # someone else sees only their own; a non-volunteer sees none
    assert [i["patrol"]["title"] for i in client.get("/api/v1/me/signups", headers=other[1]).get_json()["items"]] \
        == ["满员巡逻"]
    assert client.get("/api/v1/me/signups", headers=organiser[1]).get_json() == {"items": []}
    assert client.get("/api/v1/me/signups").status_code == 401


def test_my_venues_for_their_admin_and_inspector(client, login):
    owner, owner_headers = login("resident")
    inspector, inspector_headers = login("resident", phone_number="13800000011")
    first, second = factories.venue(owner=owner), factories.venue(owner=owner, name="五山茶楼")
    factories.venue(name="别人的店")
    bind_inspector(client, second.id, owner_headers, "13800000011", inspector_headers)
    # GET /venues is for area staff only; their own venues they list here
    assert client.get("/api/v1/venues?area=4401", headers=owner_headers).status_code == 403
    mine = client.get("/api/v1/me/venues", headers=owner_headers).get_json()["items"]
    assert sorted((v["id"], v["my_role"]) for v in mine) == sorted([(str(second.id), "admin"),
                                                                    (str(first.id), "admin")])
    theirs = client.get("/api/v1/me/venues", headers=inspector_headers).get_json()["items"]
    assert [(v["name"], v["my_role"]) for v in theirs] == [("五山茶楼", "inspector")]
    assert client.get("/api/v1/me/venues", headers=login("resident")[1]).get_json() == {"items": []}


def test_membership_state_in_group_detail_and_lists(client, group, volunteer, organiser):
    approval = make_group(client, organiser[1], name="五山审核群", join_policy="approval")
    _, headers, _ = volunteer()
    assert client.post(f"/api/v1/groups/{approval['id']}/members", json={}, headers=headers).status_code == 201
    detail = client.get(f"/api/v1/groups/{approval['id']}", headers=headers).get_json()
    assert detail["my_membership"] == {"status": "pending", "role": "member"}
    community = client.get(f"/api/v1/groups/{group.id}", headers=headers).get_json()
    assert community["my_membership"] == {"status": "active", "role": "member"}  # lives there
    listed = {g["id"]: g["my_membership"] for g in client.get("/api/v1/groups", headers=headers).get_json()["items"]}
    assert listed[approval["id"]]["status"] == "pending" and listed[str(group.id)]["status"] == "active"
    outsider = client.get(f"/api/v1/groups/{approval['id']}", headers=organiser[1]).get_json()
    assert outsider["my_membership"] is None
