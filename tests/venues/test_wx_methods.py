"""Venue edits, staff unbinding and an official's colour change, sent the wx.request way (POST + override)."""
from tests.venues.test_officials import (  # noqa: F401 — fixtures
    codes,
    official,
    test_colour_change_needs_fresh_token_and_the_role,  # noqa: F401
    test_official_turns_code_red_with_audit,  # noqa: F401
)
from tests.venues.test_venues import owner, test_bind_and_unbind_staff, test_update_by_admin_only, venue  # noqa: F401 — fixtures  # noqa: F401
from tests.wx_client import client  # noqa: F401 — fixture
