"""Each action from every state it does not leave is a 409 naming the current state; each role may take only its
own steps (403) and sees only its own queue."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.reports.models import Report, Transition
from app.reports.workflow import ACTIONS
from tests.reports.helpers import FAR_GRID, OTHER_COMMUNITY_GRID, act, file

# The steps that bring a fresh report to each state: (who, action, extra)
PATHS = {
    "submitted": [],
    "accepted": [("community", "accept", {})],
    "rejected": [("community", "reject", {"reason": "不属实"})],
    "dispatched": [("community", "accept", {}), ("street", "dispatch", {})],
    "in_progress": [("community", "accept", {}), ("street", "dispatch", {}), ("fire", "start", {})],
    "resolved": [("community", "accept", {}), ("street", "dispatch", {}), ("fire", "start", {}),
                 ("fire", "resolve", {"reason": "已处理"})],
    "reopened": [("community", "accept", {}), ("street", "dispatch", {}), ("fire", "start", {}),
                 ("fire", "resolve", {"reason": "已处理"}), ("reporter", "reopen", {"reason": "未解决"})],
    "confirmed": [("community", "accept", {}), ("street", "dispatch", {}), ("fire", "start", {}),
                  ("fire", "resolve", {"reason": "已处理"}), ("reporter", "confirm", {})],
}
# Who may take each action (on a report in the right state)
ACTOR = {"accept": "community", "reject": "community", "merge": "community", "dispatch": "street",
         "hand_back": "fire", "start": "fire", "resolve": "fire", "confirm": "reporter", "reopen": "reporter"}
EXTRA = {"reject": {"reason": "x"}, "hand_back": {"reason": "x"}, "resolve": {"reason": "x"}, "reopen": {"reason": "x"}}
ILLEGAL = [(state, action) for state in PATHS for action in ACTIONS if state not in ACTIONS[action].sources]


@pytest.fixture
def cast(volunteer, community, street, fire):
    reporter = volunteer()
    return {"reporter": reporter[1], "community": community[1], "street": street[1], "fire": fire[1]}


def _bring(client, cast, state: str) -> str:
    rid = file(client, cast["reporter"])["id"]
    for who, action, extra in PATHS[state]:
        act(client, cast[who], rid, action, **extra)
    return rid


@pytest.mark.parametrize("state, action", ILLEGAL)
def test_illegal_transition_is_409_with_the_current_state(client, cast, state, action):
    rid = _bring(client, cast, state)
    other = file(client, cast["reporter"])["id"]
    extra = {**EXTRA.get(action, {}), **({"duplicate_of": other} if action == "merge" else {})}
    steps = db.session.execute(select(Transition.id).where(Transition.report_id == int(rid))).all()
    answer = act(client, cast[ACTOR[action]], rid, action, status=409, **extra)
    assert answer["error"] == "report_state_conflict" and answer["state"] == state and answer["action"] == action
    db.session.expire_all()
    assert db.session.get(Report, int(rid)).state == state
    assert db.session.execute(select(Transition.id).where(Transition.report_id == int(rid))).all() == steps


@pytest.mark.parametrize("action, wrong", [
    ("accept", "street"), ("accept", "fire"), ("accept", "reporter"), ("reject", "fire"), ("merge", "reporter"),
    ("dispatch", "community"), ("dispatch", "fire"), ("dispatch", "reporter"),
    ("start", "street"), ("start", "community"), ("start", "reporter"), ("resolve", "street"),
    ("hand_back", "community"), ("confirm", "fire"), ("confirm", "community"), ("reopen", "street"),
])
def test_each_step_belongs_to_its_role(client, cast, action, wrong):
    state = ACTIONS[action].sources[0]
    rid = _bring(client, cast, state)
    answer = act(client, cast[wrong], rid, action, status=403, **EXTRA.get(action, {}))
    assert answer["error"] == "report_action_forbidden"
    assert db.session.get(Report, int(rid)).state == state


def test_staff_of_another_area_or_department_are_denied(client, cast, login, department_staff):
    rid = _bring(client, cast, "submitted")
    other_community = login("community_staff", OTHER_COMMUNITY_GRID[:12])[1]
    assert act(client, other_community, rid, "accept", status=403)["error"] == "report_action_forbidden"
    assert client.get(f"/api/v1/reports/{rid}", headers=other_community).status_code == 403
    rid = _bring(client, cast, "dispatched")
    sanitation = department_staff("sanitation")[1]
    far_fire = department_staff("fire", FAR_GRID[:6])[1]
    for headers in (sanitation, far_fire):
        assert act(client, headers, rid, "start", status=403)["error"] == "report_action_forbidden"
    stranger = login("resident")[1]
    assert client.get(f"/api/v1/reports/{rid}", headers=stranger).status_code == 403
    assert db.session.get(Report, int(rid)).state == "dispatched"


def _queue(client, headers, queue: str, status: int = 200):
    response = client.get(f"/api/v1/reports?queue={queue}", headers=headers)
    assert response.status_code == status, response.get_json()
    return {item["id"] for item in response.get_json().get("items", [])}


def test_each_role_sees_only_its_queue(client, cast, login, department_staff):
    new = _bring(client, cast, "submitted")
    to_dispatch = _bring(client, cast, "accepted")
    at_fire = _bring(client, cast, "dispatched")
    elsewhere = file(client, cast["reporter"], grid=OTHER_COMMUNITY_GRID)["id"]
    assert _queue(client, cast["community"], "community") == {new}
    assert _queue(client, cast["street"], "street") == {to_dispatch}
    assert _queue(client, cast["fire"], "department") == {at_fire}
    assert _queue(client, department_staff("sanitation")[1], "department") == set()
    assert _queue(client, cast["reporter"], "mine") == {new, to_dispatch, at_fire, elsewhere}
    assert _queue(client, login("resident")[1], "mine") == set()


@pytest.mark.parametrize("who, queue", [("reporter", "community"), ("reporter", "department"), ("fire", "street"),
                                        ("community", "street"), ("street", "department"), ("fire", "community")])
def test_queue_denials(client, cast, who, queue):
    response = client.get(f"/api/v1/reports?queue={queue}", headers=cast[who])
    assert response.status_code == 403 and response.get_json()["error"] == "queue_forbidden"
