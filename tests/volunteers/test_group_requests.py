"""GET /groups/pending: the groups of an organiser's area with join requests awaiting approval,
and how many each has."""
import pytest

from tests.volunteer_helpers import GRID_A1, GRID_OTHER_STREET, TIANHE, WUSHAN, YUANCUN, make_group, register


def ask_to_join(client, login, group, **profile):
    """A new volunteer asks to join the group; their volunteer id."""
    _, headers, me = register(client, login, **profile)
    r = client.post(f"/api/v1/groups/{group['id']}/members", json={}, headers=headers)
    assert r.status_code == 201 and r.get_json()["status"] == "pending"
    return me["id"]


@pytest.fixture
def tianhe(login):
    return login("organiser", TIANHE)[1]


PENDING = "/api/v1/groups/pending"


def test_lists_only_groups_with_requests_and_counts_them(client, login, tianhe):
    runners = make_group(client, tianhe, name="五山跑团", kind="interest", trade=None,
                         interest="running", join_policy="approval")
    couriers = make_group(client, tianhe, name="员村快递群", area=YUANCUN, join_policy="approval")
    make_group(client, tianhe, name="五山开放群")  # open: joins are never pending
    make_group(client, tianhe, name="五山待审空群", join_policy="approval")  # nobody asked
    ask_to_join(client, login, runners)
    ask_to_join(client, login, runners, grid=GRID_A1)
    ask_to_join(client, login, couriers, grid=GRID_OTHER_STREET)

    body = client.get(PENDING, headers=tianhe).get_json()
    assert [(g["name"], g["pending"], g["area"]) for g in body["items"]] == [
        ("五山跑团", 2, WUSHAN), ("员村快递群", 1, YUANCUN)]
    assert body["next_cursor"] is None

    only_wushan = client.get(f"{PENDING}?area={WUSHAN}", headers=tianhe).get_json()
    assert [g["name"] for g in only_wushan["items"]] == ["五山跑团"]


def test_pages_and_drops_a_group_once_its_requests_are_decided(client, login, tianhe):
    groups = [make_group(client, tianhe, name=f"五山审批群{i}", join_policy="approval")
              for i in range(3)]
    asked = [ask_to_join(client, login, g) for g in groups]
    order = sorted(range(3), key=lambda i: int(groups[i]["id"]))  # one area: id order
    groups, asked = [groups[i] for i in order], [asked[i] for i in order]
    first = client.get(f"{PENDING}?limit=2", headers=tianhe).get_json()
    assert [g["id"] for g in first["items"]] == [groups[0]["id"], groups[1]["id"]]
    rest = client.get(f"{PENDING}?limit=2&cursor={first['next_cursor']}", headers=tianhe).get_json()
    assert [g["id"] for g in rest["items"]] == [groups[2]["id"]] and rest["next_cursor"] is None

    r = client.patch(f"/api/v1/groups/{groups[0]['id']}/members/{asked[0]}",
                     json={"status": "active"}, headers=tianhe)
    assert r.status_code == 200
    left = client.get(PENDING, headers=tianhe).get_json()
    assert [g["id"] for g in left["items"]] == [groups[1]["id"], groups[2]["id"]]


def test_another_area_is_refused(client, login, tianhe):
    wushan = login("organiser", WUSHAN)[1]
    group = make_group(client, tianhe, name="员村快递群", area=YUANCUN, join_policy="approval")
    ask_to_join(client, login, group, grid=GRID_OTHER_STREET)
    r = client.get(f"{PENDING}?area={YUANCUN}", headers=wushan)
    assert r.status_code == 403 and r.get_json()["error"] == "area_forbidden"
    assert r.get_json()["message"] == "该区域不在您的管辖范围内"
    assert client.get(PENDING, headers=wushan).get_json()["items"] == []  # default: 五山街道 only


@pytest.mark.parametrize("query, status, error", [
    ("area=4401x", 422, None), ("area=440199", 404, "area_not_found"), ("limit=0", 422, None)])
def test_bad_queries_answer_the_envelope(client, tianhe, query, status, error):
    r = client.get(f"{PENDING}?{query}", headers=tianhe)
    body = r.get_json()
    assert r.status_code == status and body["message"] and body["error"] == (error or body["error"])
