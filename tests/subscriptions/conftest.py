"""订阅消息 tests: the events that queue messages are patrol events, so the patrol fixtures serve here too."""
from tests.patrols.conftest import (  # noqa: F401 — fixtures
    _frozen,
    frozen_at,
    group,
    new_patrol,
    organiser,
    volunteer,
)
