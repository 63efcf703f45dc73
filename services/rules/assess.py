"""The rules engine (RULES.md §3, §4): case facts + policy pack -> grade, routing, escalation and
deadlines, each decision explained with the pack rule and seed article that produced it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from services.errors import InvalidInput, PolicyError
from services.rules.calendar import SHANGHAI, Period, WorkingCalendar, at_risk_from, due, format_deadline
from services.rules.facts import FACT_KEYS as FACT_KEYS  # re-exported with parse_facts
from services.rules.facts import Facts as Facts  # re-exported: the assessment's input
from services.rules.facts import check_facts
from services.rules.facts import parse_facts as parse_facts
from services.rules.policy import Choice, Citation, Condition, Policy


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
    warnings: tuple[str, ...]
    explanation: tuple[str, ...]
    years_without_data: frozenset[int]

    @property
    def deadlines(self) -> dict[str, datetime]:
        return {m.code: m.due for m in self.milestones}

    def milestone(self, code: str) -> MilestoneDeadline | None:
        return next((m for m in self.milestones if m.code == code), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy, "grade": self.grade, "handling_level": self.handling_level,
            "responsible_department": self.responsible_department,
            "escalate_to": list(self.escalate_to), "notify": list(self.notify),
            "deadlines": {code: at.astimezone(SHANGHAI).isoformat()
                          for code, at in self.deadlines.items()},
            "warnings": list(self.warnings), "explanation": list(self.explanation),
        }


# --- explanation texts -----------------------------------------------------------------------------

_PHRASES = {
    "zh": {"flags_any": "标记：{}", "flags_none": "未标记：{}", "claim_over": "索赔金额 {} 元 > {} 元",
           "claim_at_most": "索赔金额 {} 元 ≤ {} 元",
           "claim_between": "{} 元 < 索赔金额 {} 元 ≤ {} 元", "claim_zero": "未涉及赔偿",
           "claim_some": "索赔金额 {} 元", "cause": "原因：{}", "grades": "等级：{}",
           "categories": "类别：{}", "channels": "渠道：{}", "handling_levels": "处理级别：{}",
           "otherwise": "其他情况", "always": "所有投诉", "grade": "等级", "level": "处理级别",
           "department": "责任部门", "escalate": "上报：{}", "notify": "通知：{}", "note": "提示：{}",
           "deadline": "期限 {}", "after": "{}后 {}", "estimated": "尚未转办，按受理时间起算",
           "window": "窗口 {} 起", "earliest": "多条规则适用，取最早：{}",
           "gives": "{} 为 {}", "inferred": "（推断）", "no_data": "{} 年没有工作日历数据，按周一至周五计算",
           "hours": "{} 小时", "working_days": "{} 个工作日", "calendar_days": "{} 个自然日",
           "same_day_cutoff": "{}当日 {} 截止", "sep": "、", "colon": "：", "open": "（", "close": "）",
           "semi": "；", "comma": "，"},
    "en": {"flags_any": "flag {}", "flags_none": "not flagged {}", "claim_over": "claim {} CNY > {} CNY",
           "claim_at_most": "claim {} CNY <= {} CNY",
           "claim_between": "{} CNY < claim {} CNY <= {} CNY", "claim_zero": "no compensation claimed",
           "claim_some": "claim {} CNY", "cause": "cause {}", "grades": "grade {}",
           "categories": "category {}", "channels": "channel {}", "handling_levels": "{}",
           "otherwise": "otherwise", "always": "every complaint", "grade": "Grade",
           "level": "Handling level", "department": "Responsible department",
           "escalate": "escalate to {}", "notify": "notify {}", "note": "note: {}",
           "deadline": "Deadline {}", "after": "{1} after {0}",
           "estimated": "not yet forwarded: counted from receipt", "window": "window opens {}",
           "earliest": "several rules apply, the earliest wins: {}", "gives": "{} gives {}",
           "inferred": " (inferred)",
           "no_data": "No working-day calendar data for {}: Monday to Friday counted as working days",
           "hours": "{} hours", "working_days": "{} working days", "calendar_days": "{} calendar days",
           "same_day_cutoff": "{1} on the day of {0}", "sep": ", ", "colon": ": ", "open": " (",
           "close": ")", "semi": "; ", "comma": ", "},
}


@dataclass(frozen=True)
class _Context:
    facts: Facts
    grade: str | None = None
    handling_level: str | None = None


class _Texts:
    def __init__(self, policy: Policy, lang: str) -> None:
        self.policy, self.lang = policy, lang if lang in _PHRASES else "en"
        self.p = _PHRASES[self.lang]

    def say(self, key: str, *args: object) -> str:
        return self.p[key].format(*args)

    def names(self, kind: str, codes: Iterable[str]) -> str:
        return self.p["sep"].join(self.policy.label(kind, c, self.lang) for c in codes)

    def after(self, anchor: str, period: Period) -> str:
        """`受理后 10 个工作日` / `10 working days after receipt`."""
        event = self.policy.label("start", anchor, self.lang)
        if period.kind == "same_day_cutoff" and period.cutoff is not None:
            return self.say("same_day_cutoff", event, f"{period.cutoff:%H:%M}")
        text = self.say(period.kind, period.n)
        return self.say("after", event, text[:-1] if self.lang == "en" and period.n == 1 else text)

    def line(self, head: str, reasons: list[str], cite: Citation, extra: Sequence[str] = ()) -> str:
        """`head（reasons；pack.rule，seed …）` — every decision cites its rule (RULES.md §4)."""
        ref = f"{self.policy.code}.{cite.path}{self.p['comma']}{cite.source}"
        body = self.p["semi"].join([self.p["comma"].join(reasons), ref, *extra] if reasons
                                   else [ref, *extra])
        tail = self.p["inferred"] if cite.inferred else ""
        return f"{head}{self.p['open']}{body}{self.p['close']}{tail}"

    def why(self, cond: Condition | None, ctx: _Context, default: str) -> list[str] | None:
        """The reasons a condition holds (None when it does not); no condition: [default]."""
        if cond is None:
            return [self.p[default]] if default else []
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
                out.append(self.say(key, self.names(kind, hit)))
        if cond.flags_none is not None:
            if cond.flags_none & f.flags:
                return None
            out.append(self.say("flags_none", self.names("flag", sorted(cond.flags_none))))
        claim, low, high = f.compensation_claim, cond.claim_over, cond.claim_at_most
        if (low is not None and not claim > low) or (high is not None and not claim <= high):
            return None
        if low is not None and high is not None:
            out.append(self.say("claim_between", _cny(low), _cny(claim), _cny(high)))
        elif low is not None:
            out.append(self.say("claim_over", _cny(claim), _cny(low)))
        elif high is not None:
            out.append(self.say("claim_at_most", _cny(claim), _cny(high)))
        if cond.claim_zero is not None:
            if cond.claim_zero != (claim == 0):
                return None
            out.append(self.say("claim_zero") if claim == 0 else self.say("claim_some", _cny(claim)))
        if cond.cause is not None:
            if cond.cause != f.cause:
                return None
            out.append(self.say("cause", self.policy.label("cause", f.cause, self.lang)))
        if cond.any:
            alternatives = (self.why(alt, ctx, "") for alt in cond.any)
            held = next((why for why in alternatives if why is not None), None)
            if held is None:
                return None
            out.extend(held)
        return out


def calendar_warning(year: int, lang: str = "zh") -> str:
    """RULES.md §3: a year without calendar data falls back to Mon-Fri, and says so."""
    return _PHRASES["zh" if lang == "zh" else "en"]["no_data"].format(year)


def _cny(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount:,}"


# --- assessment ------------------------------------------------------------------------------------


def assess(policy: Policy, facts: Facts, calendar: WorkingCalendar, lang: str = "zh") -> Assessment:
    """Apply the pack to the facts: RULES.md §4 decisions and §3 deadlines, all explained."""
    check_facts(policy, facts)
    t, ctx = _Texts(policy, lang), _Context(facts)
    explanation: list[str] = []
    grade = _choose(policy.grades, ctx, t, "grade", "grade", explanation)
    assert grade is not None  # the pack schema demands grades whose last entry has no `when`
    ctx = replace(ctx, grade=grade)
    level = _choose(policy.handling_levels, ctx, t, "level", "handling_level", explanation)
    ctx = replace(ctx, handling_level=level)
    department = _department(policy, ctx, t, explanation)
    escalate_to, notify, warnings = _escalations(policy, ctx, t, explanation)
    milestones, missing = _deadlines(policy, ctx, calendar, t, explanation)
    warnings += [calendar_warning(year, lang) for year in sorted(missing)]
    return Assessment(policy.code, grade, level, department, escalate_to, notify, milestones,
                      tuple(warnings), tuple(explanation), frozenset(missing))


def _choose(rules: tuple[Choice, ...], ctx: _Context, t: _Texts, title: str, kind: str,
            explanation: list[str]) -> str | None:
    """First match wins (the pack's last entry is unconditional); None if the pack has none."""
    for rule in rules:
        why = t.why(rule.when, ctx, "otherwise")
        if why is not None:
            head = f"{t.p[title]}{t.p['colon']}{t.policy.label(kind, rule.code, t.lang)}"
            explanation.append(t.line(head, why, rule.cite))
            return rule.code
    return None


def _department(policy: Policy, ctx: _Context, t: _Texts, explanation: list[str]) -> str:
    """A routing override (first match) or else the category's department (RULES.md §4)."""
    category = policy.categories[ctx.facts.category]
    chosen, why, cite = category.department, [t.say("categories", t.names(
        "category", [category.code]))], category.cite
    for rule in policy.routing:
        reasons = t.why(rule.when, ctx, "")
        if reasons is not None:
            chosen, why, cite = rule.department, reasons, rule.cite
            break
    head = f"{t.p['department']}{t.p['colon']}{policy.label('department', chosen, t.lang)}"
    explanation.append(t.line(head, why, cite))
    return chosen


def _escalations(policy: Policy, ctx: _Context, t: _Texts, explanation: list[str]
                 ) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    """Every matching escalation applies; roles and departments keep their first order."""
    escalate_to: dict[str, None] = {}
    notify: dict[str, None] = {}
    warnings: list[str] = []
    for rule in policy.escalations:
        why = t.why(rule.when, ctx, "always")
        if why is None:
            continue
        escalate_to.update(dict.fromkeys(rule.escalate_to))
        notify.update(dict.fromkeys(rule.notify))
        parts = [t.say(key, t.names(kind, codes)) for key, kind, codes in (
            ("escalate", "role", rule.escalate_to), ("notify", "department", rule.notify)) if codes]
        head = t.p["semi"].join(parts) or t.say("note", rule.cite.label.text(t.lang))
        explanation.append(t.line(head[0].upper() + head[1:], why, rule.cite))
        if rule.warning is not None:
            warnings.append(rule.warning.text(t.lang))
    return tuple(escalate_to), tuple(notify), warnings


def _anchor(start: str, facts: Facts) -> tuple[datetime, bool] | None:
    """When a milestone starts; forwarded-start milestones count from receipt until forwarded."""
    if start == "received":
        return facts.received_at, False
    if start == "forwarded":
        return (facts.forwarded_at, False) if facts.forwarded_at else (facts.received_at, True)
    return (facts.resolved_at, False) if facts.resolved_at else None


def _deadlines(policy: Policy, ctx: _Context, calendar: WorkingCalendar, t: _Texts,
               explanation: list[str]) -> tuple[tuple[MilestoneDeadline, ...], set[int]]:
    candidates: dict[str, list[tuple[MilestoneDeadline, list[str]]]] = {}
    missing: set[int] = set()
    for rule in policy.milestones:
        why = t.why(rule.when, ctx, "")
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
        extra = [t.say("estimated")] if best.estimated_start else []
        if best.window_opens is not None:
            extra.append(t.say("window", format_deadline(best.window_opens)))
        others = [t.say("gives", f"{policy.code}.{m.rule}", format_deadline(m.due))
                  for m, _ in options if m is not best]
        if others:
            extra.append(t.say("earliest", t.p["sep"].join(others)))
        cite = next(r.cite for r in policy.milestones if r.cite.path == best.rule)
        head = (f"{t.say('deadline', policy.label('milestone', code, t.lang))}{t.p['colon']}"
                f"{format_deadline(best.due)}")
        explanation.append(t.line(head, [t.after(best.anchor, best.period), *why], cite, extra))
    return tuple(chosen), missing


# --- extensions ------------------------------------------------------------------------------------


def latest_extension(policy: Policy, calendar: WorkingCalendar, milestone: str, start: datetime,
                     current_due: datetime, extensions_so_far: int, *,
                     period: Period | str | None = None) -> datetime:
    """The latest deadline an extension of `milestone` may set (RULES.md §3, pack [extension]).

    `period` is the period that set the case's deadline (MilestoneDeadline.period); it may be
    left out when the pack gives the milestone a single period."""
    rule = policy.extension
    name = policy.label("milestone", milestone, "zh"), policy.label("milestone", milestone, "en")
    if milestone not in rule.milestones:
        raise PolicyError(f"政策包 {policy.code} 不允许延长“{name[0]}”期限",
                          f"pack {policy.code} allows no extension of {name[1]}", field="milestone")
    if extensions_so_far >= rule.max_count:
        raise PolicyError(f"已延期 {extensions_so_far} 次，政策包 {policy.code} 最多允许 {rule.max_count} 次",
                          f"already extended {extensions_so_far} time(s); pack {policy.code} "
                          f"allows {rule.max_count}", field="extensions")
    for label, at in (("start", start), ("current_due", current_due)):
        if at.tzinfo is None or at.utcoffset() is None:
            raise InvalidInput("缺少时区", "must be timezone-aware", field=label)
    if rule.limit == "from_start":
        # bank: 30 days from receipt, then 60 — never beyond (CBIRC order 2020 no. 3)
        latest = due(calendar, rule.steps[extensions_so_far], start).at
    else:
        base = _extension_period(policy, calendar, milestone, start, current_due, period)
        latest = _period_again(calendar, base, current_due)
    if latest <= current_due:
        raise PolicyError("期限已达延期上限，不能再延长", "the deadline is already at the extension limit",
                          field="extensions")
    return latest


def _extension_period(policy: Policy, calendar: WorkingCalendar, milestone: str, start: datetime,
                      current_due: datetime, period: Period | str | None) -> Period:
    """The period that set the deadline: given, or the pack's only one, or the one whose
    deadline from `start` is `current_due` (a not-yet-extended deadline)."""
    if isinstance(period, str):
        try:
            return Period.parse(period)
        except ValueError as exc:
            raise InvalidInput(f"时长格式错误：{period}", str(exc), field="period") from None
    if period is not None:
        return period
    periods = list({str(m.period): m.period for m in policy.milestones if m.code == milestone}.values())
    if len(periods) > 1:
        periods = [p for p in periods if due(calendar, p, start).at == current_due]
    if not periods:
        raise InvalidInput("无法确定该期限适用的时长，请给出", "cannot tell which period set this deadline: "
                           "pass the case's period", field="period")
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
