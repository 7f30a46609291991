"""Volunteer and group edits and their denials, sent the wx.request way (POST + override)."""
from tests.volunteers.test_groups import (  # noqa: F401
    organiser,  # noqa: F401 — fixture
    test_approval_group_flow,
    test_edit_a_group,
    test_leave_and_remove,
    test_reject_a_request,
)
from tests.volunteers.test_volunteers import (  # noqa: F401
    test_empty_or_bad_patch,
    test_leaving_erases_the_person_and_keeps_the_row,
    test_rename_keeps_counts_and_masks,
)
from tests.wx_client import client  # noqa: F401 — fixture: the tests above run through the override
