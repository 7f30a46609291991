"""A frozen clock for the services (every `app.*` module's utcnow), moved by hand; access tokens keep the real
clock."""
import sys
from datetime import datetime, timedelta, timezone

# The suite's default frozen time: Monday 2026-11-30, 10:00 in Guangzhou.
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)


class FrozenClock:
    """The time the services see, starting at `now`."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def freeze(monkeypatch, now: datetime) -> FrozenClock:
    """Patch app.common.time.utcnow, and every loaded `app.*` module's own name for it, to a FrozenClock at
    `now` for one test."""
    from app.common import time as app_time

    clock, real = FrozenClock(now), app_time.utcnow
    for name, module in list(sys.modules.items()):
        if (name == "app" or name.startswith("app.")) and getattr(module, "utcnow", None) is real:
            monkeypatch.setattr(module, "utcnow", clock)
    return clock
