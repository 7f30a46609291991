"""Categories and departments are data an admin edits; department staff accounts are scoped to the department's
area."""
from sqlalchemy import select

from app.auth.models import RoleGrant
from app.extensions import db
from app.reports.models import Category, DepartmentStaff


def test_categories_are_seeded_and_listed_publicly(client):
    rows = client.get("/api/v1/report-categories").get_json()
    assert [c["name"] for c in rows] == ["治安隐患", "消防隐患", "环境卫生", "占道经营", "噪音扰民", "矛盾纠纷",
                                         "设施损坏", "其他"]
    assert rows[1] | {} == {**rows[1], "department": "fire", "accept_hours": 2, "resolve_hours": 48,
                            "urgent_accept_hours": 1, "urgent_resolve_hours": 12}


def test_admin_adds_and_edits_a_category(client, admin, volunteer):
    created = client.post("/api/v1/report-categories", headers=admin[1], json={
        "code": "elevator", "name": "电梯故障", "department": "housing", "accept_hours": 2, "resolve_hours": 24,
        "urgent_accept_hours": 1, "urgent_resolve_hours": 6})
    assert created.status_code == 201 and created.get_json()["id"] == 9
    changed = client.put("/api/v1/report-categories/9", headers=admin[1], json={"resolve_hours": 12,
                                                                                "department": "fire"})
    assert changed.status_code == 200 and changed.get_json()["department"] == "fire"
    assert db.session.get(Category, 9).resolve_hours == 12
    taken = client.post("/api/v1/report-categories", headers=admin[1], json={
        "code": "elevator2", "name": "电梯故障", "department": "housing", "accept_hours": 2, "resolve_hours": 24,
        "urgent_accept_hours": 1, "urgent_resolve_hours": 6})
    assert taken.status_code == 409
    off = client.put("/api/v1/report-categories/9", headers=admin[1], json={"active": False})
    assert off.status_code == 200
    _, headers = volunteer()
    refused = client.post("/api/v1/reports", headers=headers, json={"client_key": "key-elevator-1",
                                                                    "category": "elevator", "text": "电梯停运"})
    assert refused.status_code == 422 and refused.get_json()["error"] == "category_inactive"
    assert client.put("/api/v1/report-categories/9", headers=headers, json={"active": True}).status_code == 403


def test_admin_adds_a_department_and_its_staff(client, admin):
    dept = client.post("/api/v1/report-departments", headers=admin[1],
                       json={"code": "water_tianhe", "name": "天河供水所", "area": "440106"})
    assert dept.status_code == 201
    dept_id = dept.get_json()["id"]
    staff = client.post(f"/api/v1/report-departments/{dept_id}/staff", headers=admin[1],
                        json={"username": "water_wushan", "password": "long-enough-pw", "area": "440106001"})
    assert staff.status_code == 201
    user_id = int(staff.get_json()["user_id"])
    assert db.session.get(DepartmentStaff, (dept_id, user_id)) is not None
    assert db.session.execute(select(RoleGrant.role, RoleGrant.area_code).where(RoleGrant.user_id == user_id)).all() \
        == [("department_staff", "440106001")]
    outside = client.post(f"/api/v1/report-departments/{dept_id}/staff", headers=admin[1],
                          json={"username": "water_far", "password": "long-enough-pw", "area": "440111"})
    assert outside.status_code == 422 and outside.get_json()["error"] == "area_outside_department"
    login = client.post("/api/v1/auth/login/password", json={"username": "water_wushan",
                                                             "password": "long-enough-pw"})
    assert login.status_code == 200


def test_bad_catalogue_requests_are_4xx(client, admin):
    nul = client.post("/api/v1/report-categories", headers=admin[1], json={
        "code": "nul_name", "name": "\u0000x", "department": "fire", "accept_hours": 2, "resolve_hours": 24,
        "urgent_accept_hours": 1, "urgent_resolve_hours": 6})
    assert nul.status_code == 422
    huge = 9223372036854775806
    assert client.put(f"/api/v1/report-categories/{huge}", headers=admin[1], json={"name": "x"}).status_code == 404
    staff = client.post(f"/api/v1/report-departments/{huge}/staff", headers=admin[1],
                        json={"username": "abc", "password": "long-enough-pw", "area": "4401"})
    assert staff.status_code == 404
    assert db.session.execute(select(Category).where(Category.code == "nul_name")).first() is None
