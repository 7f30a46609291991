"""A small demo data set for `make run`: one staff account per role, over real areas. Idempotent."""
from app.auth import service as auth_service
from app.patrols import demo as patrol_demo
from app.volunteers import demo as volunteer_demo

DEMO_PASSWORD = "jiefang-demo-2026"
STAFF = [
    ("admin", "admin", "4401"),
    ("organiser_tianhe", "organiser", "440106"),
    ("organiser_wushan", "organiser", "440106001"),
    ("official", "health_official", "4401"),
    ("venue_staff", "venue_staff", "440106"),
]


def seed() -> list[str]:
    """Create the demo accounts; returns lines to print."""
    lines = []
    for username, role, area in STAFF:
        auth_service.create_staff(username=username, password=DEMO_PASSWORD, role=role, area_code=area)
        lines.append(f"demo account {username} / {DEMO_PASSWORD}: {role} over {area}")
    lines += volunteer_demo.seed_small()
    lines += patrol_demo.seed_small()
    return lines
