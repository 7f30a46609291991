"""Benchmark yardsticks: absent unless BENCH_YARDSTICKS is on, refused in production, exactly one write."""
import pytest
import requests
from sqlalchemy import event, func, select

from app.yardsticks import BenchWrite, record_write
from config import ProductionConfig
from tests.servers import gunicorn
from tests.test_platform import _GOOD_BACKENDS, _GOOD_ENV


def _bench_rules(app):
    return [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/bench")]


def test_absent_by_default(app, client, db):
    assert _bench_rules(app) == []
    assert not any(path.startswith("/api/v1/bench") for path in client.get("/api/v1/openapi.json").json["paths"])
    for method, url in (("GET", "/api/v1/bench/json"), ("POST", "/api/v1/bench/write")):
        reply = client.open(url, method=method, json={"note": "x"} if method == "POST" else None)
        assert reply.status_code == 404 and reply.json["error"] == "not_found"
    assert db.session.scalar(select(func.count()).select_from(BenchWrite)) == 0


def test_production_refuses_yardsticks(monkeypatch):
    for key, value in _GOOD_ENV.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(RuntimeError) as refused:
        ProductionConfig.validate({**_GOOD_BACKENDS, "BENCH_YARDSTICKS": True})
    assert str(refused.value) == "Refusing to start in production: BENCH_YARDSTICKS is for benchmarks only"


def test_one_write_is_one_insert_and_one_commit(db):
    statements, commits = [], []
    engine = db.engine
    listen_sql = lambda conn, cursor, sql, *args: statements.append(sql)  # noqa: E731
    listen_commit = lambda conn: commits.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen_sql)
    event.listen(engine, "commit", listen_commit)
    try:
        row = record_write(note="yardstick")
    finally:
        event.remove(engine, "before_cursor_execute", listen_sql)
        event.remove(engine, "commit", listen_commit)
    assert len(statements) == 1 and statements[0].startswith("INSERT INTO bench_writes")
    assert len(commits) == 1
    db.session.remove()
    stored = db.session.get(BenchWrite, row.id)
    assert stored.note == "yardstick" and stored.created_at is not None


def test_served_under_gunicorn_when_enabled(app, db, tmp_path):
    with gunicorn(app, tmp_path, BENCH_YARDSTICKS="1") as base:
        ping = requests.get(f"{base}/api/v1/bench/json", timeout=5)
        wrote = requests.post(f"{base}/api/v1/bench/write", json={"note": "n1"}, timeout=5)
        too_long = requests.post(f"{base}/api/v1/bench/write", json={"note": "x" * 65}, timeout=5)
        spec = requests.get(f"{base}/api/v1/openapi.json", timeout=5).json()
    assert ping.status_code == 200 and ping.json() == {"status": "ok"}
    assert wrote.status_code == 201 and wrote.json()["id"].isdigit()
    assert too_long.status_code == 422 and "note" in too_long.json()["errors"]["json"]
    assert {"/api/v1/bench/json", "/api/v1/bench/write"} <= set(spec["paths"])
    rows = db.session.execute(select(BenchWrite.id, BenchWrite.note)).all()
    assert rows == [(int(wrote.json()["id"]), "n1")]
