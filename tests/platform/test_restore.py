"""Backup and restore as docs/operations.md says: pg_dump of a live database, pg_restore into a new one, the
app served on it with the same keys answers a smoke (sign-in finds the same account, token, verify, check-in);
with other data keys it refuses to start."""
import base64
import shutil
import subprocess
import time
from urllib.parse import urlsplit, urlunsplit

import pyotp
import pytest
import requests
from sqlalchemy import create_engine, text

from app.ops import keycheck
from tests import factories
from tests.servers import gunicorn

pytestmark = pytest.mark.postgres


def _pg_args(url: str) -> list[str]:
    parts = urlsplit(url)
    return ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]


def _sign_in(base: str, phone: str) -> dict:
    sent = requests.post(base + "/api/v1/auth/sms-codes", json={"phone": phone}, timeout=10)
    assert sent.status_code == 202, sent.text
    login = requests.post(base + "/api/v1/auth/login/sms", json={"phone": phone, "code": sent.json()["debug_code"]},
                          timeout=10)
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


@pytest.fixture
def restored_url(app):
    """A new database name next to the test database; dropped afterwards."""
    if not shutil.which("pg_dump") or not shutil.which("pg_restore"):
        pytest.skip("pg_dump / pg_restore are not installed")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    name = urlsplit(url).path.lstrip("/") + "_restored"
    admin = create_engine(urlunsplit(urlsplit(url)._replace(path="/postgres")), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield urlunsplit(urlsplit(url)._replace(path="/" + name))
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_dump_restore_and_smoke(app, client, tmp_path, restored_url):
    for run in ("wrong", "restored"):
        (tmp_path / run).mkdir()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    phone = factories.phone()
    # Verifies without a venue: a health official (venue staff name their venue).
    factories.user(roles=[("health_official", "4401")], username="door", password="door-password-1")
    owner = factories.user()
    venue = factories.venue(owner=owner)
    venue_code = client.get(f"/api/v1/venues/{venue.id}/code",
                            headers=factories.auth_headers(owner)).get_json()["venue_code"]
    code_id = str(factories.health_code(owner=factories.user(phone_number=phone)).id)
    assert keycheck.check() == []  # what the first start records
    dump = tmp_path / "jiefang.dump"
    plain = urlsplit(url).path.lstrip("/")
    subprocess.run(["pg_dump", *_pg_args(url), "-Fc", "-f", str(dump), plain], check=True, timeout=120)
    subprocess.run(["pg_restore", *_pg_args(url), "--no-owner", "--exit-on-error", "-d",
                    urlsplit(restored_url).path.lstrip("/"), str(dump)], check=True, timeout=120)

    other = base64.b64encode(b"a-different-data-key-of-32-bytes").decode()
    with pytest.raises(RuntimeError) as refused:
        with gunicorn(app, tmp_path / "wrong", DATABASE_URL=restored_url, DATA_ENCRYPTION_KEYS=f"dev1:{other}"):
            pass
    assert "Refusing to start: DATA_ENCRYPTION_KEYS key 'dev1' does not decrypt" in str(refused.value)

    with gunicorn(app, tmp_path / "restored", DATABASE_URL=restored_url) as base:
        resident = _sign_in(base, phone)
        codes = requests.get(base + "/api/v1/health-codes", headers=resident, timeout=10).json()
        assert [c["id"] for c in codes["items"]] == [code_id], "the same account, not a new empty one"
        token = requests.get(base + f"/api/v1/health-codes/{code_id}/token", headers=resident, timeout=10)
        assert token.status_code == 200
        door = {"username": "door", "password": "door-password-1"}  # an official: TOTP at every sign-in
        secret = requests.post(base + "/api/v1/auth/totp/enrolment", json=door, timeout=10).json()["secret"]
        second = pyotp.TOTP(secret)
        assert requests.post(base + "/api/v1/auth/totp/enrolment/confirm", json={**door, "totp": second.now()},
                             timeout=10).status_code == 200
        staff = requests.post(base + "/api/v1/auth/login/password", timeout=10,
                              json={**door, "totp": second.at(time.time() + 30)}).json()["access_token"]
        verdict = requests.post(base + "/api/v1/health-codes/verify", json={"token": token.json()["token"]},
                                headers={"Authorization": f"Bearer {staff}"}, timeout=10)
        assert verdict.status_code == 200 and verdict.json()["colour"] == "green"
        assert verdict.json()["holder"] == "张*明", "the holder's name decrypts"
        checkin = requests.post(base + "/api/v1/checkins", headers=resident, timeout=10,
                                json={"venue_code": venue_code, "health_code_id": code_id})
        assert checkin.status_code == 201, checkin.text
