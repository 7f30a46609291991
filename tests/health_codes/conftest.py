"""Helpers for the health-code tests: valid ID numbers, applying through HTTP, a controllable clock."""
from datetime import datetime, timezone

import pytest
from stdnum.cn import ric

URL = "/api/v1/health-codes"


def resident_id(region: str = "440106", birth: str = "19900307", seq: str = "123") -> str:
    """A mainland ID number with a correct check character."""
    body = region + birth + seq
    return body + ric.calc_check_digit(body + "0")


def application(**overrides) -> dict:
    body = {"name": "张三明", "id_type": "cn_resident_id", "id_number": resident_id(), "phone": "13812341234",
            "relation": "self", "consent": True}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


@pytest.fixture
def apply_code(client):
    """apply_code(headers, **fields) -> the 201 body (fails the test on any other answer)."""

    def _apply(headers, **overrides):
        r = client.post(URL, json=application(**overrides), headers=headers)
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    return _apply


@pytest.fixture
def frozen_at():
    """The health-code tests' `clock` starts at 2026-03-02 10:00 Shanghai (02:00 UTC)."""
    return datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def statements(db):
    """A list that collects the SQL statements run while the test is inside `with statements_recording():`."""
    from contextlib import contextmanager

    from sqlalchemy import event

    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    @contextmanager
    def recording():
        seen.clear()
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return recording
