"""The walkthrough and the judge of training mode (issue 5 §4).

`walkthrough` steps through a case's timeline one event at a time: when, who, from/to state, what was
recorded, which rule applied and why (the pack's explanation lines and the seed article of each milestone),
and what should be done next by when (services.rules.transitions and the pack's milestones). `judge` says what the
rules make of a trainee's choice of next action. Both only read; both work on any database, and in the
training database every library case is open to every trainee.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Case, CaseDeadline, CaseEvent, Setting, User
from services.casework.case_view import visible_case
from services.casework.cases import field_names, missing_for_archive
from services.casework.deadlines import case_facts, pack_events
from services.casework.statutory import ACTIONS as CLOCK_ACTIONS
from services.errors import InvalidInput, PolicyError
from services.institution.access import Actor, load_actor, may
from services.rules.assess import assess, latest_extension
from services.rules.calendar import SHANGHAI, due, format_deadline
from services.rules.citation import cite
from services.rules.policy import Label, Policy
from services.rules.transitions import ACTION_STATES, RE_COMPLAINT_FROM, actions_in
from services.training.scenarios import LIBRARY, SCENARIO_DIR
from services.unit_of_work import UnitOfWork
from services.words import joined

_TEXTS = tomllib.loads((SCENARIO_DIR / "walkthrough.toml").read_text(encoding="utf-8"))
STATES: dict[str, list[str]] = _TEXTS["states"]
ACTIONS: dict[str, list[str]] = _TEXTS["actions"]
EVENTS: dict[str, list[str]] = {**ACTIONS, **_TEXTS["events"]}
LIFECYCLE: dict[str, dict[str, str]] = _TEXTS["lifecycle"]  # event type → the rule behind it, with its seed article
_EVENT_OF = {"extend": "extension", "escalate": "escalation"}


@dataclass(frozen=True)
class WalkStep:
    number: int  # 1-based
    at: datetime
    actor: str | None  # None: the system
    event_type: str
    event: str  # label in the chosen language
    from_state: str | None
    to_state: str | None
    recorded: list[str]  # what was recorded at this step
    rules: list[str]  # which rule applied and why, each citing the pack rule or seed article
    next_action: str | None  # what the trainee should do next (services.rules.transitions), None once closed
    next_actions: list[str]  # every action the state allows
    next_step: list[str]  # the next action with its deadline, and the other open deadlines


def say(lang: str, key: str, **values: object) -> str:
    text = _pick(_TEXTS["phrases"][key], lang).format(**values)
    return text if lang == "zh" else text[:1].upper() + text[1:]  # English lines start with a capital


# issue 10 §7: a rule line cites the case's own pack's documents by title and article (services.rules.citation);
# the walkthrough's texts cite the seed documents of every pack, and another institution's document or our own
# RULES.md means nothing to a trainee, so those references are left out (and an emptied bracket with them).
_REFERENCE = re.compile(r"(?:seed \d{3}|RULES\.md)(?:\s+(?:arts?\.\s*)?§?\d+(?:\(\d+\))?(?:-\d+)?"
                        r"(?:\s*,\s*§?\d+(?:\(\d+\))?(?:-\d+)?)*)?")
_BRACKETS = re.compile(r"（[^（）]*）| \((?:[^()]|\([^()]*\))*\)")


def own_citations(text: str, documents: Mapping[str, Label], lang: str) -> str:
    """Every bracketed reference in `text` by the pack's own documents; other references dropped."""
    def bracket(m: re.Match[str]) -> str:
        inner = m.group(0).strip()[1:-1]
        if not (_REFERENCE.search(inner) or any(k in inner for k in documents)):
            return m.group(0)  # not a citation: "5/5 (phone)"
        parts = [part.strip() for part in re.split(r"\s*;\s*", inner)]
        kept = [cite(part, documents, lang) for part in parts
                if part and (part.startswith(tuple(documents)) or not _REFERENCE.fullmatch(part))]
        if not kept:
            return ""
        return f"（{'；'.join(kept)}）" if lang == "zh" else f" ({'; '.join(kept)})"
    return _BRACKETS.sub(bracket, text)


def _pick(pair: list[str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def _when(at: datetime) -> str:
    return f"{at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


def next_action(state: str, grade: str, policy: Policy, outcome: str | None = None) -> str | None:
    """The next step of the procedure (seed 000 art. 17): forward, contact, resolve, feed back, visit, file.
    A required return visit follows a resolved case only, as the archive check has it (cases.missing_for_archive)."""
    visit = policy.return_visit_required and outcome in (None, "resolved")
    path = {"registered": "invalid" if grade == "invalid" else "forward", "forwarded": "first_contact",
            "in_progress": "resolve", "resolved": "feedback", "feedback_given": "return_visit" if visit else "archive",
            "return_visit": "archive"}
    action = path.get(state)
    return action if action and state in ACTION_STATES[action] else None


def _offered(c: _Case, state: str) -> list[str]:
    """The actions the state allows on this case: the regulator's clock only where its pack has one."""
    return [a for a in actions_in(state) if a not in CLOCK_ACTIONS or c.policy.statutory_on]


def _lifecycle(event_type: str, lang: str) -> tuple[str, str]:
    rule = LIFECYCLE[event_type]
    return rule["zh" if lang == "zh" else "en"], rule["source"]


class _Case:
    """One case, its pack, deadlines and intake explanation, read once for a walkthrough or a judgement."""

    def __init__(self, uow: UnitOfWork, case: Case, lang: str) -> None:
        self.session, self.case, self.lang = uow.session, case, lang
        self.policy = uow.policy(case.pack)
        self.calendar = uow.calendar()
        rows = uow.session.scalars(select(CaseDeadline).where(CaseDeadline.case_id == case.id))
        self.rows = {d.milestone: d for d in rows}
        # RULES.md §4: the assessment as at intake (deadlines counted from receipt), in the chosen language.
        facts = replace(case_facts(case), forwarded_at=None, resolved_at=None)
        self.intake = assess(self.policy, facts, self.calendar, lang)

    def m(self, code: str) -> str:
        return self.policy.label("milestone", code, self.lang)

    def say(self, key: str, **values: object) -> str:
        """`say`, citing this case's pack's documents: the references are read before the values (which may
        quote what a clerk typed) are filled in."""
        phrase = _pick(_TEXTS["phrases"][key], self.lang).replace("{source}", str(values.pop("source", "")))
        text = own_citations(phrase, self.policy.documents, self.lang).format(**values)
        return text if self.lang == "zh" else text[:1].upper() + text[1:]

    def rule(self, code: str) -> tuple[str, tuple[str, ...]]:
        """The milestone's rule text (the entry that set this case's period) and the events that meet it."""
        row = self.rows.get(code)
        rules = [m for m in self.policy.milestones if m.code == code]
        if not rules:  # an admin removed the milestone from the pack since
            return "", ()
        chosen = next((m for m in rules if row is not None and str(m.period) == row.period), rules[0])
        return chosen.cite.label.text(self.lang), chosen.met_by

    def line(self, key: str, code: str, **values: object) -> str:
        text, _ = self.rule(code)
        row = self.rows.get(code)
        return self.say(key, m=self.m(code), rule=text, source=row.source if row else "", **values)

    def citing(self, paths: list[str]) -> list[str]:
        """The intake explanation lines whose reason cites one of these pack rules."""
        wanted = {f"{self.policy.code}.{p}" for p in paths}
        return [line for reason, line in zip(self.intake.reasons, self.intake.explanation, strict=True)
                if reason.rule in wanted]


def _viewable(session: Session, actor: Actor, case_no: str) -> Case:
    """In the training database every library case is open to every trainee; otherwise the case page's scope."""
    if session.get(Setting, LIBRARY) is not None:
        case = session.scalar(select(Case).where(Case.case_no == case_no, Case.intake_key.like("scenario:%")))
        if case is not None:
            return case
    return visible_case(session, actor, case_no)


# --- walkthrough ---------------------------------------------------------------------------------------


def walkthrough(uow: UnitOfWork, actor_id: int, case_no: str, lang: str = "zh") -> list[WalkStep]:
    """The case's timeline, one event at a time, with the rule that applied and what to do next."""
    session = uow.session
    c = _Case(uow, _viewable(session, load_actor(session, actor_id), case_no), lang)
    events = session.execute(select(CaseEvent, User.display_name).outerjoin(User, User.id == CaseEvent.actor_id)
                             .where(CaseEvent.case_id == c.case.id).order_by(CaseEvent.at, CaseEvent.id)).all()
    waived_at = next((e.at for e, _ in events if e.event_type in ("withdraw", "resolve_at_intake")), None)
    dues: dict[str, datetime] = {}
    steps = []
    for number, (event, name) in enumerate(events, 1):
        # A step's own deadline changes are recorded right after it, at the same instant: count them in.
        for later, _ in events[number - 1:]:
            if later.at != event.at:
                break
            if later is event or later.event_type == "deadlines_recomputed":
                _track(dues, later, c.rows)
        state = event.to_state or event.from_state or c.case.state
        action = next_action(state, c.case.grade, c.policy, c.case.outcome)
        open_dues = {code: at for code, at in dues.items() if _open_at(c.rows.get(code), event.at, waived_at)}
        label = _pick(EVENTS.get(event.event_type, [event.event_type] * 2), lang)
        steps.append(WalkStep(number, event.at.astimezone(SHANGHAI), name, event.event_type, label, event.from_state,
                              event.to_state, _recorded(c, event), _rules(c, event, name), action,
                              _offered(c, state), _next_lines(c, state, action, event.at, open_dues)))
    return steps


def _track(dues: dict[str, datetime], event: CaseEvent, rows: dict[str, CaseDeadline]) -> None:
    """Each milestone's deadline as it stood at this event: set at intake, moved, extended or started."""
    data = event.data or {}
    if event.event_type == "intake":
        deadlines = (data.get("assessment") or {}).get("deadlines", {})
        dues.update({code: datetime.fromisoformat(at) for code, at in deadlines.items()})
    for change in data.get("changes", []):
        dues[change["milestone"]] = datetime.fromisoformat(change["new"])
    if event.event_type == "extension":
        dues[data["milestone"]] = datetime.fromisoformat(data["new_due"])
    for code, row in rows.items():
        if code not in dues and row.starts_at <= event.at:  # started at resolution: not in the intake assessment
            dues[code] = row.original_due_at


def _open_at(row: CaseDeadline | None, at: datetime, waived_at: datetime | None) -> bool:
    if row is None or (row.met_at is not None and row.met_at <= at):
        return False
    return not (row.status == "waived" and waived_at is not None and waived_at <= at)


def _recorded(c: _Case, event: CaseEvent) -> list[str]:
    data, lang = event.data or {}, c.lang
    # An automatic escalation's note repeats the intake explanation, and a recomputation's is internal.
    skip_note = event.event_type == "deadlines_recomputed" or (event.event_type == "escalation" and data.get("rule"))
    out = [event.note] if event.note and not skip_note else []
    if event.event_type == "escalation":
        out.insert(0, c.policy.label("role", data.get("to_role", ""), lang))
    if "satisfaction" in data:
        out.append(c.say("satisfaction", score=data["satisfaction"], method=data.get("method", "")))
    if event.event_type == "forward":
        out.append(c.say("forwarded_to", department=c.policy.label("department", data.get("department", ""), lang),
                       handler=data.get("handler", "")))
    if event.event_type == "resolve":
        out += [data.get("measures", ""), data.get("accountability", "")]
    return [line for line in out if line]


def _rules(c: _Case, event: CaseEvent, actor: str | None) -> list[str]:
    kind, data, lang, p = event.event_type, event.data or {}, c.lang, c.policy
    lines: list[str] = []
    if kind == "intake":
        lines += list(c.intake.explanation)
        lines.append(c.say("cite", text=c.say("first_responder", name=actor or ""),
                         source=LIFECYCLE["intake"]["source"]))
        if data.get("parent_case"):
            text = c.say("re_complaint_of", parent=data["parent_case"])
            lines.append(c.say("cite", text=text, source=LIFECYCLE["re_complaint"]["source"]))
    elif kind == "escalation":
        role = p.label("role", data.get("to_role", ""), lang)
        if data.get("rule"):
            paths = [r.cite.path for r in p.escalations if data.get("to_role") in r.escalate_to]
            lines += c.citing(paths) or [c.say("by_rule", role=role)]
        else:
            text = c.say("by_hand", role=role, reason=event.note or "")
            lines.append(c.say("cite", text=text, source=LIFECYCLE["escalation"]["source"]))
    elif kind == "deadlines_recomputed":
        lines += [c.line("moved", ch["milestone"], old=format_deadline(datetime.fromisoformat(ch["old"])),
                         new=format_deadline(datetime.fromisoformat(ch["new"]))) for ch in data.get("changes", [])]
    elif kind == "extension":
        ext = p.extension.cite
        lines.append(c.say("extended", m=c.m(data["milestone"]), reason=(event.note or "").rstrip("。. "),
                         old=format_deadline(datetime.fromisoformat(data["old_due"])),
                         new=format_deadline(datetime.fromisoformat(data["new_due"])),
                         informed=_when(datetime.fromisoformat(data["customer_informed_at"])),
                         method=data.get("informed_method", "")))
        lines.append(c.say("cite", text=ext.label.text(lang), source=ext.source))
        text, source = _lifecycle(kind, lang)
        lines.append(c.say("cite", text=text, source=source))
    elif kind in LIFECYCLE:
        text, source = _lifecycle(kind, lang)
        lines.append(c.say("cite", text=text, source=source))
        if kind == "re_complaint":
            lines.append(c.say("new_case", case=data.get("new_case", "")))
    lines += _milestones_at(c, event)
    return lines


def _milestones_at(c: _Case, event: CaseEvent) -> list[str]:
    """Deadlines this event met (on time or late), and deadlines that start with it (RULES.md §3)."""
    lines = []
    meets = pack_events(event.event_type)
    for code, row in sorted(c.rows.items(), key=lambda item: item[1].due_at):
        _, met_by = c.rule(code)
        if row.met_at == event.at and row.status in ("met", "met_late") and set(meets) & set(met_by):
            lines.append(c.line(row.status, code, due=format_deadline(row.due_at), at=_when(row.met_at)))
            if row.extensions and row.met_at >= row.original_due_at:
                lines.append(c.say("first_missed", due=format_deadline(row.original_due_at)))
        elif row.starts_at == event.at and meets and code not in c.intake.deadlines:
            lines.append(c.line("starts", code, due=format_deadline(row.original_due_at)))
    return lines


def _next_lines(c: _Case, state: str, action: str | None, at: datetime, open_dues: dict[str, datetime]) -> list[str]:
    lang = c.lang
    if action is None:
        return [c.say("done")] + ([c.say("may_re_complain")] if state in RE_COMPLAINT_FROM else [])
    text, source = _lifecycle(_EVENT_OF.get(action, action), lang)
    lines, others = [c.say("next", action=_pick(ACTIONS[action], lang), rule=text, source=source)], []
    for code, due_at in sorted(open_dues.items(), key=lambda item: item[1]):
        if pack_events(action) & set(c.rule(code)[1]):  # the deadline the next action meets
            lines.append(c.line("due_by", code, due=format_deadline(due_at)))
            if at >= due_at:
                lines.append(c.say("overdue", m=c.m(code), due=format_deadline(due_at)))
        else:
            others.append(c.say("other_open", m=c.m(code), due=format_deadline(due_at), source=c.rows[code].source))
    return lines + others


# --- judge ---------------------------------------------------------------------------------------------


def judge(uow: UnitOfWork, actor_id: int, case_no: str, action: str, *, at: datetime | None = None,
          lang: str = "zh") -> list[str]:
    """What the rules say about doing `action` on the case now (or at `at`): allowed in this state or not
    and why, whether it is the next step, which deadline it meets or misses. Reads only."""
    if action not in ACTION_STATES:
        raise InvalidInput("error.walkthrough.unknown_action", field="action", action=action)
    session = uow.session
    actor = load_actor(session, actor_id)
    c = _Case(uow, _viewable(session, actor, case_no), lang)
    now, state = uow.at(at), c.case.state
    state_label, action_label = _pick(STATES[state], lang), _pick(ACTIONS[action], lang)
    expected = next_action(state, c.case.grade, c.policy, c.case.outcome)
    if action not in _offered(c, state):
        allowed = joined((_pick(ACTIONS[a], lang) for a in _offered(c, state)), lang) or "—"
        lines = [c.say("not_allowed", state=state_label, action=action_label, allowed=allowed)]
        return lines + ([c.say("not_next", action=_pick(ACTIONS[expected], lang))] if expected else [])
    text, source = _lifecycle(_EVENT_OF.get(action, action), lang)
    lines = [c.say("allowed", state=state_label, action=action_label, rule=text, source=source)]
    if not may(actor, action):
        lines.append(c.say("no_role"))
    if expected == action:
        lines.append(c.say("is_next"))
    elif expected:
        lines.append(c.say("not_next", action=_pick(ACTIONS[expected], lang)))
    for code, row in sorted(c.rows.items(), key=lambda item: item[1].due_at):
        if row.status == "open" and pack_events(action) & set(c.rule(code)[1]):
            key = "would_meet" if now < row.due_at else "would_miss"
            lines.append(c.line(key, code, due=format_deadline(row.due_at)))
    return lines + _action_notes(c, action, now)


def _action_notes(c: _Case, action: str, now: datetime) -> list[str]:
    """What this particular action needs, by the rules (RULES.md §2, §3)."""
    lang, case, p = c.lang, c.case, c.policy
    if action == "forward":
        paths = [f"categories.{case.category}", *(r.cite.path for r in p.routing)]
        return c.citing(paths)[:1]
    if action == "resolve" and case.compensation_claimed > 0:
        return [c.say("signed")]
    if action == "invalid" and case.grade != "invalid" and any(g.code == "invalid" for g in p.grades):
        return [c.say("not_invalid", grade=p.label("grade", case.grade, lang))]
    if action == "archive":
        missing = missing_for_archive(case, p)
        fields = field_names(missing).text(lang)  # by name, as the archive refusal says it (issue 10 §7)
        return [c.say("missing", fields=fields)] if missing else []
    if action == "return_visit":
        return _visit_window(c, now)
    if action == "extend":
        return _extension_limits(c)
    return []


def _visit_window(c: _Case, now: datetime) -> list[str]:
    row = c.rows.get("return_visit")
    rule = next((m for m in c.policy.milestones if m.code == "return_visit" and m.window_opens), None)
    if row is None or rule is None or rule.window_opens is None:
        return []
    opens = due(c.calendar, rule.window_opens, row.starts_at).at
    return [c.say("too_early", opens=format_deadline(opens), source=row.source)] if now < opens else []


def _extension_limits(c: _Case) -> list[str]:
    ext, lines = c.policy.extension, []
    for code in ext.milestones:
        row = c.rows.get(code)
        if row is None or row.status != "open":
            continue
        try:
            latest = latest_extension(c.policy, c.calendar, code, row.starts_at, row.due_at, row.extensions)
        except PolicyError as exc:
            lines.append(c.say("no_extension", reason=exc.message(c.lang)))
            continue
        lines.append(c.say("extend_until", m=c.m(code), latest=format_deadline(latest),
                         rule=ext.cite.label.text(c.lang), source=ext.cite.source))
    return lines
