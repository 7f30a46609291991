"""PostgreSQL unreachable (through a proxy the test cuts): every request answers 503 database_unavailable with
Retry-After, the log has one line per fault and no traceback, the metric counts them, and service resumes."""
import re
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from tests import factories
from tests.platform.tcp_proxy import TcpProxy
from tests.servers import gunicorn

pytestmark = pytest.mark.postgres
METRICS_TOKEN = "metrics-token-for-the-outage-test"


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0] + "@" if len(netloc) == 2 else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


def _unavailable_total(base: str) -> float:
    text = requests.get(base + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10).text
    return sum(float(v) for v in re.findall(r"^jiefang_database_unavailable_total\{[^}]*\} (\S+)$", text, re.M))


def test_database_cut_answers_503_with_one_line_each(app, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    target = urlsplit(url)
    proxy = TcpProxy(target.hostname, target.port or 5432).start()
    headers = factories.auth_headers(factories.user(roles=[("organiser", "4401")]))
    try:
        with gunicorn(app, tmp_path, DATABASE_URL=_through(url, proxy.port), METRICS_TOKEN=METRICS_TOKEN) as base:
            assert requests.get(base + "/api/v1/me", headers=headers, timeout=10).status_code == 200
            proxy.cut()
            replies = [requests.get(base + "/api/v1/me", headers=headers, timeout=30) for _ in range(5)] + \
                [requests.post(base + "/api/v1/venues", headers=headers, json={"name": "x"}, timeout=30)
                 for _ in range(5)]
            assert [r.status_code for r in replies] == [503] * 10
            assert {r.json()["error"] for r in replies} == {"database_unavailable"}
            assert all(r.headers["Retry-After"] == "5" for r in replies)
            assert _unavailable_total(base) == 10

            proxy.restore()
            assert requests.get(base + "/api/v1/me", headers=headers, timeout=10).status_code == 200
        log = (tmp_path / "gunicorn.log").read_text()
        lines = [line for line in log.splitlines() if "database unavailable:" in line]
        assert len(lines) == 10, log[-3000:]
        assert "Traceback" not in log and "internal_error" not in log
    finally:
        proxy.stop()
