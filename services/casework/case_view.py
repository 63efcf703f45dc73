"""The case page (案件详情, issue 4 §3): facts, assessment, deadlines, timeline and the allowed actions.

A case outside the user's scope is refused with one message that says nothing about it. Customer ID,
phone and account numbers are masked; revealing one is allowed to some roles and logged on the
timeline (RULES.md §6, seed 003 §8, seed 004 art. 6).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from db.models import Case, CaseDeadline, CaseEvent, Customer, Department, Escalation, User
from services.casework.deadlines import case_among
from services.casework.queue import SlaBadge, sla_badges
from services.casework.statutory import ACTIONS as CLOCK_ACTIONS
from services.casework.statutory import clock_actions
from services.errors import InvalidInput
from services.institution import audit
from services.institution.access import Actor, allowed_actions, case_for, case_scope, headed_department, load_actor, may
from services.rules.policy import Policy
from services.unit_of_work import UnitOfWork
from services.words import N_, text

# field → (characters kept at the start, at the end): 110101********1234, 138****8000
PII_FIELDS: dict[str, tuple[int, int]] = {"id_number": (6, 4), "phone": (3, 4), "account_no": (4, 4)}
PII_LABELS = {"id_number": N_("pii.id_number"), "phone": N_("pii.phone"),
              "account_no": N_("pii.account_no")}  # catalogue keys (issue 9 §6)


def mask(value: str | None, field: str) -> str | None:
    """Keep the head and tail the field allows, star the rest; short values keep a quarter at each end."""
    if not value:
        return value
    head, tail = PII_FIELDS[field]
    if len(value) <= head + tail:
        head = tail = len(value) // 4
    return value[:head] + "*" * (len(value) - head - tail) + (value[-tail:] if tail else "")


def visible_case(session: Session, actor: Actor, case_no: str) -> Case:
    """The case, if the user may view it; otherwise one refusal that reveals nothing (not even existence)."""
    return case_for(session, actor, case_no, "view_case")


@dataclass(frozen=True)
class CustomerView:
    name: str
    phone: str | None  # masked
    id_number: str | None  # masked
    account_no: str | None  # masked
    can_reveal: bool  # the user's roles may reveal the full values (each reveal is logged)


@dataclass(frozen=True)
class DeadlineView:
    milestone: str
    starts_at: datetime
    due_at: datetime
    original_due_at: datetime
    met_at: datetime | None
    status: str  # open | met | met_late | waived
    period: str
    source: str
    extensions: int
    sla: SlaBadge


@dataclass(frozen=True)
class TimelineEntry:
    event_type: str
    at: datetime
    actor_name: str | None  # None: the system
    from_state: str | None
    to_state: str | None
    note: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class CaseLink:
    case_no: str
    state: str
    received_at: datetime


@dataclass(frozen=True)
class EscalationView:
    id: int
    to_role: str
    rule_key: str | None  # None: escalated by hand
    reason: str
    created_at: datetime
    created_by: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


@dataclass(frozen=True)
class CaseDetail:
    case_no: str
    pack: str
    version: int  # pass back to every action: a stale version is a conflict
    state: str
    outcome: str | None
    channel: str
    category: str
    grade: str
    handling_level: str | None
    cause: str
    flags: list[str]
    received_at: datetime
    content: str
    compensation_claimed: Decimal
    compensation_paid: Decimal
    customer: CustomerView
    first_responder: str
    assignee: str | None
    department_code: str
    department_name: str
    handling_form: str | None
    fact_finding: str | None
    measures: str | None
    accountability: str | None
    signed_confirmation: str | None
    satisfaction: int | None
    milestones_at: dict[str, datetime | None]  # forwarded, first_contact, resolved, feedback, return_visit, closed
    assessment: dict[str, Any]
    reasons: list[dict[str, Any]]  # rendered in the reader's language when shown (services/rules/reasons.py)
    notices: list[dict[str, Any]]
    deadlines: list[DeadlineView]
    timeline: list[TimelineEntry]
    escalations: list[EscalationView]
    parent: CaseLink | None
    children: list[CaseLink]
    allowed_actions: list[str]
    extendable: list[str]  # milestones the `extend` form may offer


def _deadlines(uow: UnitOfWork, case: Case, now: datetime) -> list[DeadlineView]:
    window, calendar = uow.policy(case.pack).warning_window, uow.calendar()
    rows = uow.session.scalars(select(CaseDeadline).where(CaseDeadline.case_id == case.id)
                           .order_by(CaseDeadline.due_at, CaseDeadline.id)).all()
    badges = sla_badges([(d, window) for d in rows], now, calendar)
    return [DeadlineView(d.milestone, d.starts_at, d.due_at, d.original_due_at, d.met_at, d.status, d.period,
                         d.source, d.extensions, badge) for d, badge in zip(rows, badges, strict=True)]


def _timeline(session: Session, case: Case) -> list[TimelineEntry]:
    rows = session.execute(select(CaseEvent, User.display_name).outerjoin(User, User.id == CaseEvent.actor_id)
                           .where(CaseEvent.case_id == case.id).order_by(CaseEvent.at, CaseEvent.id))
    return [TimelineEntry(e.event_type, e.at, name, e.from_state, e.to_state, e.note, dict(e.data or {}))
            for e, name in rows]


def case_escalations(session: Session, case_ids: list[int]) -> dict[int, list[EscalationView]]:
    """Escalations of these cases, oldest first, by case id."""
    by, ack = _RAISED_BY, _ACKNOWLEDGED_BY
    # columns through the connection, not the ORM, and the ids as one array: the board reads a thousand escalations
    # for its 500 rows, and the ORM's row loading and 500 bound ids cost it ~1.5 ms (issue 13 §1)
    rows = session.connection().execute(
        select(Escalation.case_id, Escalation.id, Escalation.to_role, Escalation.rule_key, Escalation.reason,
               Escalation.created_at, by.display_name, Escalation.acknowledged_at, ack.display_name)
        .outerjoin(by, by.id == Escalation.created_by_id)
        .outerjoin(ack, ack.id == Escalation.acknowledged_by_id)
        .where(case_among(case_ids, Escalation.case_id)).order_by(Escalation.created_at, Escalation.id)).all()
    out: dict[int, list[EscalationView]] = {}
    for case_id, *view in rows:
        out.setdefault(case_id, []).append(EscalationView(*view))
    return out


# made once, as the queue's (issue 13 §4): a fresh alias adapted its columns anew on every case page (~1 ms)
_RAISED_BY, _ACKNOWLEDGED_BY = aliased(User, name="raised_by"), aliased(User, name="acknowledged_by")


def _link(case: Case) -> CaseLink:
    return CaseLink(case.case_no, case.state, case.received_at)


def _extendable(uow: UnitOfWork, case: Case, deadlines: list[DeadlineView]) -> list[str]:
    """Open milestones the pack lets this case extend once more (RULES.md §3, pack [extension], as edited)."""
    rule = uow.policy(case.pack).extension
    return [d.milestone for d in deadlines
            if d.status == "open" and d.milestone in rule.milestones and d.extensions < rule.max_count]


def _actions(uow: UnitOfWork, actor: Actor, case: Case, deadlines: list[DeadlineView], extendable: list[str]
             ) -> list[str]:
    """The state's and roles' actions, less those with nothing to do: no extension left, no report owed, no
    statutory clock (or not in a state for that step)."""
    owes_report = any(d.milestone == "report_hq" and d.status == "open" for d in deadlines)
    clock = clock_actions(uow, actor, case)
    return [a for a in allowed_actions(case.state, actor.roles)
            if (a != "extend" or extendable) and (a != "report_hq" or owes_report)
            and (a != "reassign" or headed_department(actor) == case.responsible_department_id)
            and (a not in CLOCK_ACTIONS or a in clock)]


def _name(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id is not None else None
    return user.display_name if user else None


def case_detail(uow: UnitOfWork, actor_id: int, case_no: str, now: datetime | None = None) -> CaseDetail:
    """Everything the case page shows, and exactly the actions the state and the user's roles allow."""
    session = uow.session
    actor = load_actor(session, actor_id)
    case = visible_case(session, actor, case_no)
    now = uow.at(now)
    customer = session.get(Customer, case.customer_id)
    department = session.get(Department, case.responsible_department_id)
    assert customer is not None and department is not None  # foreign keys
    deadlines = _deadlines(uow, case, now)
    extendable = _extendable(uow, case, deadlines)
    # Linked cases the user may not see stay out of the page (issue 8 §1).
    parent = session.scalar(select(Case).where(Case.id == case.parent_case_id, case_scope(actor)))
    children = session.scalars(select(Case).where(Case.parent_case_id == case.id, case_scope(actor))
                               .order_by(Case.received_at))
    assessment = dict(case.assessment or {})
    detail = CaseDetail(
        case_no=case.case_no, pack=case.pack, version=case.version, state=case.state, outcome=case.outcome,
        channel=case.channel, category=case.category, grade=case.grade, handling_level=case.handling_level,
        cause=case.cause, flags=list(case.flags), received_at=case.received_at, content=case.content,
        compensation_claimed=case.compensation_claimed, compensation_paid=case.compensation_paid,
        customer=CustomerView(customer.name, mask(customer.phone, "phone"), mask(customer.id_number, "id_number"),
                              mask(customer.account_no, "account_no"),
                              may(actor, "reveal_pii")),
        first_responder=_name(session, case.first_responder_id) or "", assignee=_name(session, case.assignee_id),
        department_code=department.code, department_name=department.name, handling_form=case.handling_form,
        fact_finding=case.fact_finding, measures=case.measures, accountability=case.accountability,
        signed_confirmation=case.signed_confirmation, satisfaction=case.satisfaction,
        milestones_at={"forwarded": case.forwarded_at, "first_contact": case.first_contact_at,
                       "resolved": case.resolved_at, "feedback": case.feedback_at,
                       "return_visit": case.return_visit_at, "closed": case.closed_at},
        assessment=assessment, reasons=list(assessment.get("reasons", [])),
        notices=list(assessment.get("notices", [])), deadlines=deadlines, timeline=_timeline(session, case),
        escalations=case_escalations(session, [case.id]).get(case.id, []),
        parent=_link(parent) if parent else None, children=[_link(c) for c in children],
        allowed_actions=_actions(uow, actor, case, deadlines, extendable), extendable=extendable)
    # Who viewed this case (issue 8 §7), recorded after the reads: the chain's lock is held from here to the
    # commit, so every other view and audited action waits only for this insert, not for this page's reads.
    audit.record_once(uow, actor.id, "case_viewed", case.id, now)
    return detail


def reveal_pii(uow: UnitOfWork, actor_id: int, case_no: str, field: str, now: datetime | None = None) -> str:
    """The unmasked value, for roles that need it; every reveal is a timeline event (RULES.md §6)."""
    if field not in PII_FIELDS:
        raise InvalidInput("error.case.pii_not_revealable", field="field", name=field)
    actor = load_actor(uow.session, actor_id)
    case = case_for(uow.session, actor, case_no, "reveal_pii")
    customer = uow.session.get(Customer, case.customer_id)
    value = getattr(customer, field) or ""
    if value:
        zh, en = (text(PII_LABELS[field], lang) for lang in ("zh", "en"))
        uow.session.add(CaseEvent(case_id=case.id, at=uow.at(now), actor_id=actor.id, event_type="reveal_pii",
                                  from_state=case.state, to_state=case.state, note=f"查看完整{zh}（{en}）",
                                  data={"field": field}))
        audit.record(uow.session, actor.id, "pii_revealed", case_id=case.id, at=now, field=field)
        uow.flush()
    return value


def escalation_reason(label: Callable[[str, str], str], rule_key: str | None, reason: str, lang: str) -> str:
    """The reason an escalation was made, for a reader of `lang` (issue 9 §6). An automatic one's stored
    reason is the Chinese record: read as recorded in Chinese, named from its rule in any other language
    (`label(kind, code)` names a pack code in `lang`). A person's escalation shows the reason they typed."""
    kind, _, code = (rule_key or "").partition(":")
    if lang == "zh" or kind not in ("rule", "overdue", "major"):
        return reason
    if kind == "major":  # a major complaint's emergency escalation (issue 11 §5)
        return text("escalation.major", lang, role=label("role", code))
    if kind == "rule":
        return text("escalation.by_rule", lang, role=label("role", code))
    return text("escalation.overdue", lang, milestone=label("milestone", code))


def event_note(policy: Policy, entry: TimelineEntry, lang: str) -> str | None:
    """A timeline note for a reader of `lang`: a note the system wrote is in Chinese, so any other reader gets
    it from the catalogue; what a person typed is shown as typed."""
    if "complained_employee" in entry.data:  # RULES.md §7.2 art. 17 (services/casework/duties.py)
        name = entry.data.get("name")
        return text("timeline.complained_employee", lang, name=name) if name else \
            text("timeline.complained_employee_cleared", lang)
    if lang == "zh":
        return entry.note
    if entry.event_type in ("escalation", "escalation_ack") and entry.data.get("rule"):
        return escalation_reason(lambda kind, code: policy.label(kind, code, lang), entry.data["rule"],
                                 entry.note or "", lang)
    if entry.event_type == "reveal_pii":
        return text(f"timeline.pii_revealed.{entry.data.get('field')}", lang)
    if entry.data.get("at_intake"):  # the customer accepted the explanation at intake (seed 000 art. 17(1))
        return text("timeline.accepted_at_intake", lang)
    if entry.data.get("dispute_event"):  # a dispute of a review finding (issue 12 §5)
        return dispute_note(entry.data, lang)
    return entry.note


def dispute_note(data: Mapping[str, Any], lang: str) -> str:
    """The timeline's words for a dispute filed or decided (issue 12 §5, services.supervision.disputes)."""
    item = text(f"review.item.{data.get('item')}", lang)
    if data.get("dispute_event") == "filed":
        return text("timeline.dispute_filed", lang, item=item)
    decision = text(f"dispute.status.{data.get('status')}", lang)
    return text("timeline.dispute_decided", lang, item=item, decision=decision, score=data.get("score_after") or "-")
