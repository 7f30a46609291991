"""Signals the volunteers domain sends for other domains to follow (receivers are connected in create_app)."""
from blinker import Namespace

_signals = Namespace()

# Volunteers moved to other grids, or left the force (grid None), before the commit of the write that moved
# them: keyword moved={volunteer id: new grid or None}. Every path that moves a volunteer sends it: a profile
# update, leaving, and the bulk import (the admins' imports and `flask volunteers import`).
volunteers_moved = _signals.signal("volunteers-moved")
