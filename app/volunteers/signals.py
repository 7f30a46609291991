"""Signals the volunteers domain sends for other domains to follow (receivers are connected in create_app)."""
from blinker import Namespace

_signals = Namespace()

# Bulk writes (imports) moved volunteers to other grids, before their commit: keyword moved={volunteer id: grid}.
volunteers_moved = _signals.signal("volunteers-moved")
