"""Which database errors are an outage (503 database_unavailable, Retry-After, one log line, counted) and
which are not (a deadlock stays a 500 with its traceback logged)."""
import logging

import psycopg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.areas import service
from app.errors import database_fault


def _operational(orig: Exception, invalidated: bool = False) -> OperationalError:
    return OperationalError("SELECT 1", {}, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize("error, fault", [
    (_operational(psycopg.OperationalError("connection refused")), "OperationalError"),
    (_operational(psycopg.errors.AdminShutdown("terminating connection")), "AdminShutdown"),
    (_operational(psycopg.errors.lookup("08006")("connection failure")), "ConnectionFailure"),
    (_operational(psycopg.errors.DeadlockDetected("deadlock"), invalidated=True), "DeadlockDetected"),
    (PoolTimeout("QueuePool limit reached"), "TimeoutError"),
    (_operational(psycopg.errors.DeadlockDetected("deadlock")), None),
    (_operational(psycopg.errors.QueryCanceled("statement timeout")), None),
    (ValueError("not a database error"), None),
])
def test_what_counts_as_unavailable(error, fault):
    assert database_fault(error) == fault


def _fail_with(monkeypatch, error):
    def broken(code):
        raise error

    monkeypatch.setattr(service, "get", broken)


def _unavailable(fault: str) -> float:
    return REGISTRY.get_sample_value("jiefang_database_unavailable_total", {"fault": fault}) or 0.0


def test_outage_answers_503_with_one_line_and_a_count(client, monkeypatch, caplog):
    _fail_with(monkeypatch, _operational(psycopg.errors.AdminShutdown("terminating connection")))
    before = _unavailable("AdminShutdown")
    with caplog.at_level(logging.INFO):
        replies = [client.get("/api/v1/areas/440106") for _ in range(3)]
    assert [r.status_code for r in replies] == [503] * 3
    assert {r.get_json()["error"] for r in replies} == {"database_unavailable"}
    assert {r.headers["Retry-After"] for r in replies} == {"5"}
    errors = [r for r in caplog.records if r.name == "jiefang.errors"]
    assert [r.getMessage() for r in errors] == ["database unavailable: AdminShutdown"] * 3
    assert all(r.exc_info is None for r in errors), "no traceback"
    assert _unavailable("AdminShutdown") - before == 3


def test_a_deadlock_is_not_an_outage(client, monkeypatch, caplog):
    _fail_with(monkeypatch, _operational(psycopg.errors.DeadlockDetected("deadlock")))
    with caplog.at_level(logging.ERROR):
        r = client.get("/api/v1/areas/440106")
    assert r.status_code == 500 and r.get_json()["error"] == "internal_error"
    assert any(rec.exc_info for rec in caplog.records if rec.name == "jiefang.errors")
