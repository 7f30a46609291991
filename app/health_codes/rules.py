"""赋码规则: the colour rules, one pure function of a code's declarations, official decisions and `now`.

Version 2026.1 (RULES_VERSION; a code whose stored colour came from another version is re-evaluated):

1. Only events at or before `now` count. The latest official decision sets the baseline:
   red     → red, sticky: declarations cannot change it, only a later official decision can;
   yellow  → yellow from that moment (it starts the clean-declaration clock like a risky declaration);
   green   → a release: everything before it is forgotten.
2. After that baseline, a declaration is risky when it reports case contact within 14 days, a risk-area
   visit within 14 days, a temperature ≥ 37.3 °C or any symptom. The latest risky event is the trigger;
   no trigger → green.
3. A yellow code turns green after 7 consecutive clean days: seven consecutive calendar days (Asia/Shanghai)
   after the trigger's day, each with at least one declaration (all of them clean, since the trigger is
   the latest risky event). It turns green when the seventh day ends, so a fever declared late on that
   day still counts; until then `next_review_at` says when the code will turn green by itself.

Each verdict carries a stable reason code with a Chinese sentence for the resident (REASONS)."""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Protocol

from app.common.time import SHANGHAI

RULES_VERSION = "2026.1"
FEVER_C = 37.3
CLEAN_DAYS = 7
SYMPTOMS = {"fever": "发热", "cough": "咳嗽", "fatigue": "乏力", "sore_throat": "咽痛",
            "loss_of_taste_or_smell": "嗅觉或味觉减退", "shortness_of_breath": "气促", "diarrhoea": "腹泻"}
_THEN_GREEN = "请每日进行健康申报，连续 7 天无异常后自动转为绿码。"
REASONS = {
    "no_risk": "未发现风险，请继续做好个人防护。",
    "official_release": "卫生健康部门已解除对您的管控，健康码为绿码。",
    "clean_streak": "您已连续 7 天健康申报无异常，健康码已转为绿码。",
    "case_contact": "您申报了 14 天内与病例有接触，已赋黄码。请配合社区做好健康监测。" + _THEN_GREEN,
    "risk_area_visit": "您申报了 14 天内到访过风险地区，已赋黄码。" + _THEN_GREEN,
    "fever": "您申报的体温达到或超过 37.3℃，已赋黄码。请尽快到发热门诊就诊。" + _THEN_GREEN,
    "symptoms": "您申报了发热、咳嗽等不适症状，已赋黄码。请及时就医。" + _THEN_GREEN,
    "official_yellow": "卫生健康部门已将您的健康码设为黄码，请按社区要求进行核酸检测。" + _THEN_GREEN,
    "clean_streak_pending": "您已连续 7 天健康申报无异常，今日 24 时后健康码将自动转为绿码。",
    "official_red": "卫生健康部门已将您的健康码设为红码，请保持电话畅通，配合疫情防控工作。",
}


@dataclass(frozen=True)
class Reason:
    """A verdict's reason as responses show it: the stable code and its sentence for the resident."""

    code: str

    @property
    def message(self) -> str:
        return REASONS[self.code]


class DeclarationFacts(Protocol):
    declared_at: datetime
    temperature_c: float
    symptoms: list[str]
    risk_area_visit_14d: bool
    case_contact_14d: bool


class OfficialDecision(Protocol):
    changed_at: datetime
    to_colour: str


@dataclass(frozen=True)
class Verdict:
    """The rules' answer: colour, reason code, since when, and when time alone will change it."""

    colour: str
    reason: str
    since: datetime | None
    next_review_at: datetime | None = None

    @property
    def message(self) -> str:
        return REASONS[self.reason]


def risk_of(d: DeclarationFacts) -> str | None:
    """The reason a declaration is risky (most serious first), or None when it is clean."""
    if d.case_contact_14d:
        return "case_contact"
    if d.risk_area_visit_14d:
        return "risk_area_visit"
    if d.temperature_c >= FEVER_C:
        return "fever"
    return "symptoms" if d.symptoms else None


def _day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def _green_at(declarations: list[DeclarationFacts], trigger_at: datetime) -> datetime | None:
    """The end of the first run of CLEAN_DAYS consecutive declared days after the trigger's day."""
    first = _day(trigger_at) + timedelta(days=1)
    days = sorted({_day(d.declared_at) for d in declarations if d.declared_at > trigger_at})
    run_start, previous = None, None
    for day in (d for d in days if d >= first):
        run_start = run_start if previous is not None and day == previous + timedelta(days=1) else day
        previous = day
        if (day - run_start).days + 1 == CLEAN_DAYS:
            return datetime.combine(day + timedelta(days=1), time(), SHANGHAI).astimezone(timezone.utc)
    return None


def evaluate(declarations: Iterable[DeclarationFacts], decisions: Iterable[OfficialDecision],
             now: datetime) -> Verdict:
    """The code's colour at `now` from its declarations and official decisions (see the module doc)."""
    decls = sorted((d for d in declarations if d.declared_at <= now), key=lambda d: d.declared_at)
    official = max((o for o in decisions if o.changed_at <= now), key=lambda o: o.changed_at, default=None)
    if official is not None and official.to_colour == "red":
        return Verdict("red", "official_red", official.changed_at)
    trigger = (official.changed_at, "official_yellow") if official and official.to_colour == "yellow" else None
    for d in decls:
        risk = risk_of(d)
        if risk and (official is None or d.declared_at > official.changed_at):
            trigger = (d.declared_at, risk)
    if trigger is None:
        if official is not None:
            return Verdict("green", "official_release", official.changed_at)
        return Verdict("green", "no_risk", decls[0].declared_at if decls else None)
    green_at = _green_at(decls, trigger[0])
    if green_at is not None and green_at <= now:
        return Verdict("green", "clean_streak", green_at)
    if green_at is not None:
        return Verdict("yellow", "clean_streak_pending", trigger[0], next_review_at=green_at)
    return Verdict("yellow", trigger[1], trigger[0])
