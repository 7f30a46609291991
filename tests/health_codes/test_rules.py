"""The colour rules, table-driven: (declarations, official decisions, now) → colour, reason, next_review_at."""
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from app.common.time import SHANGHAI
from app.health_codes import rules


def sh(day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment in March 2026, Shanghai time (aware)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


@dataclass
class D:
    declared_at: datetime
    temperature_c: float = 36.5
    symptoms: list = field(default_factory=list)
    risk_area_visit_14d: bool = False
    case_contact_14d: bool = False


@dataclass
class O:  # noqa: E742 (an override, as the rules name it)
    changed_at: datetime
    to_colour: str


def clean(first: int, last: int, hour: int = 9) -> list[D]:
    return [D(sh(day, hour)) for day in range(first, last + 1)]


FEVER = dict(temperature_c=37.3)
CASES = [
    # name, declarations, decisions, now, colour, reason, next_review_at
    ("nothing yet", [], [], sh(1), "green", "no_risk", None),
    ("clean declaration", [D(sh(1))], [], sh(1, 10), "green", "no_risk", None),
    ("37.2 is not fever", [D(sh(1), temperature_c=37.2)], [], sh(1, 10), "green", "no_risk", None),
    ("37.3 is fever", [D(sh(1), **FEVER)], [], sh(1, 10), "yellow", "fever", None),
    ("any symptom", [D(sh(1), symptoms=["diarrhoea"])], [], sh(1, 10), "yellow", "symptoms", None),
    ("risk-area visit", [D(sh(1), risk_area_visit_14d=True)], [], sh(1, 10), "yellow", "risk_area_visit", None),
    ("case contact outranks fever", [D(sh(1), case_contact_14d=True, **FEVER)], [], sh(1, 10), "yellow",
     "case_contact", None),
    ("official red", [], [O(sh(1), "red")], sh(1, 10), "red", "official_red", None),
    ("red is sticky through clean weeks", clean(2, 20), [O(sh(1), "red")], sh(21), "red", "official_red", None),
    ("red is sticky through risks", [D(sh(2), **FEVER)], [O(sh(1), "red")], sh(3), "red", "official_red", None),
    ("official release after red", [], [O(sh(1), "red"), O(sh(2), "green")], sh(3), "green", "official_release",
     None),
    ("risk after a release", [D(sh(3), **FEVER)], [O(sh(1), "red"), O(sh(2), "green")], sh(4), "yellow", "fever",
     None),
    ("release forgets earlier risks", [D(sh(1), **FEVER)], [O(sh(2), "green")], sh(3), "green", "official_release",
     None),
    ("a declaration at the decision's instant yields to it", [D(sh(2), **FEVER)], [O(sh(2), "green")], sh(3),
     "green", "official_release", None),
    ("official yellow", [], [O(sh(1), "yellow")], sh(2), "yellow", "official_yellow", None),
    ("official yellow, 7 clean days", clean(2, 8), [O(sh(1), "yellow")], sh(9, 0), "green", "clean_streak", None),
    ("6 clean days are not enough", [D(sh(1), **FEVER)] + clean(2, 7), [], sh(8, 12), "yellow", "fever", None),
    ("7th clean day: green at midnight", [D(sh(1), **FEVER)] + clean(2, 8), [], sh(8, 12), "yellow",
     "clean_streak_pending", sh(9, 0)),
    ("after midnight: green", [D(sh(1), **FEVER)] + clean(2, 8), [], sh(9, 0), "green", "clean_streak", None),
    ("a clean day lost on the trigger's day", [D(sh(1), **FEVER), D(sh(1, 20))] + clean(2, 7), [], sh(8, 12),
     "yellow", "fever", None),
    ("a missed day restarts the run", [D(sh(1), **FEVER)] + clean(2, 4) + clean(6, 11), [], sh(12, 12), "yellow",
     "fever", None),
    ("a full run after the gap", [D(sh(1), **FEVER)] + clean(2, 4) + clean(6, 12), [], sh(13, 0), "green",
     "clean_streak", None),
    ("a new risk restarts the clock", [D(sh(1), **FEVER)] + clean(2, 5) + [D(sh(6), symptoms=["cough"])]
     + clean(7, 12), [], sh(13, 12), "yellow", "symptoms", None),
    ("days are Shanghai days", [D(sh(1, 23, 30), **FEVER)] + [D(sh(d, 0, 30)) for d in range(2, 9)], [], sh(8, 1),
     "yellow", "clean_streak_pending", sh(9, 0)),
    ("future declarations do not count", [D(sh(5), **FEVER)], [], sh(4), "green", "no_risk", None),
    ("future decisions do not count", [], [O(sh(5), "red")], sh(4), "green", "no_risk", None),
]


@pytest.mark.parametrize("name, declarations, decisions, now, colour, reason, review", CASES,
                         ids=[c[0] for c in CASES])
def test_rules_table(name, declarations, decisions, now, colour, reason, review):
    verdict = rules.evaluate(declarations, decisions, now)
    assert (verdict.colour, verdict.reason, verdict.next_review_at) == (colour, reason, review)
    assert verdict.message == rules.REASONS[reason]


def test_since_is_when_the_colour_took_effect():
    trigger = D(sh(1), **FEVER)
    assert rules.evaluate([trigger], [], sh(2)).since == trigger.declared_at
    assert rules.evaluate([trigger] + clean(2, 8), [], sh(10)).since == sh(9, 0)
    assert rules.evaluate([], [O(sh(1), "red")], sh(2)).since == sh(1)


def test_order_of_inputs_does_not_matter():
    declarations = [D(sh(1), **FEVER)] + clean(2, 8)
    assert rules.evaluate(list(reversed(declarations)), [], sh(9, 0)) == rules.evaluate(declarations, [], sh(9, 0))


def test_every_reason_is_a_chinese_sentence():
    assert set(rules.REASONS) >= {c[5] for c in CASES}
    assert all(msg.endswith("。") and any("\u4e00" <= ch <= "\u9fff" for ch in msg) for msg in rules.REASONS.values())
