"""The training scenario library (issue 5 §4): one TOML file per pack in this folder, written from the
seeds and validated on load; every error names the file and the key (like the policy packs).

File schema (`<pack>.toml`):
  pack = "<pack code>"
  [[scenarios]]
  code          short id: lower-case letters, digits and `-`, unique in the file
  title         {zh, en}
  goal          {zh, en, source}: what the trainee learns, and the seed article it comes from
  received_at   "YYYY-MM-DD HH:MM" (Asia/Shanghai)
  customer      {name, phone, id_number?, account_no?}
  facts         {channel, category, compensation_claim?, cause?, flags?}, checked against the pack
  content       the complaint in the customer's words
  at_intake     optional {explanation, satisfaction}: resolved at intake (seed 000 art. 17(1))
  [[scenarios.steps]]   action; after ("1d2h30m" after the previous step) or at ("YYYY-MM-DD HH:MM");
                        by (clerk | handler | head | supervisor, default per action); the action's values
                        (STEP_VALUES). Steps after a `re_complaint` act on the new case.
A pack's file must cover every category of the pack and every special kind it can produce (expected_kinds).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from services.errors import InvalidInput, Listing, Phrase
from services.rules import jrt
from services.rules.assess import Facts, assess, parse_facts
from services.rules.calendar import SHANGHAI, WorkingCalendar
from services.rules.packs import load_policy
from services.rules.policy import PACK_CODES, Label, Policy
from services.rules.policy_schema import _Reader

SCENARIO_DIR = Path(__file__).parent
LIBRARY = "training_library"  # settings key in the training database: the pack and each scenario's case numbers
CODE = re.compile(r"^[a-z0-9-]{3,32}$")  # fits the intake keys of library and practice cases (64 chars)
DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
PERSONAS = ("clerk", "handler", "head", "supervisor")
MAJOR_GRADES = ("major", "L1")  # the top grade of each pack (RULES.md §4)

# action → (required values, optional values); the values are passed to services.casework.cases.
STEP_VALUES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "forward": (("handling_form",), ("department",)),
    "first_contact": (("note",), ()),
    "resolve": (("fact_finding", "measures", "accountability"), ("compensation_paid", "signed_confirmation")),
    "invalid": (("explanation",), ()),
    # the proof of notification: required where the pack has the statutory layer (RULES.md §7.2)
    "feedback": (("method", "satisfaction"), ("note", "notification_method", "notification_ref")),
    "return_visit": (("method", "satisfaction", "note"), ()),
    "archive": ((), ()),
    "withdraw": (("reason",), ()),
    "extend": (("reason", "informed_method"), ("milestone", "new_due")),  # new_due: "latest" or a duration
    "escalate": (("to_role", "reason"), ()),
    "re_complaint": (("content",), ("compensation_claim",)),
    "classify": ((), ("channel", "business", "cause")),  # JR/T 0169 codes; one left out: the suggested (§7.4)
}
# Who does each step unless the step says otherwise (RULES.md §1: the first responder tracks the case).
DEFAULT_BY = {"forward": "clerk", "first_contact": "handler", "resolve": "handler", "invalid": "clerk",
              "feedback": "clerk", "return_visit": "clerk", "archive": "clerk", "withdraw": "clerk",
              "extend": "handler", "escalate": "head", "re_complaint": "clerk",
              "classify": "clerk"}
KINDS = {"major": ("重大投诉", "major case"), "invalid": ("无效投诉", "invalid complaint"),
         "re_complaint": ("再投诉", "re-complaint"), "extension": ("延期", "extension"),
         "group": ("群体投诉", "group complaint"), "media": ("媒体投诉", "media case"),
         "at_intake": ("受理时当场解决", "resolved at intake"), "withdrawal": ("撤诉", "withdrawal")}
_STEP_KINDS = {"invalid": "invalid", "re_complaint": "re_complaint", "extend": "extension", "withdraw": "withdrawal"}


@dataclass(frozen=True)
class Step:
    action: str
    after: timedelta | None
    at: datetime | None
    by: str
    values: Mapping[str, Any]
    path: str  # e.g. "scenarios[3].steps[2]", for errors

    def when(self, previous: datetime) -> datetime:
        return self.at if self.at is not None else previous + (self.after or timedelta(0))


@dataclass(frozen=True)
class Scenario:
    code: str
    pack: str
    origin: str  # file name
    path: str  # "scenarios[i]"
    title: Label
    goal: Label
    source: str  # the seed article the goal teaches
    received_at: datetime
    customer: Mapping[str, str]
    facts: Facts
    content: str
    at_intake: Mapping[str, Any] | None
    steps: tuple[Step, ...]
    kinds: frozenset[str]

    def intake_form(self, received_at: datetime | None = None) -> dict[str, Any]:
        """The intake form of services.casework.cases.intake for this scenario (at another time for practice)."""
        f = self.facts
        return {"customer_name": self.customer["name"], "customer_phone": self.customer["phone"],
                "customer_id_number": self.customer.get("id_number"),
                "customer_account_no": self.customer.get("account_no"),
                "received_at": received_at or self.received_at, "channel": f.channel, "category": f.category,
                "compensation_claim": f.compensation_claim, "cause": f.cause, "flags": sorted(f.flags),
                "content": self.content}


def parse_duration(value: Any) -> timedelta | None:
    """`1d2h30m`, `3h`, `45m` as a timedelta; None if the text is not such a duration."""
    m = DURATION.match(value) if isinstance(value, str) and value else None
    if m is None:
        return None
    days, hours, minutes = (int(g or 0) for g in m.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def expected_kinds(policy: Policy) -> frozenset[str]:
    """The special kinds a pack's library must show (issue 5 §4), where the pack can produce them."""
    kinds = {"major", "invalid", "re_complaint", "extension"}
    if "group" in policy.flags:
        kinds.add("group")
    if "media" in policy.flags or "media" in policy.channels:
        kinds.add("media")
    return frozenset(kinds)


@cache
def load_scenarios(pack: str) -> tuple[Scenario, ...]:
    """The pack's scenarios from `services/training/scenarios/<pack>.toml`, validated (cached per pack)."""
    origin = f"{pack}.toml"
    reader = _ScenarioReader(origin)
    reader.code(pack, "pack", PACK_CODES, "pack")
    try:
        data = tomllib.loads((SCENARIO_DIR / origin).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        reader.fail("", Phrase("error.file.unreadable", reason=exc))
    return reader.read(data, load_policy(pack))


def scenarios_from_data(data: Mapping[str, Any], origin: str) -> tuple[Scenario, ...]:
    """Validate parsed scenario data (a file's or a test's); PolicyError names the origin and the key."""
    reader = _ScenarioReader(origin)
    pack = reader.code(data.get("pack") if isinstance(data, Mapping) else None, "pack", PACK_CODES, "pack")
    return reader.read(data, load_policy(pack))


class _ScenarioReader(_Reader):
    def read(self, data: Mapping[str, Any], policy: Policy) -> tuple[Scenario, ...]:
        top = self.table(data, "", ("pack", "scenarios"))
        self.code(top["pack"], "pack", (policy.code,), "pack")
        self.policy = policy
        scenarios = tuple(self.scenario(entry, f"scenarios[{i}]")
                          for i, entry in enumerate(self.tables(top["scenarios"], "scenarios")))
        codes = [s.code for s in scenarios]
        for i, code in enumerate(codes):
            if code in codes[:i]:
                self.fail(f"scenarios[{i}].code", Phrase("error.scenario.duplicate_code", code=code))
        self.coverage(scenarios)
        return scenarios

    def coverage(self, scenarios: tuple[Scenario, ...]) -> None:
        """Every category of the pack, and every special kind it can produce (issue 5 §4)."""
        missing = [c for c in self.policy.categories if c not in {s.facts.category for s in scenarios}]
        missing += sorted(expected_kinds(self.policy) - set().union(*(s.kinds for s in scenarios)))
        if missing:
            self.fail("scenarios", Phrase("error.scenario.not_covered", missing=Listing(missing)))

    def scenario(self, value: Any, path: str) -> Scenario:
        e = self.table(value, path, ("code", "title", "goal", "received_at", "customer", "facts", "content"),
                       ("at_intake", "steps"))
        code = self.text(e["code"], f"{path}.code")
        if not CODE.match(code):
            self.fail(f"{path}.code", Phrase("error.scenario.bad_code"))
        goal = self.table(e["goal"], f"{path}.goal", ("zh", "en", "source"))
        received = self.instant(e["received_at"], f"{path}.received_at")
        customer = self.table(e["customer"], f"{path}.customer", ("name", "phone"), ("id_number", "account_no"))
        for key, text in customer.items():
            self.text(text, f"{path}.customer.{key}")
        facts = self.facts(e["facts"], f"{path}.facts", received)
        at_intake = None
        if "at_intake" in e:
            at_intake = self.table(e["at_intake"], f"{path}.at_intake", ("explanation", "satisfaction"))
            self.text(at_intake["explanation"], f"{path}.at_intake.explanation")
            self.satisfaction(at_intake["satisfaction"], f"{path}.at_intake.satisfaction")
        steps = tuple(self.step(s, f"{path}.steps[{i}]") for i, s in enumerate(self.tables(e.get("steps", []),
                                                                                              f"{path}.steps")))
        self.in_order(received, steps)
        return Scenario(code, self.policy.code, self.origin, path,
                        self.label(self.table(e["title"], f"{path}.title", ("zh", "en")), f"{path}.title"),
                        self.label(goal, f"{path}.goal"), self.text(goal["source"], f"{path}.goal.source"),
                        received, customer, facts, self.text(e["content"], f"{path}.content"), at_intake, steps,
                        self.kinds(facts, steps, at_intake is not None))

    def in_order(self, received: datetime, steps: tuple[Step, ...]) -> None:
        at = received
        for step in steps:
            if step.when(at) < at:
                self.fail(f"{step.path}.at", Phrase("error.scenario.step_before_previous"))
            at = step.when(at)

    def kinds(self, facts: Facts, steps: tuple[Step, ...], at_intake: bool) -> frozenset[str]:
        """Derived from the data, never declared: what the pack's rules make of the scenario."""
        kinds = {_STEP_KINDS[s.action] for s in steps if s.action in _STEP_KINDS}
        if assess(self.policy, facts, WorkingCalendar.shipped()).grade in MAJOR_GRADES:
            kinds.add("major")
        if "group" in facts.flags:
            kinds.add("group")
        if "media" in facts.flags or facts.channel == "media":
            kinds.add("media")
        if at_intake:
            kinds.add("at_intake")
        return frozenset(kinds)

    def facts(self, value: Any, path: str, received: datetime) -> Facts:
        e = self.table(value, path, ("channel", "category"), ("compensation_claim", "cause", "flags"))
        try:
            return parse_facts({**e, "received_at": received}, self.policy)
        except InvalidInput as exc:
            self.fail(f"{path}.{exc.field}", exc)

    def step(self, value: Any, path: str) -> Step:
        if "action" not in self.mapping(value, path):
            self.fail(f"{path}.action", Phrase("error.pack.missing_key"))
        action = self.code(value["action"], f"{path}.action", STEP_VALUES, "action")
        required, optional = STEP_VALUES[action]
        e = self.table(value, path, ("action", *required), ("after", "at", "by", *optional))
        if ("after" in e) == ("at" in e):
            self.fail(path, Phrase("error.scenario.after_or_at"))
        after = self.duration(e["after"], f"{path}.after") if "after" in e else None
        at = self.instant(e["at"], f"{path}.at") if "at" in e else None
        by = self.code(e.get("by", DEFAULT_BY[action]), f"{path}.by", PERSONAS, "persona")
        values = {k: v for k, v in e.items() if k not in ("action", "after", "at", "by")}
        for key, v in values.items():
            self.value(action, key, v, f"{path}.{key}")
        return Step(action, after, at, by, values, path)

    def value(self, action: str, key: str, v: Any, path: str) -> None:
        p = self.policy
        if key == "satisfaction":
            self.satisfaction(v, path)
        elif key in ("compensation_paid", "compensation_claim"):
            self.amount(v, path)
        elif key == "to_role":
            self.code(v, path, p.roles, "role")
        elif key == "department":
            self.code(v, path, p.departments, "department")
        elif key == "milestone":
            self.code(v, path, p.extension.milestones, "milestone")
        elif action == "classify":
            self.code(v, path, jrt.VOCABULARY[key], f"JR/T 0169 {key}")
        elif key == "new_due" and v != "latest":
            self.duration(v, path)
        else:
            self.text(v, path)

    def satisfaction(self, v: Any, path: str) -> int:
        if isinstance(v, bool) or v not in (1, 2, 3, 4, 5):
            self.fail(path, Phrase("error.scenario.bad_satisfaction"))
        return int(v)

    def duration(self, v: Any, path: str) -> timedelta:
        duration = parse_duration(v)
        if duration is None:
            self.fail(path, Phrase("error.scenario.bad_duration", value=v))
        return duration

    def instant(self, v: Any, path: str) -> datetime:
        try:
            at = datetime.strptime(v, "%Y-%m-%d %H:%M") if isinstance(v, str) else None
        except ValueError:
            at = None
        if at is None:
            self.fail(path, Phrase("error.scenario.bad_time", value=v))
        return at.replace(tzinfo=SHANGHAI)
