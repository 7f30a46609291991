"""亮码 from the cached token card (Redis): no SQL once cached, and never a colour or owner the database has
changed (the card is forgotten after the commit), nor a verdict that is due for review."""
from dataclasses import replace
from datetime import timedelta

import pytest

from app.health_codes import service
from tests.health_codes.conftest import URL
from tests.redis_fixtures import Statements, live, redis_server, use_redis  # noqa: F401 — fixtures


@pytest.fixture
def code(clock, resident, apply_code):
    return apply_code(resident[1])


def _colour(client, code, headers) -> str:
    r = client.get(f"{URL}/{code['id']}/token", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["colour"]


def test_second_token_runs_no_sql(client, db, clock, resident, code, live):
    assert _colour(client, code, resident[1]) == "green"
    card = live.get(f"cache:hc:{code['id']}").decode()
    assert card.startswith(f"{resident[0].id}|") and "|green|" in card
    with Statements(db.engine) as seen:
        r = client.get(f"{URL}/{code['id']}/token", headers=resident[1])
    assert r.status_code == 200 and r.get_json()["colour"] == "green"
    assert seen.sql == []  # principal, revocation and card all came in one Redis round trip


def test_official_colour_change_shows_at_once(client, db, clock, login, resident, code, live):
    assert _colour(client, code, resident[1]) == "green"
    service.official_set_colour(code_id=int(code["id"]), colour="red", reason="密接", official_id=login(
        "health_official")[0].id)
    assert live.get(f"cache:hc:{code['id']}") is None
    assert _colour(client, code, resident[1]) == "red"


def test_another_account_cannot_use_a_cached_card(client, db, clock, login, resident, code, live):
    assert _colour(client, code, resident[1]) == "green"
    _other, other_headers = login("resident")
    r = client.get(f"{URL}/{code['id']}/token", headers=other_headers)
    assert r.status_code == 404 and r.get_json()["error"] == "health_code_not_found"


def test_withdrawn_code_is_404_at_once(client, db, clock, resident, code, live):
    assert _colour(client, code, resident[1]) == "green"
    assert client.delete(f"{URL}/{code['id']}", headers=resident[1]).status_code in (200, 204)
    r = client.get(f"{URL}/{code['id']}/token", headers=resident[1])
    assert r.status_code == 404


def test_card_from_older_rules_goes_back_to_the_database(client, db, clock, login, resident, code, live):
    service.official_set_colour(code_id=int(code["id"]), colour="yellow", reason="次密接", official_id=login(
        "health_official")[0].id)
    assert _colour(client, code, resident[1]) == "yellow"
    card = service.Card.parse(live.get(f"cache:hc:{code['id']}").decode())
    assert card.colour == "yellow"
    live.set(f"cache:hc:{code['id']}", replace(card, colour="green").text())
    assert _colour(client, code, resident[1]) == "green"  # the card is trusted while it is usable...
    live.set(f"cache:hc:{code['id']}", replace(card, colour="green", rules_version="old-rules").text())
    assert _colour(client, code, resident[1]) != "green"  # ...not once the rules it came from changed


@pytest.mark.parametrize("text", [None, "", "x|y", "1|ab|purple||v1", "a|ab|green||v1", "1|ab|green||v1",
                                  "1|ab|green||v1|x|initial|", "1|ab|green||v1|5|no-such-reason|",
                                  "1|ab|green||v1|5|initial|not base64!"])
def test_unreadable_cards_are_ignored(text):
    assert service.Card.parse(text) is None


def test_card_is_unusable_once_its_review_is_due(clock):
    due = int(clock.now.timestamp()) + 60
    card = service.Card(7, "00" * 8, "yellow", due, service.rules.RULES_VERSION, 9, "no_risk", 11, None, b"\x01sealed")
    assert card.usable(7, clock.now) and not card.usable(8, clock.now)
    assert not card.usable(7, clock.now + timedelta(seconds=60))
    assert service.Card.parse(card.text()) == card
    unverified = replace(card, verify_by=int(clock.now.timestamp()) + 60)
    assert service.Card.parse(unverified.text()) == unverified
