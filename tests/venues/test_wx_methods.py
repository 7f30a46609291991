"""Venue edits, staff unbinding and an official's colour change, sent the wx.request way (POST + override)."""
from tests.venues.test_officials import (  # noqa: F401 — fixtures
    codes,
    official,
    test_colour_change_needs_fresh_token_and_the_role,  # noqa: F401
    test_official_turns_code_red_with_audit,  # noqa: F401
)
from tests.venues.test_venues import (  # noqa: F401 — fixtures and tests re-run the wx.request way
    owner,
    test_staff_invitation_grants_nothing_until_accepted_then_unbinds,
    test_update_by_admin_only,
    venue,
)
from tests.wx_client import client  # noqa: F401 — fixture
