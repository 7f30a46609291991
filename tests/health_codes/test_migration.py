"""Migration 0011 on a database with codes: each live code becomes its own person, unverified with a grace period;
a withdrawn code keeps no person; the dedupe markers move over."""
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _flask(db_path: Path, *args: str) -> None:
    env = {**os.environ, "FLASK_APP": "wsgi.py", "JIEFANG_ENV": "development", "DATABASE_URL": f"sqlite:///{db_path}",
           "REDIS_URL": ""}
    done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_existing_codes_become_unverified_persons(tmp_path):
    db_path = tmp_path / "old.db"
    _flask(db_path, "db", "upgrade", "0009")
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO users (id, is_active, created_at) VALUES (1, 1, '2026-01-01 00:00:00.000000')")
        for code_id, slot, doc_hash, colour, revoked in ((11, 0, "h" * 32, "red", None),
                                                         (12, None, None, "green", "2026-02-01 00:00:00.000000")):
            conn.execute(
                "INSERT INTO health_codes (id, owner_id, slot, ref, id_type, relation, doc_hash, consent_at, "
                "consent_policy, colour, colour_reason, colour_since, rules_version, created_at, revoked_at) VALUES "
                "(?, 1, ?, ?, 'cn_resident_id', 'self', ?, '2026-01-01 00:00:00.000000', '2026-11', ?, "
                "'official_red', '2026-01-02 00:00:00.000000', '2026.1', '2026-01-01 00:00:00.000000', ?)",
                (code_id, slot, f"{code_id:016x}", doc_hash, colour, revoked))
    _flask(db_path, "db", "upgrade")
    with sqlite3.connect(db_path) as conn:
        persons = conn.execute("SELECT id, doc_hash, colour, colour_reason, unlinked_at FROM health_persons").fetchall()
        codes = conn.execute("SELECT id, person_id, verified_at, verify_by IS NOT NULL FROM health_codes "
                             "ORDER BY id").fetchall()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert persons == [(11, "h" * 32, "red", "official_red", None)]
    assert codes == [(11, 11, None, 1), (12, None, None, 0)]
    assert "latest_visits" in tables and "latest_checkins" not in tables
