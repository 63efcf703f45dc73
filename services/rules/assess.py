"""The rules engine (RULES.md §3, §4): case facts + policy pack -> grade, routing, escalation and
deadlines, each decision explained with the pack rule and seed article that produced it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from services.errors import InvalidInput, PolicyError
from services.rules import statutory
from services.rules.calendar import Period, WorkingCalendar, at_risk_from, due, iso
from services.rules.facts import FACT_KEYS as FACT_KEYS  # re-exported with parse_facts
from services.rules.facts import Facts as Facts  # re-exported: the assessment's input
from services.rules.facts import check_facts
from services.rules.facts import parse_facts as parse_facts
from services.rules.policy import Citation, Condition, Label, Policy, StatutoryLayer
from services.rules.reasons import Phrase, Reason, cited, cny, codes, instant, pack_text, phrase
from services.rules.reasons import explanation as render_explanation
from services.rules.reasons import warnings as render_warnings
from services.words import text


@dataclass(frozen=True)
class MilestoneDeadline:
    """The deadline of one milestone and the pack rule that set it."""

    code: str
    anchor: str  # received | forwarded | resolved
    starts_at: datetime
    estimated_start: bool  # not yet forwarded: counted from receipt
    period: Period
    due: datetime  # exclusive instant (RULES.md §3)
    window_opens: datetime | None
    at_risk_from: datetime  # start of the pack's warning window (RULES.md §3)
    met_by: tuple[str, ...]
    rule: str  # e.g. "milestones[1]"
    source: str
    inferred: bool


@dataclass(frozen=True)
class Assessment:
    policy: str
    grade: str
    handling_level: str | None
    responsible_department: str
    escalate_to: tuple[str, ...]
    notify: tuple[str, ...]
    milestones: tuple[MilestoneDeadline, ...]  # in pack order
    reasons: tuple[Reason, ...]  # what is stored (issue 9 §6) ...
    notices: tuple[Phrase, ...]
    warnings: tuple[str, ...]  # ... and both rendered in the language assess() was asked for
    explanation: tuple[str, ...]
    years_without_data: frozenset[int]

    @property
    def deadlines(self) -> dict[str, datetime]:
        return {m.code: m.due for m in self.milestones}

    def milestone(self, code: str) -> MilestoneDeadline | None:
        return next((m for m in self.milestones if m.code == code), None)

    def to_json(self) -> dict[str, Any]:
        """What a case stores: codes, instants and reasons as data, never prose (issue 9 §6)."""
        return {
            "policy": self.policy, "grade": self.grade, "handling_level": self.handling_level,
            "responsible_department": self.responsible_department,
            "escalate_to": list(self.escalate_to), "notify": list(self.notify),
            "deadlines": {code: iso(at)
                          for code, at in self.deadlines.items()},
            "reasons": [r.to_json() for r in self.reasons], "notices": list(self.notices),
        }


# --- reasons ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    facts: Facts
    grade: str | None = None
    handling_level: str | None = None


class _Reasons:
    """Builds each decision's reasons as message keys and parameters (services/rules/reasons.py)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def after(self, anchor: str, period: Period) -> Phrase:
        """`受理后 10 个工作日` / `10 working days after receipt`."""
        event = codes("start", [anchor])
        if period.kind == "same_day_cutoff" and period.cutoff is not None:
            return phrase("reason.same_day_cutoff", event=event, cutoff=f"{period.cutoff:%H:%M}")
        length = phrase(f"reason.{period.kind}{'_one' if period.n == 1 else ''}", n=period.n)
        return phrase("reason.after", event=event, period=length)

    def reason(self, head: Sequence[Phrase], why: Sequence[Phrase], cite: Citation,
               notes: Sequence[Phrase] = ()) -> Reason:
        return Reason(tuple(head), tuple(why), cite, f"{self.policy.code}.{cite.path}", tuple(notes))

    def why(self, cond: Condition | None, ctx: _Context, default: str) -> list[Phrase] | None:
        """The reasons a condition holds (None when it does not); no condition: [default]."""
        if cond is None:
            return [phrase(default)] if default else []
        f, out = ctx.facts, []
        sets = {"flags_any": (f.flags, "flag"), "grades": ({ctx.grade}, "grade"),
                "categories": ({f.category}, "category"), "channels": ({f.channel}, "channel"),
                "handling_levels": ({ctx.handling_level}, "handling_level")}
        for key, (have, kind) in sets.items():
            wanted = getattr(cond, key)
            if wanted is not None:
                hit = [c for c in sorted(wanted) if c in have]
                if not hit:
                    return None
                out.append(phrase(f"reason.{key}", codes=codes(kind, hit)))
        if cond.flags_none is not None:
            if cond.flags_none & f.flags:
                return None
            out.append(phrase("reason.flags_none", codes=codes("flag", sorted(cond.flags_none))))
        claim, low, high = f.compensation_claim, cond.claim_over, cond.claim_at_most
        if (low is not None and not claim > low) or (high is not None and not claim <= high):
            return None
        if low is not None and high is not None:
            out.append(phrase("reason.claim_between", low=cny(low), claim=cny(claim), high=cny(high)))
        elif low is not None:
            out.append(phrase("reason.claim_over", claim=cny(claim), limit=cny(low)))
        elif high is not None:
            out.append(phrase("reason.claim_at_most", claim=cny(claim), limit=cny(high)))
        if cond.claim_zero is not None:
            if cond.claim_zero != (claim == 0):
                return None
            out.append(phrase("reason.claim_zero") if claim == 0 else phrase("reason.claim_some", claim=cny(claim)))
        if cond.cause is not None:
            if cond.cause != f.cause:
                return None
            out.append(phrase("reason.cause", codes=codes("cause", [f.cause])))
        if cond.any:
            alternatives = (self.why(alt, ctx, "") for alt in cond.any)
            held = next((why for why in alternatives if why is not None), None)
            if held is None:
                return None
            out.extend(held)
        return out


def calendar_warning(year: int, lang: str = "zh") -> str:
    """RULES.md §3: a year without calendar data falls back to Mon-Fri, and says so."""
    return text("reason.no_data", lang, year=year)


# --- assessment ------------------------------------------------------------------------------------


def assess(policy: Policy, facts: Facts, calendar: WorkingCalendar, lang: str = "zh", *,
           prose: bool = True) -> Assessment:
    """Apply the pack to the facts: RULES.md §4 decisions and §3 deadlines, all explained.

    The reasons are data (stored on the case); `explanation` and `warnings` render them in `lang` — or stay
    empty without `prose`, for a writer that stores the assessment of thousands of cases and shows no one the
    words (rendering is 60 % of the time, issue 13 §3)."""
    check_facts(policy, facts)
    b, ctx = _Reasons(policy), _Context(facts)
    reasons: list[Reason] = []
    grade = _choose(policy.grades, ctx, b, "reason.grade", "grade", reasons)
    ctx = replace(ctx, grade=grade)
    level = _choose(policy.handling_levels, ctx, b, "reason.level", "handling_level", reasons)
    ctx = replace(ctx, handling_level=level)
    department = _department(policy, ctx, b, reasons)
    escalate_to, notify, notices = _escalations(policy, ctx, b, reasons)
    milestones, missing = _deadlines(policy, ctx, calendar, b, reasons)
    notices += [phrase("reason.no_data", year=year) for year in sorted(missing)]
    return Assessment(policy.code, grade, level, department, escalate_to, notify, milestones,
                      tuple(reasons), tuple(notices), tuple(render_warnings(policy, notices, lang) if prose else ()),
                      tuple(render_explanation(policy, [r.to_json() for r in reasons], lang) if prose else ()),
                      frozenset(missing))


def _choose(rules: Sequence[Any], ctx: _Context, b: _Reasons, head: str, kind: str, reasons: list[Reason]) -> Any:
    """First match wins (the pack's last entry is unconditional); None if the pack has none."""
    for rule in rules:
        why = b.why(rule.when, ctx, "reason.otherwise")
        if why is not None:
            reasons.append(b.reason([phrase(head, value=codes(kind, [rule.code]))], why, rule.cite))
            return rule.code
    return None


def _department(policy: Policy, ctx: _Context, b: _Reasons, reasons: list[Reason]) -> str:
    """A routing override (first match) or else the category's department (RULES.md §4)."""
    category = policy.categories[ctx.facts.category]
    chosen, why, cite = category.department, [phrase("reason.categories", codes=codes(
        "category", [category.code]))], category.cite
    for rule in policy.routing:
        held = b.why(rule.when, ctx, "")
        if held is not None:
            chosen, why, cite = rule.department, held, rule.cite
            break
    reasons.append(b.reason([phrase("reason.department", value=codes("department", [chosen]))], why, cite))
    return chosen


def _escalations(policy: Policy, ctx: _Context, b: _Reasons, reasons: list[Reason]
                 ) -> tuple[tuple[str, ...], tuple[str, ...], list[Phrase]]:
    """Every matching escalation applies; roles and departments keep their first order."""
    escalate_to: dict[str, None] = {}
    notify: dict[str, None] = {}
    notices: list[Phrase] = []
    for rule in policy.escalations:
        why = b.why(rule.when, ctx, "reason.always")
        if why is None:
            continue
        escalate_to.update(dict.fromkeys(rule.escalate_to))
        notify.update(dict.fromkeys(rule.notify))
        head = [phrase(key, codes=codes(kind, values)) for key, kind, values in (
            ("reason.escalate", "role", rule.escalate_to), ("reason.notify", "department", rule.notify)) if values]
        reasons.append(b.reason(head or [phrase("reason.note", text=pack_text(rule.cite.label))], why, rule.cite))
        if rule.warning is not None:
            notices.append(phrase("reason.pack_warning", text=pack_text(rule.warning)))
    return tuple(escalate_to), tuple(notify), notices


def _anchor(start: str, facts: Facts) -> tuple[datetime, bool] | None:
    """When a milestone starts; forwarded-start milestones count from receipt until forwarded."""
    if start == "received":
        return facts.received_at, False
    if start == "forwarded":
        return (facts.forwarded_at, False) if facts.forwarded_at else (facts.received_at, True)
    return (facts.resolved_at, False) if facts.resolved_at else None


def _deadlines(policy: Policy, ctx: _Context, calendar: WorkingCalendar, b: _Reasons,
               reasons: list[Reason]) -> tuple[tuple[MilestoneDeadline, ...], set[int]]:
    candidates: dict[str, list[tuple[MilestoneDeadline, list[Phrase]]]] = {}
    missing: set[int] = set()
    for rule in policy.milestones:
        why = b.why(rule.when, ctx, "")
        anchor = _anchor(rule.start, ctx.facts)
        if why is None or anchor is None:
            continue
        start, estimated = anchor
        deadline = due(calendar, rule.period, start)
        window = due(calendar, rule.window_opens, start) if rule.window_opens else None
        missing |= deadline.years_without_data | (window.years_without_data if window else set())
        at_risk = at_risk_from(start, deadline.at, policy.warning_window)
        m = MilestoneDeadline(rule.code, rule.start, start, estimated, rule.period, deadline.at,
                              window.at if window else None, at_risk, rule.met_by,
                              rule.cite.path, rule.cite.source, rule.cite.inferred)
        candidates.setdefault(rule.code, []).append((m, why))
    chosen: list[MilestoneDeadline] = []
    for code, options in candidates.items():
        # RULES.md §4.3 and the brief: where several entries match, the earliest deadline wins.
        best, why = min(options, key=lambda option: option[0].due)
        chosen.append(best)
        notes = [phrase("reason.estimated")] if best.estimated_start else []
        if best.window_opens is not None:
            notes.append(phrase("reason.window", at=instant(best.window_opens)))
        others = [phrase("reason.gives", rule=cited(m.source, f"{policy.code}.{m.rule}"), due=instant(m.due))
                  for m, _ in options if m is not best]
        if others:
            notes.append(phrase("reason.earliest", others=others))
        cite = next(r.cite for r in policy.milestones if r.cite.path == best.rule)
        head = phrase("reason.deadline", milestone=codes("milestone", [code]), due=instant(best.due))
        reasons.append(b.reason([head], [b.after(best.anchor, best.period), *why], cite, notes))
    if policy.statutory is not None and policy.statutory.enabled:
        chosen.append(_statutory(policy, policy.statutory, ctx.facts, calendar, b, reasons, missing))
    return tuple(chosen), missing


def _statutory(policy: Policy, layer: StatutoryLayer, facts: Facts, calendar: WorkingCalendar, b: _Reasons,
               reasons: list[Reason], missing: set[int]) -> MilestoneDeadline:
    """The regulator's decision deadline beside the pack's own (RULES.md §7.1): from receipt, or from the new
    facts that restarted it, in calendar days, moved by the days the clock was paused."""
    start = facts.clock_start
    deadline = statutory.statutory_due(layer, calendar, layer.decision, start, facts.paused_days)
    missing |= deadline.years_without_data
    m = MilestoneDeadline(statutory.MILESTONE, "received", start, False, layer.decision, deadline.at, None,
                          at_risk_from(start, deadline.at, policy.warning_window), statutory.MET_BY,
                          layer.cite.path, layer.cite.source, layer.cite.inferred)
    notes = [phrase("reason.statutory_restarted", at=instant(start))] if facts.clock_started_at else []
    notes += [phrase("reason.statutory_paused", days=facts.paused_days)] if facts.paused_days else []
    head = phrase("reason.deadline", milestone=codes("milestone", [m.code]), due=instant(m.due))
    reasons.append(b.reason([head], [b.after("received", layer.decision)], layer.cite, notes))
    return m


# --- extensions ------------------------------------------------------------------------------------


def latest_extension(policy: Policy, calendar: WorkingCalendar, milestone: str, start: datetime,
                     current_due: datetime, extensions_so_far: int, *,
                     period: Period | str | None = None) -> datetime:
    """The latest deadline an extension of `milestone` may set (RULES.md §3, pack [extension]).

    `period` is the period that set the case's deadline (MilestoneDeadline.period); it may be
    left out when the pack gives the milestone a single period."""
    rule = policy.extension
    if milestone not in rule.milestones:
        name = Label(policy.label("milestone", milestone, "zh"), policy.label("milestone", milestone, "en"))
        raise PolicyError("error.extension.milestone_not_extendable", field="milestone", code=policy.code,
                          milestone=name)
    if extensions_so_far >= rule.max_count:
        raise PolicyError("error.extension.limit_reached", field="extensions", count=extensions_so_far,
                          code=policy.code, most=rule.max_count)
    for label, at in (("start", start), ("current_due", current_due)):
        if at.tzinfo is None or at.utcoffset() is None:
            raise InvalidInput("error.time.not_aware", field=label)
    if rule.limit == "from_start":
        # bank: 30 days from receipt, then 60 — never beyond (CBIRC order 2020 no. 3)
        latest = due(calendar, rule.steps[extensions_so_far], start).at
    else:
        base = _extension_period(policy, calendar, milestone, start, current_due, period)
        latest = _period_again(calendar, base, current_due)
    if latest <= current_due:
        raise PolicyError("error.extension.at_limit", field="extensions")
    return latest


def _extension_period(policy: Policy, calendar: WorkingCalendar, milestone: str, start: datetime,
                      current_due: datetime, period: Period | str | None) -> Period:
    """The period that set the deadline: given, or the pack's only one, or the one whose
    deadline from `start` is `current_due` (a not-yet-extended deadline)."""
    if isinstance(period, str):
        try:
            return Period.parse(period)
        except ValueError:
            raise InvalidInput("error.extension.bad_period", field="period", period=period) from None
    if period is not None:
        return period
    periods = list({str(m.period): m.period for m in policy.milestones if m.code == milestone}.values())
    if len(periods) > 1:
        periods = [p for p in periods if due(calendar, p, start).at == current_due]
    if not periods:
        raise InvalidInput("error.extension.period_unknown", field="period")
    return periods[0]


def _period_again(calendar: WorkingCalendar, period: Period, current_due: datetime) -> datetime:
    """The period counted again right after the current deadline. Day-based deadlines are the
    exclusive 00:00 after their last day, so count from that last day; a cutoff from just past it."""
    if period.kind in ("working_days", "calendar_days"):
        anchor = current_due - timedelta(microseconds=1)
    elif period.kind == "same_day_cutoff":
        anchor = current_due + timedelta(microseconds=1)
    else:
        anchor = current_due
    return due(calendar, period, anchor).at
