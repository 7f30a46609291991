"""街坊群: creating groups inside an area, joining (open/approval), leaders, leaving, member lists, suggestions."""
import pytest
from sqlalchemy import func, select

from app.volunteers import membership
from app.volunteers.models import Group, GroupMember
from tests.invitation_helpers import accept_latest
from tests.volunteer_helpers import (
    GRID_A1,
    GRID_B,
    GRID_OTHER_STREET,
    TIANHE,
    WUSHAN,
    YUANCUN,
    make_group,
    member_count,
    members_of,
    register,
)


@pytest.fixture
def organiser(login):
    return login("organiser", WUSHAN)[1]


# ---- creating and editing ------------------------------------------------------------------------------------------
def test_organiser_creates_groups_inside_their_area(client, organiser, db):
    group = make_group(client, organiser, description="快递小哥互助")
    assert group["kind"] == "trade" and group["trade"] == "express" and group["interest"] is None
    assert group["area_name"] == "五山街道" and group["member_count"] == 0 and group["auto"] is False
    interest = make_group(client, organiser, name="五山跑团", kind="interest", trade=None, interest="跑步")
    assert interest["interest"] == "running"
    local = make_group(client, organiser, name="华林一格", kind="locality", area=GRID_A1, trade=None)
    assert local["kind"] == "locality"
    assert db.session.execute(select(func.count()).select_from(Group)).scalar() == 3


@pytest.mark.parametrize("area", [YUANCUN, TIANHE, "4401", GRID_OTHER_STREET])
def test_organiser_cannot_create_outside_their_area(client, organiser, db, area):
    r = client.post("/api/v1/groups", json={"name": "越界群", "kind": "trade", "area": area, "trade": "it"},
                    headers=organiser)
    assert r.status_code == 403 and r.get_json()["error"] == "area_forbidden"
    assert db.session.execute(select(func.count()).select_from(Group)).scalar() == 0


@pytest.mark.parametrize("body, error", [
    ({"kind": "trade", "trade": None}, "group_fields_invalid"),
    ({"kind": "trade", "interest": "running"}, "group_fields_invalid"),
    ({"kind": "interest", "trade": None}, "group_fields_invalid"),
    ({"kind": "locality"}, "group_fields_invalid"),
    ({"kind": "locality", "trade": None}, "group_area_invalid"),
    ({"trade": "astronaut"}, "trade_unknown"),
    ({"kind": "club"}, "validation_failed"),
    ({"join_policy": "invite"}, "validation_failed"),
    ({"name": ""}, "validation_failed"),
    ({"area": "abc"}, "validation_failed"),
])
def test_bad_group_bodies(client, organiser, db, body, error):
    payload = {"name": "坏群", "kind": "trade", "area": WUSHAN, "trade": "it", **body}
    r = client.post("/api/v1/groups", json={k: v for k, v in payload.items() if v is not None}, headers=organiser)
    assert r.status_code == 422 and r.get_json()["error"] == error
    assert db.session.execute(select(func.count()).select_from(Group)).scalar() == 0


def test_group_names_are_unique_in_an_area(client, organiser):
    make_group(client, organiser)
    r = client.post("/api/v1/groups", json={"name": "五山快递群", "kind": "interest", "area": WUSHAN,
                                            "interest": "running"}, headers=organiser)
    assert r.status_code == 409 and r.get_json()["error"] == "group_name_taken"


def test_residents_and_volunteers_cannot_create_groups(client, login):
    for role in ("resident", "volunteer", "venue_staff"):
        r = client.post("/api/v1/groups", json={}, headers=login(role)[1])
        assert r.status_code == 403 and r.get_json()["error"] == "role_forbidden"


def test_edit_a_group(client, organiser, login, db):
    group = make_group(client, organiser)
    r = client.patch(f"/api/v1/groups/{group['id']}", json={"join_policy": "approval", "description": "需审核"},
                     headers=organiser)
    assert r.status_code == 200 and r.get_json()["join_policy"] == "approval"
    assert db.session.get(Group, int(group["id"])).description == "需审核"
    other = login("organiser", YUANCUN)[1]
    r = client.patch(f"/api/v1/groups/{group['id']}", json={"name": "抢来的"}, headers=other)
    assert r.status_code == 403 and r.get_json()["error"] == "area_forbidden"
    assert client.patch(f"/api/v1/groups/{group['id']}", json={}, headers=organiser).status_code == 422
    assert client.patch("/api/v1/groups/987654321", json={"name": "x"}, headers=organiser).status_code == 404


def test_automatic_group_stays_open(client, login, organiser, db):
    register(client, login)
    auto = db.session.execute(select(Group).where(Group.auto_area == GRID_A1[:12])).scalar_one()
    r = client.patch(f"/api/v1/groups/{auto.id}", json={"join_policy": "approval"}, headers=organiser)
    assert r.status_code == 409 and r.get_json()["error"] == "group_automatic"


# ---- listing -------------------------------------------------------------------------------------------------------
def test_list_and_filter_groups(client, organiser, resident, login):
    register(client, login)  # creates the automatic group of 华林社区
    make_group(client, organiser)
    make_group(client, organiser, name="五山跑团", kind="interest", trade=None, interest="running")
    make_group(client, login("organiser", YUANCUN)[1], name="员村快递群", area=YUANCUN)
    h = resident[1]

    def names(query):
        r = client.get(f"/api/v1/groups?{query}", headers=h)
        assert r.status_code == 200
        return sorted(g["name"] for g in r.get_json()["items"])

    assert names("kind=trade") == ["五山快递群", "员村快递群"]
    assert names(f"area={WUSHAN}") == ["五山华林社区街坊群", "五山快递群", "五山跑团"]
    assert names("trade=express&area=440106") == ["五山快递群", "员村快递群"]
    assert names("interest=跑步") == ["五山跑团"]
    assert names("q=快递") == ["五山快递群", "员村快递群"]
    assert names("q=%25") == []
    auto = client.get("/api/v1/groups?kind=locality", headers=h).get_json()["items"][0]
    assert auto["auto"] is True and auto["member_count"] == 1
    assert client.get("/api/v1/groups?trade=astronaut", headers=h).status_code == 422
    assert client.get("/api/v1/groups?area=44019900", headers=h).status_code == 404


def test_group_pages_are_keyset(client, login, db):
    organiser = login("organiser", TIANHE)[1]
    for n in range(7):
        make_group(client, organiser, name=f"天河群{n}", area=TIANHE if n % 2 else WUSHAN)
    seen, cursor = [], None
    while True:
        url = "/api/v1/groups?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=organiser).get_json()
        seen += [(g["area"], int(g["id"])) for g in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 7 and seen == sorted(seen)
    assert client.get("/api/v1/groups?cursor=garbage", headers=organiser).get_json()["error"] == "cursor_invalid"


def test_get_one_group(client, organiser, resident):
    group = make_group(client, organiser)
    assert client.get(f"/api/v1/groups/{group['id']}", headers=resident[1]).get_json() == group
    r = client.get("/api/v1/groups/987654321", headers=resident[1])
    assert r.status_code == 404 and r.get_json()["error"] == "group_not_found"
    assert client.get("/api/v1/groups/99999999999999999999", headers=resident[1]).status_code == 404


# ---- joining -------------------------------------------------------------------------------------------------------
def test_join_an_open_group(client, organiser, login, db):
    group = make_group(client, organiser)
    _, headers, me = register(client, login)
    r = client.post(f"/api/v1/groups/{group['id']}/members", json={}, headers=headers)
    assert r.status_code == 201
    body = r.get_json()
    assert body["status"] == "active" and body["role"] == "member" and body["real_name"] == "陈*文"
    again = client.post(f"/api/v1/groups/{group['id']}/members", json={}, headers=headers)
    assert again.status_code == 200 and again.get_json()["status"] == "active"
    assert members_of(db, group["id"]) == {(int(me["id"]), "active", "member")}
    assert member_count(db, group["id"]) == 1
    groups = client.get("/api/v1/volunteers/me", headers=headers).get_json()["groups"]
    assert [g["name"] for g in groups] == ["五山华林社区街坊群", "五山快递群"]


def test_approval_group_flow(client, organiser, login, db):
    group = make_group(client, organiser, join_policy="approval")
    _, headers, me = register(client, login)
    r = client.post(f"/api/v1/groups/{group['id']}/members", json={}, headers=headers)
    assert r.status_code == 201 and r.get_json()["status"] == "pending"
    assert member_count(db, group["id"]) == 0
    pending = client.get(f"/api/v1/groups/{group['id']}/members?status=pending", headers=organiser).get_json()
    assert [m["volunteer_id"] for m in pending["items"]] == [me["id"]]
    r = client.patch(f"/api/v1/groups/{group['id']}/members/{me['id']}", json={"status": "active"},
                     headers=organiser)
    assert r.status_code == 200 and r.get_json()["status"] == "active"
    assert member_count(db, group["id"]) == 1
    client.patch(f"/api/v1/groups/{group['id']}/members/{me['id']}", json={"status": "active"}, headers=organiser)
    assert member_count(db, group["id"]) == 1  # approving twice counts once
    r = client.patch(f"/api/v1/groups/{group['id']}/members/{me['id']}", json={"status": "rejected"},
                     headers=organiser)
    assert r.status_code == 409 and r.get_json()["error"] == "membership_active"


def test_reject_a_request(client, organiser, login, db):
    group = make_group(client, organiser, join_policy="approval")
    _, headers, me = register(client, login)
    client.post(f"/api/v1/groups/{group['id']}/members", json={}, headers=headers)
    r = client.patch(f"/api/v1/groups/{group['id']}/members/{me['id']}", json={"status": "rejected"},
                     headers=organiser)
    assert r.status_code == 200 and r.get_json()["status"] == "rejected"
    assert members_of(db, group["id"]) == set() and member_count(db, group["id"]) == 0
    r = client.patch(f"/api/v1/groups/{group['id']}/members/{me['id']}", json={"status": "active"},
                     headers=organiser)
    assert r.status_code == 404 and r.get_json()["error"] == "membership_not_found"


def test_joining_rules(client, organiser, login, db):
    _, headers, me = register(client, login)
    auto = db.session.execute(select(Group).where(Group.auto_area == GRID_A1[:12])).scalar_one()
    r = client.post(f"/api/v1/groups/{auto.id}/members", json={}, headers=headers)
    assert r.status_code == 409 and r.get_json()["error"] == "group_automatic"
    elsewhere = make_group(client, organiser, name="荷塘一格", kind="locality", area=GRID_B, trade=None)
    r = client.post(f"/api/v1/groups/{elsewhere['id']}/members", json={}, headers=headers)
    assert r.status_code == 409 and r.get_json()["error"] == "group_out_of_area"
    r = client.post("/api/v1/groups/987654321/members", json={}, headers=headers)
    assert r.status_code == 404
    trade = make_group(client, organiser)
    r = client.post(f"/api/v1/groups/{trade['id']}/members", json={}, headers=login("organiser", WUSHAN)[1])
    assert r.status_code == 404 and r.get_json()["error"] == "volunteer_not_found"
    r = client.post(f"/api/v1/groups/{trade['id']}/members", json={"volunteer_id": "12a"}, headers=organiser)
    assert r.status_code == 422
    assert db.session.execute(select(func.count()).select_from(GroupMember)).scalar() == 0


def test_residents_cannot_join(client, organiser, resident):
    group = make_group(client, organiser)
    r = client.post(f"/api/v1/groups/{group['id']}/members", json={}, headers=resident[1])
    assert r.status_code == 403 and r.get_json()["error"] == "role_forbidden"


# ---- leaders and managers ------------------------------------------------------------------------------------------
def test_leaders_manage_members_but_do_not_appoint(client, organiser, login, db):
    group = make_group(client, organiser, join_policy="approval")
    _, lead_h, lead = register(client, login, real_name="梁志强")
    _, member_h, member = register(client, login, real_name="黄小燕")
    r = client.post(f"/api/v1/groups/{group['id']}/members", json={"volunteer_id": lead["id"]}, headers=organiser)
    assert r.status_code == 202
    accept_latest(client, lead_h, "group")
    r = client.patch(f"/api/v1/groups/{group['id']}/members/{lead['id']}", json={"role": "leader"}, headers=organiser)
    assert r.status_code == 200 and r.get_json()["role"] == "leader"
    assert membership.is_leader(int(group["id"]), int(lead["id"]))
    client.post(f"/api/v1/groups/{group['id']}/members", json={}, headers=member_h)
    listed = client.get(f"/api/v1/groups/{group['id']}/members", headers=lead_h)
    assert listed.status_code == 200
    items = {m["volunteer_id"]: m for m in listed.get_json()["items"]}
    assert items[member["id"]]["real_name"] == "黄*燕" and items[member["id"]]["status"] == "pending"
    assert "*" in items[member["id"]]["phone"]
    r = client.patch(f"/api/v1/groups/{group['id']}/members/{member['id']}", json={"status": "active"},
                     headers=lead_h)
    assert r.status_code == 200 and membership.is_member(int(group["id"]), int(member["id"]))
    r = client.patch(f"/api/v1/groups/{group['id']}/members/{member['id']}", json={"role": "leader"}, headers=lead_h)
    assert r.status_code == 403 and r.get_json()["error"] == "group_forbidden"
    r = client.get(f"/api/v1/groups/{group['id']}/members", headers=member_h)
    assert r.status_code == 403 and r.get_json()["error"] == "group_forbidden"
    r = client.delete(f"/api/v1/groups/{group['id']}/members/{lead['id']}", headers=member_h)
    assert r.status_code == 403
    assert member_count(db, group["id"]) == 2


def test_outside_organisers_cannot_manage(client, organiser, login):
    group = make_group(client, organiser)
    _, headers, me = register(client, login)
    client.post(f"/api/v1/groups/{group['id']}/members", json={}, headers=headers)
    other = login("organiser", YUANCUN)[1]
    for method, url, body in (("GET", "/members", None), ("PATCH", f"/members/{me['id']}", {"role": "leader"}),
                              ("DELETE", f"/members/{me['id']}", None),
                              ("POST", "/members", {"volunteer_id": me["id"]})):
        r = client.open(f"/api/v1/groups/{group['id']}{url}", method=method, json=body, headers=other)
        assert r.status_code == 403 and r.get_json()["error"] == "group_forbidden", (method, url)


def test_leave_and_remove(client, organiser, login, db):
    group = make_group(client, organiser)
    _, a_h, a = register(client, login)
    _, b_h, b = register(client, login)
    for h in (a_h, b_h):
        client.post(f"/api/v1/groups/{group['id']}/members", json={}, headers=h)
    assert member_count(db, group["id"]) == 2
    assert client.delete(f"/api/v1/groups/{group['id']}/members/{a['id']}", headers=a_h).status_code == 204
    assert client.delete(f"/api/v1/groups/{group['id']}/members/{b['id']}", headers=organiser).status_code == 204
    assert members_of(db, group["id"]) == set() and member_count(db, group["id"]) == 0
    r = client.delete(f"/api/v1/groups/{group['id']}/members/{a['id']}", headers=a_h)
    assert r.status_code == 404 and r.get_json()["error"] == "membership_not_found"


def test_automatic_group_members_and_leaders(client, organiser, login, db):
    _, a_h, a = register(client, login, real_name="陈一")
    _, _, b = register(client, login, real_name="陈二", grid=GRID_A1)
    register(client, login, grid=GRID_B)
    auto = db.session.execute(select(Group).where(Group.auto_area == GRID_A1[:12])).scalar_one()
    r = client.patch(f"/api/v1/groups/{auto.id}/members/{a['id']}", json={"role": "leader"}, headers=organiser)
    assert r.status_code == 200 and r.get_json()["role"] == "leader"
    page1 = client.get(f"/api/v1/groups/{auto.id}/members?limit=1", headers=a_h).get_json()
    page2 = client.get(f"/api/v1/groups/{auto.id}/members?limit=1&cursor={page1['next_cursor']}",
                       headers=a_h).get_json()
    listed = page1["items"] + page2["items"]
    assert {m["volunteer_id"] for m in listed} == {a["id"], b["id"]} and page2["next_cursor"] is None
    assert {m["role"] for m in listed} == {"leader", "member"}
    assert membership.is_member(auto.id, int(b["id"])) and not membership.is_leader(auto.id, int(b["id"]))
    r = client.delete(f"/api/v1/groups/{auto.id}/members/{b['id']}", headers=organiser)
    assert r.status_code == 409 and r.get_json()["error"] == "group_automatic"
    r = client.patch(f"/api/v1/groups/{auto.id}/members/{b['id']}", json={"status": "active"}, headers=organiser)
    assert r.status_code == 409
    client.patch(f"/api/v1/groups/{auto.id}/members/{a['id']}", json={"role": "member"}, headers=organiser)
    assert not membership.is_leader(auto.id, int(a["id"]))


# ---- suggestions ---------------------------------------------------------------------------------------------------
def test_group_suggestions_rank_near_first_and_skip_joined(client, login, db):
    tianhe = login("organiser", TIANHE)[1]
    liwan = login("organiser", "440103")[1]
    street = make_group(client, tianhe, name="五山快递群")
    district = make_group(client, tianhe, name="天河快递群", area=TIANHE)
    other_street = make_group(client, tianhe, name="员村跑团", kind="interest", trade=None, interest="running",
                              area=YUANCUN)
    make_group(client, tianhe, name="五山IT群", trade="it")  # another trade: not suggested
    make_group(client, liwan, name="荔湾快递群", area="440103")  # another district: not suggested
    joined = make_group(client, tianhe, name="五山反诈群", kind="interest", trade=None, interest="anti_fraud")
    _, headers, _ = register(client, login)
    client.post(f"/api/v1/groups/{joined['id']}/members", json={}, headers=headers)
    items = client.get("/api/v1/volunteers/me/group-suggestions", headers=headers).get_json()["items"]
    assert [(g["name"], g["distance"]) for g in items] == [
        ("五山快递群", "street"), ("天河快递群", "district"), ("员村跑团", "district")]
    assert items[0]["reason"] == "与您的行业相同" and items[2]["reason"] == "与您的兴趣相同"
    assert {street["id"], district["id"], other_street["id"]} == {g["id"] for g in items}


def test_done_when_flow(client, login, db):
    """A resident becomes a volunteer, lands in their community group, joins a trade and an interest group."""
    tianhe = login("organiser", TIANHE)[1]
    trade = make_group(client, tianhe, name="天河快递群", area=TIANHE)
    interest = make_group(client, tianhe, name="五山跑团", kind="interest", trade=None, interest="running")
    _, headers, me = register(client, login, grid=GRID_OTHER_STREET)
    suggested = [g["id"] for g in client.get("/api/v1/volunteers/me/group-suggestions",
                                             headers=headers).get_json()["items"]]
    assert suggested == [trade["id"], interest["id"]]
    for group_id in suggested:
        assert client.post(f"/api/v1/groups/{group_id}/members", json={}, headers=headers).status_code == 201
    groups = client.get("/api/v1/volunteers/me", headers=headers).get_json()["groups"]
    assert [g["name"] for g in groups] == ["员村宝岗社区街坊群", "天河快递群", "五山跑团"]
