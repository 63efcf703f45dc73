"""Policy packs (RULES.md §4): one TOML file per pack, validated into typed frozen data.

The pack schema and its validation are in services/rules/policy_schema.py.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.rules.calendar import Period


@dataclass(frozen=True)
class Label:
    zh: str
    en: str

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def _labels(pairs: dict[str, tuple[str, str]]) -> dict[str, Label]:
    return {code: Label(zh, en) for code, (zh, en) in pairs.items()}


PACK_CODES = ("futures", "branch", "securities", "consumer_finance", "bank")

# RULES.md §4 (facts) and §4.6 (codes): the vocabularies every pack draws from.
FLAGS = _labels({
    "litigation": ("诉讼", "litigation"), "media": ("媒体", "media"),
    "regulator": ("监管", "regulator"), "violation": ("违规", "violation"),
    "group": ("群体", "group"), "severe": ("严重", "severe"), "invalid": ("无效", "invalid"),
    "ib": ("IB 业务", "introducing broker"), "special": ("特殊情况", "special"),
    "urgent": ("紧急", "urgent"),
})
MILESTONES = _labels({
    "forward": ("转办", "forward"), "first_contact": ("首次联系", "first contact"),
    "first_reply": ("首次回复", "first reply"), "feedback": ("反馈", "feedback"),
    "resolve": ("办结", "resolve"), "resolve_target": ("目标办结", "resolve target"),
    "return_visit": ("回访", "return visit"), "report_hq": ("报备总部", "report to HQ"),
    "statutory_decision": ("法定处理时限", "statutory decision"), "review_decision": ("核查时限", "review decision"),
})
GRADES = _labels({
    "general": ("一般", "general"), "large": ("较大", "large"), "major": ("重大", "major"),
    "invalid": ("无效", "invalid"), "L1": ("一级", "level 1"), "L2": ("二级", "level 2"),
    "L3": ("三级", "level 3"),
})
HANDLING_LEVELS = _labels({
    "branch": ("营业部级", "branch level"), "hq": ("经管总部级", "HQ level"),
    "company": ("公司级", "company level"),
})
EVENTS = _labels({  # case events that can meet a milestone
    "forward": ("转办", "forward"), "first_contact": ("首次联系", "first contact"),
    "resolve": ("办结", "resolve"), "feedback": ("反馈", "feedback"),
    "return_visit": ("回访", "return visit"), "report_hq": ("报备总部", "report to HQ"),
})
STARTS = _labels({"received": ("受理", "receipt"), "forwarded": ("转办", "forwarding"),
                  "resolved": ("办结", "resolution")})
# System roles that answer an escalation, lowest first: one answers what is addressed to one's rank or below
# (issue 8 §1); a pack role names its rank with `answered_by`, automatic overdue escalations go to dept_head.
ANSWERING_ROLES = ("dept_head", "executive")

EXTENSION_LIMITS = ("same_period", "from_start")
DUTY_EVERY = ("working_day", "month", "quarter", "year")


@dataclass(frozen=True)
class Citation:
    """Where a rule lives (`grades[1]`), what it says and which seed article it comes from."""

    path: str
    label: Label
    source: str
    inferred: bool = False


@dataclass(frozen=True)
class Term:
    code: str
    label: Label
    source: str | None = None
    answered_by: str | None = None  # roles only: the system role that answers an escalation to it
    # roles only: seniority among the roles one system role answers (issue 10 §2): an executive answers a role
    # of their own title's rank or below; data, since an edited pack's roles come back in no particular order
    rank: int = 0

    @property
    def zh(self) -> str:
        return self.label.zh

    @property
    def en(self) -> str:
        return self.label.en


@dataclass(frozen=True)
class Category:
    code: str
    department: str
    cite: Citation


@dataclass(frozen=True)
class Condition:
    flags_any: frozenset[str] | None = None
    flags_none: frozenset[str] | None = None
    claim_over: Decimal | None = None
    claim_at_most: Decimal | None = None
    claim_zero: bool | None = None
    cause: str | None = None
    grades: frozenset[str] | None = None
    categories: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    handling_levels: frozenset[str] | None = None
    any: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Choice:
    """A grade or handling-level rule: `code` applies when `when` holds (None: always)."""

    code: str
    when: Condition | None
    cite: Citation


@dataclass(frozen=True)
class Routing:
    department: str
    when: Condition
    cite: Citation


@dataclass(frozen=True)
class Escalation:
    when: Condition | None
    escalate_to: tuple[str, ...]
    notify: tuple[str, ...]
    warning: Label | None
    cite: Citation


@dataclass(frozen=True)
class MilestoneRule:
    code: str
    start: str  # received | forwarded | resolved
    period: Period
    when: Condition | None
    met_by: tuple[str, ...]
    window_opens: Period | None
    cite: Citation


@dataclass(frozen=True)
class Extension:
    milestones: tuple[str, ...]
    max_count: int
    limit: str  # same_period: the period again after the current due; from_start: steps[k]
    steps: tuple[Period, ...]
    cite: Citation


@dataclass(frozen=True)
class StatutoryLayer:
    """A pack's `[statutory]` table (RULES.md §7.1): the regulator's limits as calendar-day periods, applied by
    services/rules/statutory.py."""

    enabled: bool
    decision: Period  # decide and tell the complainant (order 3 art. 18: 15 days)
    extensions: tuple[Period, ...]  # the limit after each extension, from the clock's start (30, 60 days)
    approval_from: int  # the first extension (1-based) that needs a superior's approval
    review_request: Period  # the complainant may ask for a review within this of the decision (art. 20)
    review_decision: Period  # and the review is decided within this
    roll_forward: bool  # a last day that is not a working day moves to the next one (Civil Code art. 203)
    cite: Citation

    def limit(self, extensions: int) -> Period:
        """The limit in force after `extensions` extensions."""
        return self.decision if extensions == 0 else self.extensions[extensions - 1]

    def needs_approval(self, extensions_so_far: int) -> bool:
        """Whether the next extension needs a superior's approval first."""
        return extensions_so_far + 1 >= self.approval_from


@dataclass(frozen=True)
class JrtMapping:
    """A pack's `[jrt]` table (RULES.md §7.4): whether the JR/T 0169 codes are required before archive, and the
    codes its intake facts suggest (pack code → JR/T code), applied by services/rules/jrt.py."""

    required: bool
    channels: Mapping[str, str]  # pack channel → A code
    categories: Mapping[str, str]  # pack category → B code
    category_causes: Mapping[str, str]  # pack category → C code, where the category implies the cause
    flag_causes: Mapping[str, str]  # pack flag → C code
    source: str


@dataclass(frozen=True)
class Duty:
    code: str
    every: str | None
    period: Period | None
    cite: Citation


@dataclass(frozen=True)
class Policy:
    code: str
    origin: str
    name: Label
    source: str
    warning_window: float
    return_visit: str  # required | optional (RULES.md §2)
    lifecycle: Citation
    channels: Mapping[str, Term]
    flags: Mapping[str, Term]
    departments: Mapping[str, Term]
    roles: Mapping[str, Term]
    categories: Mapping[str, Category]
    causes: Mapping[str, Term]  # whose fault (seed 002 art. 19); the pack names its own (issue 9 §4)
    grades: tuple[Choice, ...]
    handling_levels: tuple[Choice, ...]
    routing: tuple[Routing, ...]
    escalations: tuple[Escalation, ...]
    milestones: tuple[MilestoneRule, ...]
    extension: Extension
    duties: tuple[Duty, ...]
    data: Mapping[str, Any] = field(repr=False, compare=False)
    # The titles of the documents the pack cites, by the reference its `source` keys use (issue 10 §3)
    documents: Mapping[str, Label] = field(default_factory=dict, repr=False, compare=False)
    # The regulator's clock beside the pack's own (RULES.md §7.1); None: the pack has no `[statutory]` table
    statutory: StatutoryLayer | None = None
    # JR/T 0169 classification (RULES.md §7.4); None: the pack has no `[jrt]` table (the codes stay optional)
    jrt: JrtMapping | None = None

    @property
    def statutory_on(self) -> bool:
        return self.statutory is not None and self.statutory.enabled

    def __hash__(self) -> int:  # the mappings are read-only views; equal packs share code+origin
        return hash((self.code, self.origin))

    def to_data(self) -> dict[str, Any]:
        """The validated pack as plain TOML-shaped data, for editing and `policy_from_data`."""
        return copy.deepcopy(dict(self.data))

    @property
    def return_visit_required(self) -> bool:
        return self.return_visit == "required"  # RULES.md §2, seed 001 art. 8

    def milestone_codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.code for m in self.milestones))

    def label(self, kind: str, code: str, lang: str = "zh") -> str:
        """UI label of a code; kind: channel, flag, department, role, category, grade, milestone,
        handling_level, event, start, cause. Unknown codes come back unchanged."""
        pack = {"channel": self.channels, "flag": self.flags, "department": self.departments,
                "role": self.roles, "cause": self.causes}.get(kind, {})
        if code in pack:
            return pack[code].label.text(lang)
        if kind == "category" and code in self.categories:
            return self.categories[code].cite.label.text(lang)
        shared = {"flag": FLAGS, "grade": GRADES, "milestone": MILESTONES,
                  "handling_level": HANDLING_LEVELS, "event": EVENTS, "start": STARTS}.get(kind, {})
        return shared[code].text(lang) if code in shared else code
