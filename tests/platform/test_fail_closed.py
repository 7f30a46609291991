"""Development settings fail closed: secrets generated per instance, never served under gunicorn or on a server
database unless explicitly allowed, gunicorn means production, SMS codes echoed only where configured."""
import os
import stat
import subprocess
import sys
from pathlib import Path

import jwt as pyjwt
import pytest

from app import create_app
from config import ALLOW_DEVELOPMENT_ENV, SECRET_NAMES, DevelopmentConfig

ROOT = Path(__file__).resolve().parents[2]
OLD_FIXED_JWT_SECRET = "dev-jwt-secret-key-not-for-production-1111"


def _dev_config(instance: Path, url: str | None = None):
    class Config(DevelopmentConfig):
        INSTANCE_PATH = str(instance)
        SQLALCHEMY_DATABASE_URI = url or f"sqlite:///{instance / 'dev.db'}"

    return Config


@pytest.fixture
def clean_env(monkeypatch):
    for name in SECRET_NAMES + (ALLOW_DEVELOPMENT_ENV, "SERVER_SOFTWARE"):
        monkeypatch.delenv(name, raising=False)


def test_development_generates_secrets_per_instance_in_a_private_file(tmp_path, clean_env):
    one, two = create_app(_dev_config(tmp_path / "one")), create_app(_dev_config(tmp_path / "two"))
    again = create_app(_dev_config(tmp_path / "one"))
    path = tmp_path / "one" / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for name in SECRET_NAMES:
        assert one.config[name] and one.config[name] != two.config[name], name
        assert again.config[name] == one.config[name], name  # a restart keeps its tokens and data readable
    assert OLD_FIXED_JWT_SECRET not in (one.config["JWT_SECRET_KEY"], two.config["JWT_SECRET_KEY"])
    assert len(one.config["JWT_SECRET_KEY"]) >= 32


def test_a_secret_in_the_environment_wins_over_the_file(tmp_path, clean_env, monkeypatch):
    monkeypatch.setenv("VENUE_CODE_KEY", "v" * 40)
    app = create_app(_dev_config(tmp_path))
    assert app.config["VENUE_CODE_KEY"] == "v" * 40


def test_a_token_forged_with_the_old_fixed_secret_is_refused(client):
    token = pyjwt.encode({"sub": "1", "type": "access", "fresh": False, "jti": "x", "exp": 32503680000,
                          "iat": 1, "nbf": 1}, OLD_FIXED_JWT_SECRET, algorithm="HS256")
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.get_json()["error"] == "token_invalid"


@pytest.mark.parametrize("setting, needle", [
    ({"SERVER_SOFTWARE": "gunicorn/23.0.0"}, "running under gunicorn"),
    ({"url": "postgresql+psycopg://postgres@127.0.0.1:5432/nothing"}, "the database is not SQLite"),
])
def test_development_refuses_gunicorn_and_server_databases(tmp_path, clean_env, monkeypatch, setting, needle):
    if "SERVER_SOFTWARE" in setting:
        monkeypatch.setenv("SERVER_SOFTWARE", setting["SERVER_SOFTWARE"])
    config = _dev_config(tmp_path, setting.get("url"))
    with pytest.raises(RuntimeError) as info:
        create_app(config)
    assert needle in str(info.value) and ALLOW_DEVELOPMENT_ENV in str(info.value)
    assert not (tmp_path / "secrets.json").exists()
    monkeypatch.setenv(ALLOW_DEVELOPMENT_ENV, "1")
    assert create_app(config).config["JWT_SECRET_KEY"]


def _python(code: str, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in SECRET_NAMES + ("JIEFANG_ENV", "DATABASE_URL")}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True,
                          text=True, timeout=60)


def test_gunicorn_conf_means_production():
    code = "import runpy, os; runpy.run_path('gunicorn.conf.py'); print(os.environ['JIEFANG_ENV']); import wsgi"
    done = _python(code)
    assert done.stdout.strip() == "production"
    assert done.returncode != 0 and "Refusing to start in production" in done.stderr


def test_sms_codes_are_echoed_only_where_configured(client, app, monkeypatch):
    from tests import factories

    monkeypatch.setitem(app.config, "SMS_ECHO_CODE", False)
    r = client.post("/api/v1/auth/sms-codes", json={"phone": factories.phone()})
    assert r.status_code == 202 and "debug_code" not in r.get_json()
    monkeypatch.setitem(app.config, "SMS_ECHO_CODE", True)
    r = client.post("/api/v1/auth/sms-codes", json={"phone": factories.phone()})
    assert r.status_code == 202 and len(r.get_json()["debug_code"]) == 6
    assert DevelopmentConfig.SMS_ECHO_CODE and not __import__("config").ProductionConfig.SMS_ECHO_CODE
