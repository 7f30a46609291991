"""`flask seed demo` (what `make run` does) works and is idempotent."""
from sqlalchemy import func, select

from app.auth.models import User


def test_seed_demo_twice(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    users = db.session.execute(select(func.count()).select_from(User)).scalar()
    second = runner.invoke(args=["seed", "demo"])
    assert second.exit_code == 0, second.output
    assert db.session.execute(select(func.count()).select_from(User)).scalar() == users
    assert "demo account admin" in first.output and "demo resident 13800138000" in first.output


def test_demo_accounts_sign_in(app, client):
    app.test_cli_runner().invoke(args=["seed", "demo"])
    r = client.post("/api/v1/auth/login/password", json={"username": "organiser_tianhe",
                                                         "password": "jiefang-demo-2026"})
    assert r.status_code == 200
    assert {"role": "organiser", "area": "440106"} in r.get_json()["user"]["roles"]
    code = client.post("/api/v1/auth/sms-codes", json={"phone": "13800138000"}).get_json()["debug_code"]
    r = client.post("/api/v1/auth/login/sms", json={"phone": "13800138000", "code": code})
    token = r.get_json()["access_token"]
    codes = client.get("/api/v1/health-codes", headers={"Authorization": f"Bearer {token}"}).get_json()["items"]
    assert len(codes) == 2 and all(c["verified"] for c in codes)
    assert {c["relation"] for c in codes} == {"self", "family"}
