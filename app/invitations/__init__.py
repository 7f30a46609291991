"""邀请: one pattern for every place a person is asked to take (a group's membership, a venue's inspector post)."""
