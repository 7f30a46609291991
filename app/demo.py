"""A small demo data set for `make run`: one staff account per role, over real areas. Idempotent."""
from app.auth import service as auth_service
from app.extensions import db
from app.patrols import demo as patrol_demo
from app.reports import demo as report_demo
from app.volunteers import demo as volunteer_demo

DEMO_PASSWORD = "jiefang-demo-2026"
DEMO_RESIDENT_PHONE = "13800138000"
STAFF = [
    ("admin", "admin", "4401"),
    ("organiser_tianhe", "organiser", "440106"),
    ("organiser_wushan", "organiser", "440106001"),
    ("official", "health_official", "4401"),
    ("venue_staff", "venue_staff", "440106"),
]


def seed() -> list[str]:
    """Create the demo accounts; returns lines to print."""
    from app.health_codes import demo as health_code_demo

    lines = []
    for username, role, area in STAFF:
        auth_service.create_staff(username=username, password=DEMO_PASSWORD, role=role, area_code=area)
        lines.append(f"demo account {username} / {DEMO_PASSWORD}: {role} over {area}")
    resident = auth_service.resident_by_phone(DEMO_RESIDENT_PHONE)
    db.session.commit()
    lines.append(f"demo resident {DEMO_RESIDENT_PHONE}: sign in by SMS (the code comes back as debug_code)")
    lines += health_code_demo.seed(owner_id=resident.id)
    lines += volunteer_demo.seed_small()
    lines += patrol_demo.seed_small()
    lines += report_demo.seed_small(DEMO_PASSWORD)
    return lines
