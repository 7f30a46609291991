"""A frozen clock for the services (app.common.time.utcnow), moved by hand; access tokens keep the real clock."""
from datetime import datetime, timedelta


class FrozenClock:
    """The time the services see, starting at `now`."""

    def __init__(self, now: datetime):
        self.now = now

    def set(self, when: datetime) -> None:
        self.now = when

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def freeze(monkeypatch, now: datetime) -> FrozenClock:
    """Patch app.common.time.utcnow to a FrozenClock at `now` for one test."""
    from app.common import time as clock_module

    clock = FrozenClock(now)
    monkeypatch.setattr(clock_module, "utcnow", lambda: clock.now)
    return clock
