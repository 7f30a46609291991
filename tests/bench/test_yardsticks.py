"""Benchmark yardsticks: served by the bench's app only, their table in no app database, exactly one write."""
import requests
from sqlalchemy import event, inspect, select

from bench.yardsticks import record_write
from tests.servers import gunicorn


def _bench_rules(app):
    return [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/bench")]


def test_absent_from_the_app_and_its_schema(app, client, db):
    assert _bench_rules(app) == []
    assert not any(path.startswith("/api/v1/bench") for path in client.get("/api/v1/openapi.json").json["paths"])
    for method, url in (("GET", "/api/v1/bench/json"), ("POST", "/api/v1/bench/write")):
        reply = client.open(url, method=method, json={"note": "x"} if method == "POST" else None)
        assert reply.status_code == 404 and reply.json["error"] == "not_found"
    assert "bench_writes" not in db.metadata.tables
    assert not inspect(db.engine).has_table("bench_writes")  # the migrations leave none behind


def test_one_write_is_one_insert_and_one_commit(db, bench_writes):
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
    stored = db.session.get(bench_writes, row.id)
    assert stored.note == "yardstick" and stored.created_at is not None
    db.session.execute(bench_writes.__table__.delete())
    db.session.commit()


def test_served_by_the_bench_app_under_gunicorn(app, db, tmp_path, bench_writes):
    with gunicorn(app, tmp_path, target="bench.wsgi:app") as base:
        ping = requests.get(f"{base}/api/v1/bench/json", timeout=5)
        wrote = requests.post(f"{base}/api/v1/bench/write", json={"note": "n1"}, timeout=5)
        too_long = requests.post(f"{base}/api/v1/bench/write", json={"note": "x" * 65}, timeout=5)
        spec = requests.get(f"{base}/api/v1/openapi.json", timeout=5).json()
    assert ping.status_code == 200 and ping.json() == {"status": "ok"}
    assert wrote.status_code == 201 and wrote.json()["id"].isdigit()
    assert too_long.status_code == 422 and "note" in too_long.json()["errors"]["json"]
    assert {"/api/v1/bench/json", "/api/v1/bench/write"} <= set(spec["paths"])
    rows = db.session.execute(select(bench_writes.id, bench_writes.note)).all()
    assert rows == [(int(wrote.json()["id"]), "n1")]
    db.session.execute(bench_writes.__table__.delete())
    db.session.commit()


def test_the_bench_app_creates_its_table_where_it_is_missing(app, db, tmp_path, bench_writes):
    from bench import yardsticks

    db.session.remove()
    yardsticks.drop_table(db.engine)
    with gunicorn(app, tmp_path, target="bench.wsgi:app") as base:
        wrote = requests.post(f"{base}/api/v1/bench/write", json={"note": "fresh"}, timeout=5)
    assert wrote.status_code == 201
    assert db.session.execute(select(bench_writes.note)).scalars().all() == ["fresh"]
    db.session.execute(bench_writes.__table__.delete())
    db.session.commit()
