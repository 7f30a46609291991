"""Signals the health-code domain sends for the domains built on it (receivers are connected in create_app)."""
from blinker import Namespace

_signals = Namespace()

# A person is being erased (retention), inside the erasing transaction: keyword person_id. Receivers delete
# what names the person (venues' visit markers); no commit.
person_erasing = _signals.signal("person-erasing")
