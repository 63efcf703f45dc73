"""Validation of policy packs (RULES.md §4): TOML-shaped data checked one key path at a time into
the typed frozen data of services/rules/policy.py; every failure names the file and the key.

Pack schema (services/rules/policies/<code>.toml); every rule entry has `zh`, `en`, `source` and
optionally `inferred = true` (RULES.md marks it inferred):
  code, zh, en, source, warning_window        share of a period that counts as at risk (§3)
  [lifecycle]        return_visit = "required" | "optional"
  [channels.X]                                the pack's own channels (zh, en, source)
  [flags.X]                                   X from FLAGS, as this pack uses them
  [causes.X] [departments.X] [roles.X]        the pack's own codes (zh, en, source optional)
  [categories.X]     department = D           the pack's own codes; the file is their truth (issue 9 §4)
  [[grades]] [[handling_levels]]   code, when?    first match wins; the last has no `when`
  [[routing]]        when, department             first match overrides the category's department
  [[escalations]]    when?, escalate_to?, notify?, warning? = {zh, en}     every match applies
  [[milestones]]     code, start, period, when?, met_by, window_opens?   earliest matching wins
  [extension]        milestones, max_count, limit = "same_period" | "from_start", steps?
  [[duties]]         code, every?, period?        standing duties, not per case
  [documents."seed 004"]  zh, en                  the title of each document `source` cites (issue 10 §3)
  [jrt]              source, required?, channels?, categories?, category_causes?, flag_causes?   pack code →
                     JR/T 0169 code tables suggesting a case's codes; required: codes before archive (§7.4)
  [statutory]        enabled, decision?, extensions?, approval_from?, review_request?, review_decision?,
                     roll_forward?       the regulator's clock beside the pack's (RULES.md §7.1); left out:
                     order 3's 15 / 30 / 60 calendar days, approval from the 2nd extension, reviews 30 + 30
A `when` table ANDs its keys: flags_any, flags_none, claim_over, claim_at_most, claim_zero, cause,
grades, categories, channels, handling_levels, and `any = [ {...}, ... ]` for OR.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Container, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NoReturn

from services.errors import DomainError, Phrase, PolicyError
from services.rules.calendar import Period
from services.rules.jrt import VOCABULARY
from services.rules.policy import (
    ANSWERING_ROLES,
    DUTY_EVERY,
    EVENTS,
    EXTENSION_LIMITS,
    FLAGS,
    GRADES,
    HANDLING_LEVELS,
    MILESTONES,
    PACK_CODES,
    STARTS,
    Category,
    Choice,
    Citation,
    Condition,
    Duty,
    Escalation,
    Extension,
    JrtMapping,
    Label,
    MilestoneRule,
    Policy,
    Routing,
    StatutoryLayer,
    Term,
)


class _OwnCode:
    """Any well-formed code: a pack defines its own categories, causes, channels, departments, roles (issue 9 §4).
    At most 32 characters, the narrowest column that stores one (cases.channel, cases.cause)."""

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,31}", value) is not None


OWN_CODE = _OwnCode()


def read_pack(data: Mapping[str, Any], origin: str, code: str | None = None) -> Policy:
    """Validate pack data read from `origin`; with `code`, the pack must be that one."""
    policy = _PackReader(origin).read(data)
    if code is not None and policy.code != code:
        _Reader(origin).fail("code", Phrase("error.pack.must_be", code=code))
    return policy


_CITE_KEYS = ("zh", "en", "source")
_TOP_KEYS = ("code", "zh", "en", "source", "warning_window", "lifecycle", "channels", "flags", "causes",
             "departments", "roles", "categories", "grades", "milestones", "extension")
_TOP_OPTIONAL = ("handling_levels", "routing", "escalations", "duties", "documents", "statutory", "jrt")
# CBIRC order 2020 no. 3 (RULES.md §7.1, §7.2): what a `[statutory]` table that says no more applies
_STATUTORY_DEFAULTS = {"decision": "15 calendar_days", "extensions": ["30 calendar_days", "60 calendar_days"],
                       "approval_from": 2, "review_request": "30 calendar_days",
                       "review_decision": "30 calendar_days", "roll_forward": True}
_CONDITION_KEYS = ("flags_any", "flags_none", "claim_over", "claim_at_most", "claim_zero",
                   "cause", "grades", "categories", "channels", "handling_levels", "any")
# A grade cannot depend on a grade or handling level; a handling level not on itself (cycles).
_BANNED_IN = {"grades": ("grades", "handling_levels"), "handling_levels": ("handling_levels",)}


_WHAT_ZH = {"pack": "政策包", "channel": "渠道", "flag": "标记", "department": "部门", "role": "角色",
            "category": "类别", "grade": "等级", "handling_level": "处理级别",
            "handling level": "处理级别", "milestone": "时限节点", "start": "起算事件",
            "event": "事件", "cause": "原因", "limit": "延期方式", "frequency": "频率",
            "return-visit rule": "回访要求", "system role": "系统角色",
            "JR/T 0169 channel": "JR/T 0169 渠道", "JR/T 0169 business": "JR/T 0169 业务类别",
            "JR/T 0169 cause": "JR/T 0169 投诉原因"}


def _frozen(mapping: dict[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(mapping)  # a cached Policy is shared: nobody may change it


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Reader:
    """Checks values one key path at a time; every failure names the file and the path."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, path: str, problem: Phrase | DomainError) -> NoReturn:
        raise PolicyError("error.file.at_key", field=path, origin=self.origin, path=path, problem=problem)

    def mapping(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(path, Phrase("error.pack.expected_table"))
        return dict(value)

    def table(self, value: Any, path: str, required: tuple[str, ...],
              optional: tuple[str, ...] = ()) -> dict[str, Any]:
        e = self.mapping(value, path)
        for key in e:
            if key not in required and key not in optional:
                self.fail(_join(path, key), Phrase("error.pack.unknown_key"))
        for key in required:
            if key not in e:
                self.fail(_join(path, key), Phrase("error.pack.missing_key"))
        return e

    def tables(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, Phrase("error.pack.expected_tables"))
        return value

    def opt(self, e: dict[str, Any], path: str, key: str, read: Any, *args: Any) -> Any:
        """`read` an optional key, None when absent."""
        return read(e[key], f"{path}.{key}", *args) if key in e else None

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, Phrase("error.pack.expected_text"))
        return value

    def flag(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            self.fail(path, Phrase("error.pack.expected_bool"))
        return value

    def amount(self, value: Any, path: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            self.fail(path, Phrase("error.pack.expected_amount", value=value))
        return Decimal(str(value))

    def code(self, value: Any, path: str, allowed: Container[str], what: str) -> str:
        if allowed is OWN_CODE and not (isinstance(value, str) and value in allowed):
            self.fail(path, Phrase("error.pack.malformed_code", value=value))
        if not isinstance(value, str) or value not in allowed:
            kind = Label(_WHAT_ZH.get(what, what), what)
            self.fail(path, Phrase("error.pack.unknown_value", what=kind, value=value))
        return value

    def codes(self, value: Any, path: str, allowed: Container[str], what: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.fail(path, Phrase("error.pack.expected_list"))
        out = tuple(self.code(v, f"{path}[{i}]", allowed, what) for i, v in enumerate(value))
        if len(set(out)) != len(out):
            self.fail(path, Phrase("error.pack.duplicates"))
        return out

    def count(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(path, Phrase("error.pack.expected_count"))
        return value

    def period(self, value: Any, path: str) -> Period:
        try:
            return Period.parse(value)
        except ValueError:
            self.fail(path, Phrase("error.pack.bad_duration", value=value))

    def label(self, e: dict[str, Any], path: str) -> Label:
        return Label(self.text(e["zh"], _join(path, "zh")), self.text(e["en"], _join(path, "en")))

    def rule(self, value: Any, path: str, required: tuple[str, ...] = (),
             optional: tuple[str, ...] = ()) -> tuple[dict[str, Any], Citation]:
        """A rule entry: its own keys plus zh, en, source and an optional `inferred`."""
        e = self.table(value, path, (*required, *_CITE_KEYS), (*optional, "inferred"))
        inferred = self.flag(e.get("inferred", False), f"{path}.inferred")
        return e, Citation(path, self.label(e, path), self.text(e["source"], f"{path}.source"),
                           inferred)


class _PackReader(_Reader):
    def read(self, raw: Mapping[str, Any]) -> Policy:
        top = self.table(raw, "", _TOP_KEYS, _TOP_OPTIONAL)
        self.pack = self.code(top["code"], "code", PACK_CODES, "pack")
        window = top["warning_window"]
        if isinstance(window, bool) or not isinstance(window, int | float) or not 0 < window < 1:
            self.fail("warning_window", Phrase("error.pack.warning_window_range"))
        self.channels = self.terms(top, "channels", OWN_CODE)
        self.flags = self.terms(top, "flags", FLAGS)
        self.causes = self.terms(top, "causes", OWN_CODE)
        self.departments = self.terms(top, "departments", OWN_CODE)
        self.roles = self.terms(top, "roles", OWN_CODE)
        self.categories = {code: self.category(code, entry, OWN_CODE) for code, entry
                           in self.mapping(top["categories"], "categories").items()}
        self.grades: tuple[Choice, ...] = ()
        self.levels: tuple[Choice, ...] = ()
        self.grades = self.choices(top, "grades", GRADES)
        self.levels = self.choices(top, "handling_levels", HANDLING_LEVELS)
        self.first_milestone: dict[str, MilestoneRule] = {}
        milestones = self.each(top, "milestones", self.milestone)
        lifecycle, cite = self.rule(top["lifecycle"], "lifecycle", ("return_visit",))
        return_visit = self.code(lifecycle["return_visit"], "lifecycle.return_visit",
                                 ("required", "optional"), "return-visit rule")
        if return_visit == "required" and "return_visit" not in {m.code for m in milestones}:
            self.fail("lifecycle.return_visit", Phrase("error.pack.return_visit_missing"))
        return Policy(
            code=self.pack, origin=self.origin, name=self.label(top, ""),
            source=self.text(top["source"], "source"), warning_window=float(window),
            return_visit=return_visit, lifecycle=cite, channels=_frozen(self.channels),
            flags=_frozen(self.flags), departments=_frozen(self.departments),
            roles=_frozen(self.roles), categories=_frozen(self.categories), causes=_frozen(self.causes),
            grades=self.grades, handling_levels=self.levels,
            routing=self.each(top, "routing", self.routing),
            escalations=self.each(top, "escalations", self.escalation),
            milestones=milestones, extension=self.extension(top["extension"], milestones),
            duties=self.each(top, "duties", self.duty), data=_frozen(copy.deepcopy(dict(raw))),
            documents=_frozen(self.documents(top)),
            statutory=self.statutory(top["statutory"]) if "statutory" in top else None,
            jrt=self.jrt(top["jrt"]) if "jrt" in top else None)

    def jrt(self, value: Any) -> JrtMapping:
        """`[jrt]`: required?, source, and pack code → JR/T 0169 code tables (RULES.md §7.4)."""
        path = "jrt"
        e = self.table(value, path, ("source",), ("required", "channels", "categories", "category_causes",
                                                  "flag_causes"))

        def table(key: str, own: Container[str], what: str, dimension: str) -> Mapping[str, str]:
            out = {}
            for code, target in self.mapping(e.get(key, {}), f"{path}.{key}").items():
                self.code(code, f"{path}.{key}.{code}", own, what)
                out[code] = self.code(target, f"{path}.{key}.{code}", VOCABULARY[dimension],
                                        f"JR/T 0169 {dimension}")
            return _frozen(out)

        return JrtMapping(
            required=self.flag(e.get("required", False), f"{path}.required"),
            channels=table("channels", self.channels, "channel", "channel"),
            categories=table("categories", self.categories, "category", "business"),
            category_causes=table("category_causes", self.categories, "category", "cause"),
            flag_causes=table("flag_causes", self.flags, "flag", "cause"),
            source=self.text(e["source"], f"{path}.source"))

    def statutory(self, value: Any) -> StatutoryLayer:
        path = "statutory"
        e, cite = self.rule(value, path, ("enabled",), tuple(_STATUTORY_DEFAULTS))
        e = {**_STATUTORY_DEFAULTS, **e}

        def days(value: Any, at: str) -> Period:
            period = self.period(value, at)
            if period.kind != "calendar_days":  # every 日 of order 3 is a calendar day (RULES.md §7.1)
                self.fail(at, Phrase("error.pack.statutory_calendar_days"))
            return period

        steps = tuple(days(s, f"{path}.extensions[{i}]") for i, s in enumerate(self.tables(e["extensions"],
                                                                                             f"{path}.extensions")))
        decision = days(e["decision"], f"{path}.decision")
        if [decision.n, *(p.n for p in steps)] != sorted({decision.n, *(p.n for p in steps)}):
            self.fail(f"{path}.extensions", Phrase("error.pack.statutory_steps_grow"))
        approval_from = self.count(e["approval_from"], f"{path}.approval_from")
        return StatutoryLayer(
            enabled=self.flag(e["enabled"], f"{path}.enabled"), decision=decision, extensions=steps,
            approval_from=approval_from, review_request=days(e["review_request"], f"{path}.review_request"),
            review_decision=days(e["review_decision"], f"{path}.review_decision"),
            roll_forward=self.flag(e["roll_forward"], f"{path}.roll_forward"), cite=cite)

    def documents(self, top: dict[str, Any]) -> dict[str, Label]:
        """Titles of the cited documents; a pack edited before issue 10 has none (citations stay as stored)."""
        out = {}
        for ref, entry in self.mapping(top.get("documents", {}), "documents").items():
            path = f"documents.{ref}"
            out[self.text(ref, path)] = self.label(self.table(entry, path, ("zh", "en"), ()), path)
        return out

    def each(self, top: dict[str, Any], key: str, read: Any) -> tuple[Any, ...]:
        entries = self.tables(top.get(key, []), key)
        return tuple(read(entry, f"{key}[{i}]") for i, entry in enumerate(entries))

    def terms(self, top: dict[str, Any], key: str, allowed: Container[str]) -> dict[str, Term]:
        cited = key in ("channels", "flags")  # what they mean in this pack needs a source
        # An escalation to a pack role is answered by a system role (issue 8 §1), so roles name it.
        answered = ("answered_by",) if key == "roles" else ()
        out: dict[str, Term] = {}
        for code, entry in self.mapping(top[key], key).items():
            path = f"{key}.{code}"
            self.code(code, path, allowed, key.rstrip("s"))
            e = self.table(entry, path, (*(_CITE_KEYS if cited else ("zh", "en")), *answered),
                           () if cited else ("source", *(("rank",) if answered else ())))
            out[code] = Term(code, self.label(e, path), self.opt(e, path, "source", self.text),
                             self.opt(e, path, "answered_by", self.code, ANSWERING_ROLES, "system role"),
                             self.opt(e, path, "rank", self.count) or 0)
        return out

    def category(self, code: str, entry: Any, allowed: Container[str]) -> Category:
        path = f"categories.{code}"
        self.code(code, path, allowed, "category")
        e, cite = self.rule(entry, path, ("department",))
        department = self.code(e["department"], f"{path}.department", self.departments,
                               "department")
        return Category(code, department, cite)

    def choices(self, top: dict[str, Any], key: str, allowed: Container[str]) -> tuple[Choice, ...]:
        entries = self.tables(top.get(key, []), key)
        if key == "grades" and not entries:  # every case is graded: assess needs a catch-all grade
            self.fail(key, Phrase("error.pack.needs_an_entry"))
        out: list[Choice] = []
        for i, entry in enumerate(entries):
            path = f"{key}[{i}]"
            e, cite = self.rule(entry, path, ("code",), ("when",))
            code = self.code(e["code"], f"{path}.code", allowed, key.rstrip("s"))
            when = self.opt(e, path, "when", self.when, key)
            if (when is None) != (i == len(entries) - 1):  # first match wins, so a catch-all
                self.fail(path, Phrase("error.pack.default_last"))
            out.append(Choice(code, when, cite))
        return tuple(out)

    def routing(self, entry: Any, path: str) -> Routing:
        e, cite = self.rule(entry, path, ("when", "department"))
        department = self.code(e["department"], f"{path}.department", self.departments,
                               "department")
        return Routing(department, self.when(e["when"], f"{path}.when", "routing"), cite)

    def escalation(self, entry: Any, path: str) -> Escalation:
        e, cite = self.rule(entry, path, (), ("when", "escalate_to", "notify", "warning"))
        warning = self.opt(e, path, "warning", self.table, ("zh", "en"))
        return Escalation(
            when=self.opt(e, path, "when", self.when, "escalations"),
            escalate_to=self.opt(e, path, "escalate_to", self.codes, self.roles, "role") or (),
            notify=self.opt(e, path, "notify", self.codes, self.departments, "department") or (),
            warning=None if warning is None else self.label(warning, f"{path}.warning"),
            cite=cite)

    def milestone(self, entry: Any, path: str) -> MilestoneRule:
        e, cite = self.rule(entry, path, ("code", "start", "period", "met_by"),
                            ("when", "window_opens"))
        rule = MilestoneRule(
            code=self.code(e["code"], f"{path}.code", MILESTONES, "milestone"),
            start=self.code(e["start"], f"{path}.start", STARTS, "start"),
            period=self.period(e["period"], f"{path}.period"),
            when=self.opt(e, path, "when", self.when, "milestones"),
            met_by=self.codes(e["met_by"], f"{path}.met_by", EVENTS, "event"),
            window_opens=self.opt(e, path, "window_opens", self.period), cite=cite)
        # Entries of one milestone are alternatives (earliest wins): same start, same events.
        first = self.first_milestone.setdefault(rule.code, rule)
        for key in ("start", "met_by"):
            if getattr(rule, key) != getattr(first, key):
                self.fail(f"{path}.{key}", Phrase("error.pack.milestone_differs", other=first.cite.path))
        return rule

    def extension(self, value: Any, milestones: tuple[MilestoneRule, ...]) -> Extension:
        path = "extension"
        e, cite = self.rule(value, path, ("milestones", "max_count", "limit"), ("steps",))
        codes = self.codes(e["milestones"], f"{path}.milestones",
                           {m.code for m in milestones}, "milestone")
        count = e["max_count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            self.fail(f"{path}.max_count", Phrase("error.pack.expected_count"))
        limit = self.code(e["limit"], f"{path}.limit", EXTENSION_LIMITS, "limit")
        steps = e.get("steps", [])
        if (limit == "from_start") != ("steps" in e) or not isinstance(steps, list) or (
                limit == "from_start" and len(steps) != count):
            self.fail(f"{path}.steps", Phrase("error.pack.extension_steps", count=count))
        periods = tuple(self.period(s, f"{path}.steps[{i}]") for i, s in enumerate(steps))
        return Extension(codes, count, limit, periods, cite)

    def duty(self, entry: Any, path: str) -> Duty:
        e, cite = self.rule(entry, path, ("code",), ("every", "period"))
        return Duty(self.text(e["code"], f"{path}.code"),
                    self.opt(e, path, "every", self.code, DUTY_EVERY, "frequency"),
                    self.opt(e, path, "period", self.period), cite)

    def when(self, value: Any, path: str, section: str) -> Condition:
        """A `when` table: its keys are ANDed, `any` lists alternatives."""
        banned = _BANNED_IN.get(section, ())
        e = self.table(value, path, (), tuple(k for k in _CONDITION_KEYS if k not in banned))
        if not e:
            self.fail(path, Phrase("error.pack.empty_condition"))
        sets: dict[str, tuple[Container[str], str]] = {
            "flags_any": (self.flags, "flag"), "flags_none": (self.flags, "flag"),
            "grades": ({c.code for c in self.grades}, "grade"),
            "categories": (self.categories, "category"), "channels": (self.channels, "channel"),
            "handling_levels": ({c.code for c in self.levels}, "handling level")}
        kw: dict[str, Any] = {key: frozenset(self.codes(e[key], f"{path}.{key}", *sets[key]))
                              for key in sets if key in e}
        for key in ("claim_over", "claim_at_most"):
            if key in e:
                kw[key] = self.amount(e[key], f"{path}.{key}")
        kw["claim_zero"] = self.opt(e, path, "claim_zero", self.flag)
        kw["cause"] = self.opt(e, path, "cause", self.code, self.causes, "cause")
        if "any" in e:
            alternatives = self.tables(e["any"], f"{path}.any")
            if not alternatives:
                self.fail(f"{path}.any", Phrase("error.pack.expected_list"))
            kw["any"] = tuple(self.when(a, f"{path}.any[{i}]", section)
                              for i, a in enumerate(alternatives))
        return Condition(**kw)
