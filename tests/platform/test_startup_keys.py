"""The serving entry point refuses to start, with one line, when a configured key is not the one the database
was written with (or the published signing key changed); with the right keys it starts."""
import base64
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from app.ops import keycheck
from app.ops.models import KeyCheck
from config import BASE_DIR

OTHER_KEY = base64.b64encode(b"another-data-key-32-bytes-long!!").decode()


def _serve(app, **env) -> subprocess.CompletedProcess:
    """Import wsgi (what gunicorn does) in a process of its own."""
    full = {k: v for k, v in os.environ.items() if k != "FLASK_RUN_FROM_CLI"}
    from config import SECRET_NAMES

    secrets = {name: app.config[name] for name in SECRET_NAMES}  # the keys the suite wrote the database with
    full.update({"JIEFANG_ENV": "development", "JIEFANG_ALLOW_DEVELOPMENT": "1", **secrets,
                 "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": "", **env})
    return subprocess.run([sys.executable, "-c", "import wsgi"], cwd=BASE_DIR, env=full, capture_output=True,
                          text=True, timeout=60)


def test_first_start_records_the_keys_and_a_restart_with_them_passes(app, db):
    assert keycheck.check() == []
    names = set(db.session.scalars(select(KeyCheck.name)))
    assert {"data:dev1", "blind_index", "venue_code", "patrol_checkin", "signing:dev1"} <= names
    assert keycheck.check() == [], "the same keys pass again"
    started = _serve(app)
    assert started.returncode == 0, started.stderr


@pytest.mark.parametrize("env, reason", [
    ({"DATA_ENCRYPTION_KEYS": f"dev1:{OTHER_KEY}"}, "DATA_ENCRYPTION_KEYS key 'dev1' does not decrypt"),
    ({"DATA_ENCRYPTION_KEYS": f"prod1:{OTHER_KEY}"}, "DATA_ENCRYPTION_KEYS holds none of this database's keys"),
    ({"BLIND_INDEX_KEY": "another-blind-index-key"}, "BLIND_INDEX_KEY differs"),
    ({"VENUE_CODE_KEY": "another-venue-key"}, "VENUE_CODE_KEY differs"),
    ({"PATROL_CHECKIN_KEY": "another-patrol-key"}, "PATROL_CHECKIN_KEY differs"),
    ({"HEALTH_CODE_SIGNING_KEYS": f"dev1:{OTHER_KEY}"},
     "HEALTH_CODE_SIGNING_KEYS key 'dev1' differs from the published key document"),
])
def test_other_keys_refuse_to_start_with_one_line(app, db, env, reason):
    assert keycheck.check() == []
    before = set(db.session.scalars(select(KeyCheck.name)))
    refused = _serve(app, **env)
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Refusing to start: ") and reason in lines[0], refused.stderr
    db.session.rollback()
    assert set(db.session.scalars(select(KeyCheck.name))) == before, "a refused start records nothing"


def test_a_new_signing_key_is_added_to_the_record(app, db):
    assert keycheck.check() == []
    added = _serve(app, HEALTH_CODE_SIGNING_KEYS=f"{app.config['HEALTH_CODE_SIGNING_KEYS']},k2:{OTHER_KEY}")
    assert added.returncode == 0, added.stderr
    db.session.rollback()
    assert db.session.scalar(select(KeyCheck.name).where(KeyCheck.name == "signing:k2")) == "signing:k2"
