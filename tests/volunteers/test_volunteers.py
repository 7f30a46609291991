"""广州街坊 profiles and taxonomies: register, read, change, move, leave; trades and interests."""
import pytest
from sqlalchemy import func, select

from app.auth.models import RoleGrant, User
from app.volunteers.models import Group, GroupMember, Interest, Trade, Volunteer
from tests import factories
from tests.volunteer_helpers import (
    GRID_A1,
    GRID_A2,
    GRID_B,
    GRID_OTHER_DISTRICT,
    assert_counts_exact,
    count,
    profile_body,
    register,
    volunteer_row,
)


# ---- taxonomies ----------------------------------------------------------------------------------------------------
def test_seeded_taxonomies_are_public(client):
    trades = client.get("/api/v1/trades").get_json()["items"]
    interests = client.get("/api/v1/interests").get_json()["items"]
    assert len(trades) == 16 and {"name": "快递物流", "code": "express", "builtin": True} in trades
    assert len(interests) == 14 and any(i["name"] == "反诈宣传" for i in interests)


def test_admin_adds_a_trade(client, admin, db):
    r = client.post("/api/v1/trades", json={"code": "chef", "name": "厨师"}, headers=admin[1])
    assert r.status_code == 201 and r.get_json() == {"code": "chef", "name": "厨师", "builtin": False}
    assert db.session.execute(select(Trade).where(Trade.code == "chef")).scalar_one().id == 17
    again = client.post("/api/v1/trades", json={"code": "cook", "name": "厨师"}, headers=admin[1])
    assert again.status_code == 409 and again.get_json()["error"] == "trade_exists"


@pytest.mark.parametrize("body", [{}, {"code": "Chef", "name": "厨师"}, {"code": "chef", "name": " "},
                                  {"code": "c", "name": "厨师"}, {"code": "chef", "name": "x" * 40}])
def test_taxonomy_bad_input(client, admin, body):
    r = client.post("/api/v1/interests", json=body, headers=admin[1])
    assert r.status_code == 422 and r.get_json()["error"] == "validation_failed"


def test_only_city_admins_extend_taxonomies(client, login, db):
    _, district_admin = login("admin", "440106")
    r = client.post("/api/v1/interests", json={"code": "chess", "name": "象棋"}, headers=district_admin)
    assert r.status_code == 403 and r.get_json()["error"] == "area_forbidden"
    _, organiser = login("organiser")
    assert client.post("/api/v1/interests", json={"code": "chess", "name": "象棋"},
                       headers=organiser).status_code == 403
    assert db.session.execute(select(func.count()).select_from(Interest)).scalar() == 14


def test_interests_stop_at_63(client, admin, db):
    db.session.add_all([Interest(id=n, code=f"extra{n}", name=f"兴趣{n}") for n in range(15, 64)])
    db.session.commit()
    r = client.post("/api/v1/interests", json={"code": "chess", "name": "象棋"}, headers=admin[1])
    assert r.status_code == 409 and r.get_json()["error"] == "interest_limit_reached"


# ---- registration --------------------------------------------------------------------------------------------------
def test_resident_becomes_a_volunteer(client, login, db):
    user, headers, body = register(client, login)
    assert body["real_name"] == "陈*文" and body["phone"].count("*") == 4 and body["grid"] == GRID_A1
    assert body["trade"] == "express" and body["interests"] == ["running", "anti_fraud"]
    assert body["service_roles"] == ["patroller"]
    v = volunteer_row(db, body["id"])
    assert v.user_id == user.id and v.real_name_enc and "陈大文".encode() not in v.real_name_enc
    assert v.consent_at is not None and v.source == "self"
    roles = set(db.session.execute(select(RoleGrant.role).where(RoleGrant.user_id == user.id)).scalars())
    assert roles == {"resident", "volunteer"}
    assert count("total", "4401") == count("total", GRID_A1) == count("trade", "440106001", "express") == 1
    assert count("interest", "440106", "running") == count("service_role", "4401", "patroller") == 1
    assert_counts_exact()
    group = db.session.execute(select(Group).where(Group.auto_area == GRID_A1[:12])).scalar_one()
    assert group.kind == "locality" and group.name == "五山华林社区街坊群"


def test_me_shows_areas_and_the_community_group(client, login):
    _, headers, _ = register(client, login)
    me = client.get("/api/v1/volunteers/me", headers=headers).get_json()
    assert me["areas"]["street"] == {"code": "440106001", "name": "五山街道"}
    assert me["areas"]["grid"]["code"] == GRID_A1 and me["areas"]["district"]["name"] == "天河区"
    assert [(g["name"], g["auto"], g["status"]) for g in me["groups"]] == [("五山华林社区街坊群", True, "active")]


def test_registering_twice_is_refused(client, login, db):
    _, headers, _ = register(client, login)
    r = client.post("/api/v1/volunteers", json=profile_body(real_name="李四"), headers=headers)
    assert r.status_code == 409 and r.get_json()["error"] == "volunteer_exists"
    assert db.session.execute(select(func.count()).select_from(Volunteer)).scalar() == 1
    assert count("total", "4401") == 1


@pytest.mark.parametrize("change, status, error", [
    ({"consent": False}, 422, "validation_failed"),
    ({"consent": None}, 422, "validation_failed"),
    ({"trade": "astronaut"}, 422, "trade_unknown"),
    ({"interests": ["running", "chess"]}, 422, "interest_unknown"),
    ({"interests": ["running", "cycling", "tai_chi", "basketball", "photography", "calligraphy"]}, 422,
     "validation_failed"),
    ({"service_roles": []}, 422, "validation_failed"),
    ({"service_roles": ["captain"]}, 422, "validation_failed"),
    ({"grid": "440106001001"}, 422, "validation_failed"),
    ({"grid": "44019900100101"}, 404, "area_not_found"),
    ({"real_name": "Robert'); DROP"}, 422, "validation_failed"),
    ({"real_name": ""}, 422, "validation_failed"),
])
def test_registration_bad_input_changes_nothing(client, login, db, change, status, error):
    user, headers = login("resident")
    body = profile_body(**change)
    r = client.post("/api/v1/volunteers", json=body, headers=headers)
    assert r.status_code == status and r.get_json()["error"] == error
    assert db.session.execute(select(func.count()).select_from(Volunteer)).scalar() == 0
    assert db.session.execute(select(func.count()).select_from(RoleGrant).where(
        RoleGrant.user_id == user.id, RoleGrant.role == "volunteer")).scalar() == 0
    assert db.session.execute(select(func.count()).select_from(Group)).scalar() == 0


def test_trade_and_interests_by_chinese_name(client, login):
    _, _, body = register(client, login, trade="外卖配送", interests=["广场舞"])
    assert body["trade"] == "food_delivery" and body["interests"] == ["square_dance"]


def test_account_without_phone_cannot_register(client, db):
    staff = factories.user(roles=[("organiser", "440106")], username="org1", password="long-enough-pw")
    r = client.post("/api/v1/volunteers", json=profile_body(), headers=factories.auth_headers(staff))
    assert r.status_code == 422 and r.get_json()["error"] == "phone_required"


def test_me_for_a_non_volunteer(client, resident):
    for method in ("GET", "PATCH", "DELETE"):
        r = client.open("/api/v1/volunteers/me", method=method, headers=resident[1],
                        json={"trade": "it"} if method == "PATCH" else None)
        assert r.status_code == 404 and r.get_json()["error"] == "volunteer_not_found"
    assert client.get("/api/v1/volunteers/me/group-suggestions", headers=resident[1]).status_code == 404


# ---- changes -------------------------------------------------------------------------------------------------------
def test_change_of_trade_and_interests_moves_the_counts(client, login, db):
    _, headers, body = register(client, login)
    r = client.patch("/api/v1/volunteers/me", json={"trade": "it", "interests": ["tai_chi"],
                                                    "service_roles": ["guide", "informant"]}, headers=headers)
    assert r.status_code == 200
    me = r.get_json()
    assert me["trade"] == "it" and me["interests"] == ["tai_chi"] and me["service_roles"] == ["informant", "guide"]
    assert count("trade", "4401", "express") == 0 and count("trade", "4401", "it") == 1
    assert count("interest", "440106001", "running") == 0 and count("interest", "440106001", "tai_chi") == 1
    assert count("service_role", "440106", "patroller") == 0 and count("total", "4401") == 1
    assert_counts_exact()


def test_rename_keeps_counts_and_masks(client, login, db):
    _, headers, body = register(client, login)
    me = client.patch("/api/v1/volunteers/me", json={"real_name": "欧阳小明"}, headers=headers).get_json()
    assert me["real_name"] == "欧**明"
    assert count("total", "4401") == 1


def test_moving_grid_moves_the_volunteer_between_community_groups(client, login, db):
    organiser = login("organiser", "440106001")[1]
    _, headers, body = register(client, login)
    old_group = db.session.execute(select(Group).where(Group.auto_area == GRID_A1[:12])).scalar_one()
    local = client.post("/api/v1/groups", json={"name": "华林一格", "kind": "locality", "area": GRID_A1},
                        headers=organiser).get_json()
    assert client.post(f"/api/v1/groups/{local['id']}/members", json={}, headers=headers).status_code == 201
    assert client.patch(f"/api/v1/groups/{old_group.id}/members/{body['id']}", json={"role": "leader"},
                        headers=organiser).status_code == 200
    same_community = client.patch("/api/v1/volunteers/me", json={"grid": GRID_A2}, headers=headers).get_json()
    assert [g["name"] for g in same_community["groups"]] == ["五山华林社区街坊群"]  # grid group left, leader kept
    assert same_community["groups"][0]["role"] == "leader"
    moved = client.patch("/api/v1/volunteers/me", json={"grid": GRID_B}, headers=headers).get_json()
    assert [(g["name"], g["role"]) for g in moved["groups"]] == [("五山荷塘社区街坊群", "member")]
    assert count("total", GRID_A1[:12]) == 0 and count("total", GRID_B) == count("total", "440106001") == 1
    assert db.session.execute(select(func.count()).select_from(GroupMember)).scalar() == 0
    assert db.session.get(Group, int(local["id"])).member_count == 0
    assert volunteer_row(db, body["id"]).moved_at is not None
    assert_counts_exact()


def test_move_to_another_district(client, login):
    _, headers, _ = register(client, login)
    client.patch("/api/v1/volunteers/me", json={"grid": GRID_OTHER_DISTRICT}, headers=headers)
    assert count("total", "440106") == 0 and count("total", "440103") == 1 and count("total", "4401") == 1
    assert count("trade", "440103", "express") == 1 and count("trade", "440106", "express") == 0
    assert_counts_exact()


def test_empty_or_bad_patch(client, login):
    _, headers, _ = register(client, login)
    assert client.patch("/api/v1/volunteers/me", json={}, headers=headers).status_code == 422
    r = client.patch("/api/v1/volunteers/me", json={"grid": "44019900100101"}, headers=headers)
    assert r.status_code == 404 and count("total", GRID_A1) == 1


# ---- leaving -------------------------------------------------------------------------------------------------------
def test_leaving_erases_the_person_and_keeps_the_row(client, login, db):
    organiser = login("organiser", "440106")[1]
    user, headers, body = register(client, login)
    group = client.post("/api/v1/groups", json={"name": "天河快递", "kind": "trade", "area": "440106",
                                                "trade": "express"}, headers=organiser).get_json()
    client.post(f"/api/v1/groups/{group['id']}/members", json={}, headers=headers)
    r = client.delete("/api/v1/volunteers/me", headers=headers)
    assert r.status_code == 204
    v = volunteer_row(db, body["id"])
    assert (v.user_id, v.real_name_enc, v.name_index, v.grid_code, v.trade_id) == (None, None, None, None, None)
    assert v.interest_mask == v.service_roles == 0 and v.left_at is not None
    assert count("total", "4401") == 0 and count("trade", "440106", "express") == 0
    assert db.session.get(Group, int(group["id"])).member_count == 0
    assert db.session.execute(select(func.count()).select_from(GroupMember)).scalar() == 0
    assert "volunteer" not in {g.role for g in db.session.get(User, user.id).grants}
    assert client.get("/api/v1/volunteers/me", headers=headers).status_code == 404
    again = client.post("/api/v1/volunteers", json=profile_body(), headers=headers)
    assert again.status_code == 201 and again.get_json()["id"] != body["id"]
    assert_counts_exact()


def test_leaving_needs_a_fresh_sign_in(client, login):
    user, _, _ = register(client, login)
    r = client.delete("/api/v1/volunteers/me", headers=factories.auth_headers(user, fresh=False))
    assert r.status_code == 403 and r.get_json()["error"] == "fresh_token_required"
    assert count("total", "4401") == 1
