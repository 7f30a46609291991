"""Names are NFKC and visible; posters are drawn once per venue and code version; venue creation, staff binding and
posters are limited per account."""
import pytest
from sqlalchemy import func, select

from app.common.fields import Name
from app.health_codes.schemas import HealthCodeCreate
from app.patrols.schemas import PatrolCreate, PatrolUpdate
from app.venues import poster
from app.venues.models import Venue, VenueStaff
from app.venues.schemas import VenueCreate, VenueUpdate
from app.volunteers.models import Group, Trade
from app.volunteers.schemas import GroupCreate, GroupUpdate, TaxonomyCreate, VolunteerCreate, VolunteerUpdate
from tests import factories
from tests.volunteer_helpers import WUSHAN, profile_body

VENUE = {"name": "天河城购物中心", "category": "商场", "address": "天河路208号", "area": "440106001001",
         "lat": 23.1375, "lng": 113.3235}
HIDDEN = ["\u202e", "\u2066", "\u200b", "\u200d", "\ufeff", "\x00", "\n", "\u061c"]


def test_every_free_text_name_is_a_name_field():
    named = [(VenueCreate, "name"), (VenueCreate, "address"), (VenueUpdate, "name"), (VenueUpdate, "address"),
             (VolunteerCreate, "real_name"), (VolunteerUpdate, "real_name"), (TaxonomyCreate, "name"),
             (GroupCreate, "name"), (GroupUpdate, "name"), (HealthCodeCreate, "name"), (PatrolCreate, "title"),
             (PatrolUpdate, "title")]
    assert [(s.__name__, f) for s, f in named if not isinstance(s().fields[f], Name)] == []


@pytest.mark.parametrize("char", HIDDEN)
def test_venue_names_with_hidden_characters_are_refused(client, db, login, char):
    _, headers = login("resident")
    for field in ("name", "address"):
        r = client.post("/api/v1/venues", json={**VENUE, field: f"天河{char}城"}, headers=headers)
        if char == "\x00":  # the input guard refuses a NUL anywhere in a body before any field is read
            assert r.status_code == 422 and r.get_json()["error"] == "nul_character"
        else:
            assert r.status_code == 422 and field in r.get_json()["errors"]["json"]
    assert db.session.execute(select(Venue)).first() is None


def test_names_are_nfkc_normalised(client, db, login):
    _, headers = login("resident")
    r = client.post("/api/v1/venues", json={**VENUE, "name": "ＡＢＣ咖啡　ｎｏ.１"}, headers=headers)
    assert r.status_code == 201 and r.get_json()["name"] == "ABC咖啡 no.1"
    assert db.session.execute(select(Venue.name)).scalar_one() == "ABC咖啡 no.1"


def test_volunteer_and_group_names_refuse_bidi_controls(client, db, login):
    _, headers = login("resident")
    r = client.post("/api/v1/volunteers", json=profile_body(real_name="陈\u202e文"), headers=headers)
    assert r.status_code == 422 and "real_name" in r.get_json()["errors"]["json"]
    _, organiser = login("organiser", WUSHAN)
    r = client.post("/api/v1/groups", json={"name": "五山\u200b快递群", "kind": "trade", "area": WUSHAN,
                                            "trade": "it"}, headers=organiser)
    assert r.status_code == 422 and "name" in r.get_json()["errors"]["json"]
    assert db.session.execute(select(func.count()).select_from(Group)).scalar() == 0


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\",\"点我\")", "+1", "-2", "@SUM(A1)", "\tx"])
def test_taxonomy_names_that_start_a_formula_are_refused(client, db, login, name):
    _, headers = login("admin")
    r = client.post("/api/v1/trades", json={"code": "evil", "name": name}, headers=headers)
    assert r.status_code == 422 and "name" in r.get_json()["errors"]["json"]
    r = client.post("/api/v1/interests", json={"code": "evil", "name": name}, headers=headers)
    assert r.status_code == 422
    assert db.session.execute(select(Trade).where(Trade.code == "evil")).first() is None


# ---- posters -------------------------------------------------------------------------------------------------------
@pytest.fixture
def drawn(monkeypatch):
    """Counts the posters actually drawn."""
    calls = []
    real = poster.render
    poster._drawn.cache_clear()
    monkeypatch.setattr(poster, "render", lambda **kw: calls.append(kw["version"]) or real(**kw))
    yield calls
    poster._drawn.cache_clear()


def test_a_poster_is_drawn_once_per_venue_and_code_version(client, login, drawn):
    _, headers = login("resident")
    venue = client.post("/api/v1/venues", json=VENUE, headers=headers).get_json()
    url = f"/api/v1/venues/{venue['id']}/poster.png"
    first, second = client.get(url, headers=headers), client.get(url, headers=headers)
    assert first.status_code == second.status_code == 200 and first.data == second.data and drawn == [1]
    assert client.post(f"/api/v1/venues/{venue['id']}/code/rotate", headers=headers).status_code == 200
    rotated = client.get(url, headers=headers)
    assert rotated.status_code == 200 and rotated.data != first.data and drawn == [1, 2]
    client.patch(f"/api/v1/venues/{venue['id']}", json={"name": "天河城"}, headers=headers)
    client.get(url, headers=headers)
    assert drawn == [1, 2, 2]
    assert poster._drawn.cache_info().maxsize == poster.POSTER_CACHE_SIZE


# ---- rate limits per account ---------------------------------------------------------------------------------------
def test_venue_creation_is_limited_per_account(app, client, db, login, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_VENUE_CREATE", "2 per hour")
    _, headers = login("resident")
    assert [client.post("/api/v1/venues", json=VENUE, headers=headers).status_code for _ in range(3)] == [201, 201,
                                                                                                          429]
    r = client.post("/api/v1/venues", json=VENUE, headers=headers)
    assert r.status_code == 429 and r.get_json()["error"] == "rate_limited"
    assert client.post("/api/v1/venues", json=VENUE, headers=login("resident")[1]).status_code == 201
    assert db.session.execute(select(func.count()).select_from(Venue)).scalar() == 3


def test_staff_binding_and_posters_are_limited_per_account(app, client, db, login, monkeypatch, drawn):
    monkeypatch.setitem(app.config, "RATELIMIT_VENUE_STAFF", "2 per hour")
    monkeypatch.setitem(app.config, "RATELIMIT_POSTER", "2 per hour")
    _, headers = login("resident")
    venue = client.post("/api/v1/venues", json=VENUE, headers=headers).get_json()
    phones = [factories.phone() for _ in range(3)]
    for number in phones:
        factories.user(phone_number=number)
    statuses = [client.post(f"/api/v1/venues/{venue['id']}/staff", json={"phone": n}, headers=headers).status_code
                for n in phones]
    assert 429 not in statuses[:2] and statuses[2] == 429
    assert db.session.execute(select(func.count()).select_from(VenueStaff)).scalar() <= 3
    url = f"/api/v1/venues/{venue['id']}/poster.png"
    assert [client.get(url, headers=headers).status_code for _ in range(3)] == [200, 200, 429]
