"""Signals the auth domain sends for the domains that keep rows per account (receivers connected in create_app)."""
from blinker import Namespace

_signals = Namespace()

# One account is being merged into another, inside the merge's transaction: keywords from_user, to_user (ids).
# Receivers move what must be moved one by one (health codes into free slots, subscribe grants added up) and
# may raise Conflict; no commit. Every other row that names the account follows its foreign key to users.id.
accounts_merging = _signals.signal("accounts-merging")
