"""Patrol edits and their denials, sent the wx.request way (POST + override)."""
from tests.patrols.test_patrols import (  # noqa: F401
    test_leader_manages_their_group_patrol,  # noqa: F401
    test_patch_and_cancel_denied_to_others,
    test_patch_changes_fields,
    test_patch_times_only_while_nobody_signed_up,  # noqa: F401
)
from tests.wx_client import client  # noqa: F401 — fixture
