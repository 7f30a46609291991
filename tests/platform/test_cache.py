"""The hot-read cache: JSON in Redis with a short life; every Redis failure swallowed, logged once, recovered."""
import logging
import time

import pytest
from flask import current_app, g
from sqlalchemy import select

from app.common import cache
from app.extensions import db
from app.ops import sync
from app.ops.models import CacheSync
from tests.servers import private_redis

PAUSE = 60  # long: the tests end a pause themselves (_end_pause), never by waiting


@pytest.fixture
def own_redis(app, monkeypatch):
    """(server, client): this app's cache pointed at a private Redis for the test."""
    with private_redis() as server:
        client = cache.connect(server.url())
        monkeypatch.setitem(app.extensions, "redis", client)
        monkeypatch.setitem(app.extensions, "redis_paused_until", 0.0)
        monkeypatch.setitem(app.extensions, "sync_read_at", float("-inf"))
        monkeypatch.setitem(app.config, "REDIS_PAUSE_SECONDS", PAUSE)
        assert cache.ready_client() is client, "an empty Redis is caught up on first use"
        yield server, client


def _end_pause():
    """What REDIS_PAUSE_SECONDS of waiting would do."""
    current_app.extensions["redis_paused_until"] = 0.0


def _loader(value):
    calls = []

    def load():
        calls.append(1)
        return value

    return load, calls


def test_round_trip_with_short_life(own_redis):
    _, client = own_redis
    venue = {"name": "天河城", "colour": "green", "n": 3}
    cache.set_json("venue:1", venue, ttl=30)
    assert cache.get_json("venue:1") == venue
    assert 0 < client.ttl("cache:venue:1") <= 30
    cache.delete("venue:1")
    assert cache.get_json("venue:1") is None and not client.exists("cache:venue:1")


def test_cached_loads_once_and_never_stores_none(own_redis):
    load, calls = _loader({"colour": "yellow"})
    assert [cache.cached("code:7", load) for _ in range(3)] == [{"colour": "yellow"}] * 3
    assert len(calls) == 1
    missing, missing_calls = _loader(None)
    assert cache.cached("code:8", missing) is None and cache.cached("code:8", missing) is None
    assert len(missing_calls) == 2


def test_unreadable_entry_is_a_miss_and_dropped(own_redis, caplog):
    _, client = own_redis
    client.set("cache:venue:2", b"\xff not json")
    with caplog.at_level(logging.WARNING, logger="jiefang.cache"):
        assert cache.get_json("venue:2") is None
    assert not client.exists("cache:venue:2")
    assert [r.message for r in caplog.records] == ["unreadable cache entry dropped"]


def test_redis_down_is_a_miss_logged_once_and_recovers(own_redis, caplog, monkeypatch):
    server, client = own_redis
    cache.set_json("venue:1", {"v": 1})
    server.stop()
    load, calls = _loader({"v": 2})
    tries = []
    real_execute = client.execute_command
    monkeypatch.setattr(client, "execute_command", lambda *a, **k: tries.append(a[0]) or real_execute(*a, **k))
    with caplog.at_level(logging.WARNING, logger="jiefang.cache"):
        results = [cache.cached("venue:1", load) for _ in range(20)]
        cache.delete("venue:1")
    assert results == [{"v": 2}] * 20 and len(calls) == 20
    assert tries == ["GET"], "Redis is tried once, then left alone while paused"
    assert len([r for r in caplog.records if "redis unavailable" in r.message]) == 1, "logged once"
    assert cache.redis_client() is None

    server.start()
    _end_pause()
    cache.set_json("venue:1", {"v": 3})
    assert cache.redis_client() is client and cache.get_json("venue:1") == {"v": 3}


def _generation() -> int:
    return db.session.scalar(select(CacheSync.generation).where(CacheSync.id == 1)) or 0


def test_invalidation_lost_during_a_cut_marks_redis_behind(app, own_redis):
    server, client = own_redis
    client.set("revoked:keep", b"1")
    cache.set_json("venue:1", {"name": "old"})
    cache.set_json("venue:2", {"name": "other"})
    before = _generation()
    server.pause()
    cache.delete("venue:1")  # times out: Redis still holds the old entry
    server.resume()
    client.set("cache:venue:1", b'{"name":"old"}')  # the frozen Redis may have run the DEL on waking: not always
    assert _generation() == before + 1, "the database records that Redis missed a write"
    _end_pause()
    assert cache.get_json("venue:1") is None, "Redis was caught up before the read"
    assert client.keys("cache:*") == [] and client.exists("revoked:keep"), "only cache entries are dropped"
    assert int(client.get(sync.SYNC_KEY)) == before + 1


def test_another_process_stops_trusting_redis_within_the_check_interval(app, own_redis, monkeypatch):
    server, client = own_redis
    cache.set_json("venue:1", {"name": "old"})
    server.pause()
    cache.delete("venue:1")
    server.resume()
    _end_pause()
    client.set("cache:venue:1", b'{"name":"old"}')  # the frozen Redis may have run the DEL on waking: not always
    # Another process: it read the generation just before the failed write, and Redis answers it.
    monkeypatch.setitem(app.extensions, "sync_generation", int(client.get(sync.SYNC_KEY)))
    monkeypatch.setitem(app.extensions, "sync_read_at", time.monotonic())
    monkeypatch.setitem(app.config, "REDIS_SYNC_CHECK_SECONDS", 0.3)
    assert cache.get_json("venue:1") == {"name": "old"}, "within the interval it may still read the old entry"
    time.sleep(0.35)
    g.pop("redis_generation", None)  # a new request
    assert cache.get_json("venue:1") is None, "past it, the database's generation says Redis is behind"
    assert not client.exists("cache:venue:1")


def test_without_redis_everything_is_a_miss(app, monkeypatch):
    monkeypatch.setitem(app.extensions, "redis", None)
    load, calls = _loader({"v": 1})
    cache.set_json("venue:1", {"v": 0})
    cache.delete("venue:1")
    assert cache.cached("venue:1", load) == {"v": 1} and cache.get_json("venue:1") is None and len(calls) == 1
