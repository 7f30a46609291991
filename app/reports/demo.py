"""The 有呼必应 demo: built-in departments and categories, and one account per step of the loop over 五山街道."""
from app.auth import service as auth_service
from app.reports import catalogue

STAFF = [("community_hualin", "community_staff", "440106001001"), ("street_wushan", "street_staff", "440106001"),
         ("district_tianhe", "street_staff", "440106")]
DEPARTMENT_STAFF = [("fire_tianhe", "fire", "440106"), ("sanitation_tianhe", "sanitation", "440106")]


def seed_small(password: str) -> list[str]:
    """Departments, categories and the loop's staff accounts (idempotent)."""
    added = catalogue.seed()
    lines = [f"report departments and categories: {added} added"]
    for username, role, area in STAFF:
        auth_service.create_staff(username=username, password=password, role=role, area_code=area)
        lines.append(f"demo account {username} / {password}: {role} over {area}")
    for username, department, area in DEPARTMENT_STAFF:
        dept = catalogue.department(department)
        catalogue.add_staff(department_id=dept.id, username=username, password=password, area=area)
        lines.append(f"demo account {username} / {password}: department_staff of {dept.name} over {area}")
    return lines
