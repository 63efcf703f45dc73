"""The case lifecycle (RULES.md §2): each use case is one change with its timeline event.

Every function takes the unit of work, the acting user's id and plain values; it checks the
user's role and scope, the case's state and version, writes the change and its event, and
flushes — or raises a DomainError; the caller commits (issue 9 §3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal, select, text, update
from sqlalchemy.orm.attributes import set_committed_value

from db.models import Case, CaseDeadline, CaseEvent, Customer, Escalation, Extension, Setting, User
from services import words
from services.casework.deadlines import case_facts, mark_met, meet, store_next_due, sync_deadlines, waive_open
from services.errors import Conflict, InvalidInput, InvalidTransition, Listing, NotFound, NotPermitted, Phrase
from services.institution.access import DEPARTMENT_STAFF, Actor, case_for, headed_department, load_actor, require_role
from services.institution.directory import department_by_code
from services.rules import validation
from services.rules.assess import assess, latest_extension, parse_facts
from services.rules.calendar import SHANGHAI, format_deadline, iso
from services.rules.duties import REVIEW_MILESTONE, notification_proof
from services.rules.intake_extras import intake_extras, top_role
from services.rules.policy import Policy
from services.rules.transitions import states_for
from services.unit_of_work import UnitOfWork
from services.words import N_

CASE_NO_PREFIX = "case_no_prefix"  # settings key: the case-number prefix when not TS (training: PX)
TRAINING_PREFIX = "PX"
SATISFACTION = {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "非常不满意"}
# What the form records for a case explained at intake (seed 000 art. 17(1)) or closed as invalid (seed 002 art.
# 18(3)), in the institution's words.
AT_INTAKE = {"measures": "当场解释", "accountability": "无", "invalid_measures": "解释说明", "method": "当面/电话",
             "feedback": "客户当场接受解释，表示不再就同一事项投诉"}


@dataclass(frozen=True)
class CaseRef:
    id: int
    case_no: str
    version: int
    state: str


def _ref(case: Case) -> CaseRef:
    return CaseRef(case.id, case.case_no, case.version, case.state)


def _text(values: Mapping[str, Any], field: str, name: Phrase) -> str:
    return validation.text(values.get(field), field, name)  # length and NUL checks (issue 8 §5)


def _amount(value: Any, field: str) -> Decimal:
    return validation.amount(value, field)


def checked_satisfaction(value: Any) -> int:
    """A satisfaction on the 5-point scale, or the error the form shows (shared with the set-based writer)."""
    if value not in SATISFACTION:
        raise InvalidInput("error.case.satisfaction_missing", field="satisfaction")
    return int(value)


def _open(uow: UnitOfWork, actor_id: int, case_no: str, version: int, action: str,
          states: tuple[str, ...] | None = None) -> tuple[Actor, Case, Policy]:
    """Lock the case, then check the user, the version and the state (services.rules.transitions, or `states`
    for an action outside the case page's table), in that order.

    The role and scope come first, so a case the user may not touch says nothing about itself (issue 8 §1).
    """
    actor = load_actor(uow.session, actor_id)
    if not isinstance(version, int) or isinstance(version, bool):  # every action states what it saw
        raise InvalidInput("error.case.version_missing", field="version")
    case = case_for(uow.session, actor, case_no, action, lock=True)
    if case.version != version:
        raise Conflict("error.case.changed_by_someone_else", case_no=case_no)
    if case.state not in (states or states_for(action)):  # said in words, not codes (issue 10 §3)
        raise InvalidTransition("error.case.action_not_allowed_in_state", field="state",
                                state=Phrase(f"state.{case.state}"), action=Phrase(f"action.{action}"))
    return actor, case, uow.policy(case.pack)


def _record(uow: UnitOfWork, case: Case, actor: Actor | None, event_type: str, at: datetime,
            to_state: str | None = None, note: str | None = None, **data: Any) -> None:
    uow.session.add(timeline_entry(case, actor.id if actor else None, event_type, at, to_state, note, **data))


def timeline_entry(case: Case, actor_id: int | None, event_type: str, at: datetime, to_state: str | None = None,
                   note: str | None = None, **data: Any) -> CaseEvent:
    """A step's event, moving the case to `to_state`; in memory, shared with the demo's set-based writer."""
    entry = CaseEvent(case_id=case.id, at=at, actor_id=actor_id, event_type=event_type, from_state=case.state,
                      to_state=to_state or case.state, note=note, data=data)
    if to_state:
        case.state = to_state
    return entry


def _finish(uow: UnitOfWork, case: Case) -> CaseRef:
    uow.flush()  # bumps case.version
    uow.flush()
    store_next_due(uow, Case.id == case.id)  # whatever moved a deadline, the stored nearest one follows (issue 13 §1)
    return _ref(case)


def _prefix(uow: UnitOfWork) -> str:
    prefix = uow.session.info.get(CASE_NO_PREFIX)
    if prefix is None:  # read once per unit of work: the demo numbers thousands of cases in one
        setting = uow.session.get(Setting, CASE_NO_PREFIX)
        prefix = uow.session.info[CASE_NO_PREFIX] = setting.value if setting else "TS"
    return str(prefix)


def _next_case_no(uow: UnitOfWork, received_at: datetime) -> str:
    """TS-YYYYMMDD-NNNNNN; in a database whose settings say otherwise (the training one: PX-, issue 10 §6)
    that prefix, so a practice case never shows a real case's number."""
    day = received_at.astimezone(SHANGHAI).date()
    prefix = _prefix(uow)
    number = uow.session.scalar(text(
        "INSERT INTO case_counters (day, last_no) VALUES (:day, 1) "
        "ON CONFLICT (day) DO UPDATE SET last_no = case_counters.last_no + 1 RETURNING last_no"), {"day": day})
    return f"{prefix}-{day:%Y%m%d}-{number:06d}"


def _provisional_case_no(uow: UnitOfWork) -> Any:
    """An intake's case number until `_number_last` gives it its own: number 000000, which no real case has, after
    the server process's id, which no other open transaction has. Only this transaction ever sees it."""
    return literal(f"{_prefix(uow)}-") + func.to_char(func.pg_backend_pid(), "FM00000000") + "-000000"


def _number_last(uow: UnitOfWork, case: Case) -> None:
    """The day's next number, taken as the last step of the intake (issue 13 §4): the day's counter row stays
    locked to the commit, so intakes of the same day wait for each other only from here, not for each other's
    case, deadline, event and escalation inserts. Numbers stay unique, gapless and in commit order per day."""
    case_no = _next_case_no(uow, case.received_at)
    uow.session.execute(update(Case).where(Case.id == case.id).values(case_no=case_no, updated_at=Case.updated_at)
                        .execution_options(synchronize_session=False))
    set_committed_value(case, "case_no", case_no)


def new_customer(form: Mapping[str, Any]) -> Customer:
    """The intake form's customer, checked; in memory, shared with the demo's set-based writer."""
    return Customer(name=_text(form, "customer_name", Phrase("error.field.customer_name")),
                    phone=validation.phone(form.get("customer_phone")),
                    id_number=validation.id_number(form.get("customer_id_number")),
                    account_no=validation.account_no(form.get("customer_account_no")))


def _customer(uow: UnitOfWork, form: Mapping[str, Any]) -> Customer:
    customer = new_customer(form)
    uow.session.add(customer)
    return customer


def _register(uow: UnitOfWork, actor: Actor, form: Mapping[str, Any], policy: Policy,
              parent: Case | None = None, customer_of: Case | None = None, numbered: bool = True) -> Case:
    """Shared by intake, re-complaint and review: validate everything first, then write (RULES.md §2).

    numbered=False: the case holds a provisional number and the caller ends with `_number_last`."""
    content = _text(form, "content", Phrase("error.field.content"))
    facts = parse_facts({k: form[k] for k in ("received_at", "channel", "category", "compensation_claim",
                                              "cause", "flags") if k in form}, policy)
    extras = intake_extras(form, facts.channel, facts.received_at, uow.now())  # RULES.md §7.2, §7.3
    known = parent or customer_of  # the same customer record, never a copy
    customer = uow.session.get(Customer, known.customer_id) if known else _customer(uow, form)
    assert customer is not None  # cases.customer_id is a NOT NULL foreign key
    assessment = assess(policy, facts, uow.calendar())
    department = department_by_code(uow.session, assessment.responsible_department)
    uow.flush()
    case_no = _next_case_no(uow, facts.received_at) if numbered else _provisional_case_no(uow)
    case = Case(case_no=case_no, pack=policy.code, channel=facts.channel,
                category=facts.category, grade=assessment.grade, handling_level=assessment.handling_level,
                cause=facts.cause, flags=sorted(facts.flags), state="registered",
                received_at=facts.received_at, content=content, customer_id=customer.id,
                first_responder_id=actor.id, responsible_department_id=department.id,
                parent_case_id=parent.id if parent else None, compensation_claimed=facts.compensation_claim,
                assessment=assessment.to_json(), intake_key=form.get("intake_key") or None, **extras.columns())
    uow.session.add(case)
    uow.flush()
    sync_deadlines(uow, case, assessment, new=True)
    _record(uow, case, actor, "intake", facts.received_at, note=content,
            assessment=assessment.to_json(), parent_case=parent.case_no if parent else None)
    for role in assessment.escalate_to:  # each names its addressee: one reason per escalation (issue 10 §4)
        _escalate(uow, case, actor, role, f"rule:{role}", rule_reason(policy, case.grade, role), facts.received_at)
    if extras.major_cause:
        declare_major(uow, case, actor, policy, extras.major_cause, extras.major_people, facts.received_at)
    return case


def major_reason(policy: Policy, cause: str) -> str:
    """The recorded (Chinese) reason of a major complaint's escalation; the demo's writer records the same."""
    return words.text("escalation.major_recorded", "zh", cause=words.text(f"major_cause.{cause}", "zh"),
                      role=policy.label("role", top_role(policy)))


def declare_major(uow: UnitOfWork, case: Case, actor: Actor, policy: Policy, cause: str, people: int | None,
                  at: datetime) -> None:
    """A major complaint (order 3 art. 29) starts the emergency plan and goes to the top at once (RULES.md
    §7.2): its cause on the case, a major_declared event, one escalation to the pack's top role."""
    case.major_cause = cause
    _record(uow, case, actor, "major_declared", at, cause=cause, people=people)
    role = top_role(policy)
    _escalate(uow, case, actor, role, f"major:{role}", major_reason(policy, cause), at)
def register_for(uow: UnitOfWork, actor: Actor, form: Mapping[str, Any], policy: Policy, customer_of: Case) -> Case:
    """A new case of `customer_of`'s customer that is not a re-complaint (a review, RULES.md §7.2 art. 20)."""
    return _register(uow, actor, form, policy, customer_of=customer_of)


# for the other use cases of a case (duties.py, statutory.py, transfers.py)
open_case, record_event, finish = _open, _record, _finish


def _submitted_before(uow: UnitOfWork, actor: Actor, form: Mapping[str, Any]) -> Case | None:
    """A second click on save finds the case the first click created (issue 4 §1)."""
    key = form.get("intake_key")
    if not key:
        return None
    uow.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    return uow.session.scalar(select(Case).where(Case.intake_key == key, Case.first_responder_id == actor.id))


def intake(uow: UnitOfWork, actor_id: int, form: Mapping[str, Any]) -> CaseRef:
    """Record a complaint; the recording user is its first responder, for good (seed 002 art. 3).

    With `resolved_at_intake` the customer accepted the explanation at once (seed 000 art. 17(1)):
    registered → resolved → feedback_given in the same transaction, every step recorded.
    """
    actor = load_actor(uow.session, actor_id)
    require_role(actor, "intake")
    earlier = _submitted_before(uow, actor, form)
    if earlier is not None:
        return _ref(earlier)
    policy = uow.policy()
    case = _register(uow, actor, form, policy, numbered=False)
    if form.get("resolved_at_intake"):
        _resolve_at_intake(uow, actor, case, policy, form)
    _finish(uow, case)
    _number_last(uow, case)
    return _ref(case)


def _resolve_at_intake(uow: UnitOfWork, actor: Actor, case: Case, policy: Policy,
                       form: Mapping[str, Any]) -> None:
    explanation = _text(form, "explanation", Phrase("error.field.explanation"))
    satisfaction = checked_satisfaction(form.get("satisfaction"))
    at = case.received_at
    case.outcome, case.fact_finding, case.measures = "resolved_at_intake", explanation, AT_INTAKE["measures"]
    case.accountability, case.resolved_at, case.feedback_at = AT_INTAKE["accountability"], at, at
    case.satisfaction = satisfaction
    _record(uow, case, actor, "resolve_at_intake", at, "resolved", explanation)
    _record(uow, case, actor, "feedback", at, "feedback_given", AT_INTAKE["feedback"],
            method=AT_INTAKE["method"], satisfaction=satisfaction, at_intake=True)
    mark_met(uow, case, policy, "resolve_at_intake", at)
    mark_met(uow, case, policy, "feedback", at)
    waive_open(uow, case)


def forward(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, department: str,
            handler_id: int, handling_form: str, recusal_reason: str | None = None,
            at: datetime | None = None) -> CaseRef:
    """Hand the case and its handling form to the responsible department (seed 000 art. 17(2))."""
    actor, case, policy = _open(uow, actor_id, case_no, version, "forward")
    handling_form = _text({"handling_form": handling_form}, "handling_form", Phrase("error.field.handling_form"))
    target = department_by_code(uow.session, department)
    handler = uow.session.get(User, handler_id)
    if handler is None or not handler.active or handler.department_id != target.id \
            or not DEPARTMENT_STAFF & set(handler.roles):
        raise InvalidInput("error.case.handler_not_in_department", field="handler")
    at = uow.at(at)
    _recuse(uow, case, actor, handler, recusal_reason, at)
    case.responsible_department_id, case.assignee_id = target.id, handler.id
    case.handling_form, case.forwarded_at = handling_form, at
    _record(uow, case, actor, "forward", at, "forwarded", handling_form,
            department=department, handler=handler.username)
    mark_met(uow, case, policy, "forward", at)
    _reassess(uow, case, actor, policy, at)
    return _finish(uow, case)


def reassign(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, handler_id: int, reason: str,
             recusal_reason: str | None = None, at: datetime | None = None) -> CaseRef:
    """The department head gives a forwarded case to another handler of the same department; the deadlines
    stay as they are (issue 10 §5). Recorded on the timeline with who had it and who has it now."""
    actor, case, _ = _open(uow, actor_id, case_no, version, "reassign")
    if headed_department(actor) != case.responsible_department_id:  # another desk's head sees it, not reassigns it
        raise NotPermitted("error.case.reassign_not_your_department", field="handler")
    reason = _text({"reason": reason}, "reason", Phrase("error.field.reassign_reason"))
    handler = uow.session.get(User, handler_id) if isinstance(handler_id, int) else None
    if handler is None or not handler.active or handler.department_id != case.responsible_department_id \
            or not DEPARTMENT_STAFF & set(handler.roles):
        raise InvalidInput("error.case.handler_not_in_department", field="handler")
    if handler.id == case.assignee_id:
        raise InvalidInput("error.case.reassign_same_handler", field="handler")
    previous = uow.session.get(User, case.assignee_id) if case.assignee_id is not None else None
    at = uow.at(at)
    _recuse(uow, case, actor, handler, recusal_reason, at)
    case.assignee_id = handler.id
    _record(uow, case, actor, "reassign", at, note=reason, handler=handler.username,
            previous_handler=previous.username if previous else None)
    case.updated_at = at
    return _finish(uow, case)


def _recuse(uow: UnitOfWork, case: Case, actor: Actor, handler: User, reason: str | None, at: datetime) -> None:
    """Nobody handles a complaint about themselves (RULES.md §7.2, order 3 art. 17) unless overridden with a
    recorded reason."""
    if case.complained_employee_id is None or handler.id != case.complained_employee_id:
        return
    reason = validation.text(reason, "recusal_reason", Phrase("error.field.recusal_reason"), required=False)
    if not reason:
        raise InvalidInput("error.case.recusal", field="handler", name=handler.display_name)
    case.recusal_override = reason
    _record(uow, case, actor, "recusal_override", at, note=reason, handler=handler.username)


def reassign_many(uow: UnitOfWork, actor_id: int, picked: Iterable[tuple[str, int]], *, handler_id: int,
                  reason: str, at: datetime | None = None) -> list[CaseRef]:
    """The queue's "reassign selected" (issue 10 §2): each case, at the version the head loaded, checked
    exactly as one reassigned alone, in case-number order (so two heads' batches lock alike). Any refusal
    raises, naming the case, and the caller's transaction records none of them."""
    chosen = dict(picked)
    if not chosen:
        raise InvalidInput("error.case.reassign_none_chosen", field="cases")
    at = uow.at(at)
    done = []
    for case_no, version in sorted(chosen.items()):
        try:
            done.append(reassign(uow, actor_id, case_no, version, handler_id=handler_id, reason=reason, at=at))
        except (InvalidInput, NotPermitted, InvalidTransition, NotFound, Conflict) as exc:
            raise type(exc)(N_("error.case.in_batch"), field=exc.field, case_no=case_no, problem=exc) from exc
    return done


def _reassess(uow: UnitOfWork, case: Case, actor: Actor, policy: Policy, at: datetime) -> None:
    """Milestones starting at forwarding or resolution get their deadlines now (RULES.md §4)."""
    changes = sync_deadlines(uow, case, assess(policy, case_facts(case), uow.calendar()))
    if changes:
        _record(uow, case, actor, "deadlines_recomputed", at, note="start of milestone", changes=changes)


def first_contact(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, note: str,
                  at: datetime | None = None) -> CaseRef:
    """The department's first contact with the customer (seed 000 art. 17(3), 001 art. 17)."""
    actor, case, policy = _open(uow, actor_id, case_no, version, "first_contact")
    note = _text({"note": note}, "note", Phrase("error.field.first_contact_note"))
    at = uow.at(at)
    case.first_contact_at = at
    _record(uow, case, actor, "first_contact", at, "in_progress", note)
    mark_met(uow, case, policy, "first_contact", at)
    return _finish(uow, case)


def resolve(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, fact_finding: str,
            measures: str, accountability: str, compensation_paid: Any = 0,
            signed_confirmation: str | None = None, at: datetime | None = None) -> CaseRef:
    """Record the result; compensation paid needs the customer's signed confirmation (seed 002 art. 19(1))."""
    actor, case, policy = _open(uow, actor_id, case_no, version, "resolve")
    values = {"fact_finding": fact_finding, "measures": measures, "accountability": accountability}
    case.fact_finding = _text(values, "fact_finding", Phrase("error.field.fact_finding"))
    case.measures = _text(values, "measures", Phrase("error.field.measures"))
    case.accountability = _text(values, "accountability", Phrase("error.field.accountability"))
    case.compensation_paid = _amount(compensation_paid, "compensation_paid")
    if case.compensation_paid > 0:
        case.signed_confirmation = _text({"signed_confirmation": signed_confirmation}, "signed_confirmation",
                                         Phrase("error.field.signed_confirmation"))
    at = uow.at(at)
    case.outcome, case.resolved_at = "resolved", at
    _record(uow, case, actor, "resolve", at, "resolved", case.fact_finding, measures=case.measures,
            accountability=case.accountability, compensation_paid=str(case.compensation_paid))
    mark_met(uow, case, policy, "resolve", at)
    _reassess(uow, case, actor, policy, at)
    return _finish(uow, case)


def mark_invalid(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, explanation: str,
                 at: datetime | None = None) -> CaseRef:
    """Close as invalid: still explained to the customer, and feedback must follow (seed 002 art. 18(3))."""
    actor, case, policy = _open(uow, actor_id, case_no, version, "invalid")
    explanation = _text({"explanation": explanation}, "explanation", Phrase("error.field.explanation"))
    at = uow.at(at)
    case.outcome, case.fact_finding, case.resolved_at = "invalid", explanation, at
    case.measures, case.accountability = AT_INTAKE["invalid_measures"], AT_INTAKE["accountability"]
    _record(uow, case, actor, "invalid", at, "resolved", explanation)
    mark_met(uow, case, policy, "invalid", at)
    return _finish(uow, case)


def feedback(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, method: str,
             satisfaction: int, note: str = "", notification_method: str | None = None,
             notification_ref: str | None = None, at: datetime | None = None) -> CaseRef:
    """Tell the customer the result and record satisfaction on the 5-point scale (RULES.md §2), with the proof
    of notification: how they were told and its evidence, required where the statutory layer applies (RULES.md
    §7.2, order 3 art. 21) — without it feedback is refused, so no milestone it meets is met unproven."""
    actor, case, policy = _open(uow, actor_id, case_no, version, "feedback")
    method = _text({"method": method}, "method", Phrase("error.field.feedback_method"))
    proof = notification_proof(policy, notification_method, notification_ref)
    satisfaction = checked_satisfaction(satisfaction)
    at = uow.at(at)
    case.satisfaction, case.feedback_at = satisfaction, at
    if proof:
        case.notification_method, case.notification_ref = proof["notification_method"], proof["notification_ref"]
    _record(uow, case, actor, "feedback", at, "feedback_given", note or None, method=method,
            satisfaction=case.satisfaction, **proof)
    mark_met(uow, case, policy, "feedback", at)
    if case.reviewed_case_id is not None:  # a review (核查) is decided when its result is told (art. 20)
        for row in uow.session.scalars(select(CaseDeadline).where(
                CaseDeadline.case_id == case.id, CaseDeadline.milestone == REVIEW_MILESTONE,
                CaseDeadline.status == "open")):
            meet(row, at)
    return _finish(uow, case)


def return_visit(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, method: str,
                 satisfaction: int, note: str, at: datetime | None = None) -> CaseRef:
    """Confirm the result and satisfaction later (seed 000 art. 17(5), 001 art. 8)."""
    actor, case, policy = _open(uow, actor_id, case_no, version, "return_visit")
    method = _text({"method": method}, "method", Phrase("error.field.visit_method"))
    note = _text({"note": note}, "note", Phrase("error.field.visit_note"))
    at = uow.at(at)
    case.satisfaction, case.return_visit_at = checked_satisfaction(satisfaction), at
    _record(uow, case, actor, "return_visit", at, "return_visit", note, method=method,
            satisfaction=case.satisfaction)
    mark_met(uow, case, policy, "return_visit", at)
    return _finish(uow, case)


def missing_for_archive(case: Case, policy: Policy) -> list[str]:
    """What the handling form still lacks before it may be filed (seed 000 art. 17(6))."""
    if case.outcome == "withdrawn":
        return []
    required = {"fact_finding": case.fact_finding, "measures": case.measures,
                "accountability": case.accountability, "feedback": case.feedback_at,
                "satisfaction": case.satisfaction}
    if policy.jrt is not None and policy.jrt.required:  # RULES.md §7.4: JR/T 0169 codes on every filed case
        required |= {"jrt_channel": case.jrt_channel, "jrt_business": case.jrt_business, "jrt_cause": case.jrt_cause}
    if case.outcome == "resolved":
        required["handling_form"] = case.handling_form
        if case.compensation_paid > 0:
            required["signed_confirmation"] = case.signed_confirmation
        if policy.return_visit_required:
            required["return_visit"] = case.return_visit_at
    return [name for name, value in required.items() if value in (None, "")]


def field_names(names: Iterable[str]) -> Listing:
    """Parts of the record by their names on the form (回访记录, not return_visit; issue 10 §7)."""
    return Listing(Phrase(f"error.field.{name}") for name in names)


def archive(uow: UnitOfWork, actor_id: int, case_no: str, version: int,
            at: datetime | None = None) -> CaseRef:
    actor, case, policy = _open(uow, actor_id, case_no, version, "archive")
    missing = missing_for_archive(case, policy)
    if missing:
        # the parts by their names on the form, not their codes (issue 10 §7)
        raise InvalidInput("error.case.handling_form_incomplete", field=missing[0],
                           missing=field_names(missing))
    at = uow.at(at)
    case.closed_at = case.closed_at or at
    _record(uow, case, actor, "archive", at, "archived")
    return _finish(uow, case)


def withdraw(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, reason: str,
             at: datetime | None = None) -> CaseRef:
    """The customer withdraws: processing ends that day, with the reason (RULES.md §2)."""
    actor, case, _ = _open(uow, actor_id, case_no, version, "withdraw")
    reason = _text({"reason": reason}, "reason", Phrase("error.field.withdrawal_reason"))
    at = uow.at(at)
    case.outcome, case.closed_at = "withdrawn", at
    _record(uow, case, actor, "withdraw", at, "withdrawn", reason)
    waive_open(uow, case)
    return _finish(uow, case)


def re_complaint(uow: UnitOfWork, actor_id: int, case_no: str, version: int, form: Mapping[str, Any]) -> CaseRef:
    """A dissatisfied customer's new case, linked to the old one (seed 000 art. 17(7)).

    Only on a case the user may see (issue 8 §1): the new case shares the parent's customer record,
    so a re-complaint must never be a way to reach another desk's customer data.
    """
    actor, parent, policy = _open(uow, actor_id, case_no, version, "re_complaint")
    earlier = _submitted_before(uow, actor, form)
    if earlier is not None:
        return _ref(earlier)
    merged = {"channel": parent.channel, "channel_note": parent.channel_note, "category": parent.category,
              "cause": parent.cause, "flags": list(parent.flags), **form}
    case = _register(uow, actor, merged, policy, parent)
    _record(uow, parent, actor, "re_complaint", case.received_at, note=case.case_no, new_case=case.case_no)
    return _finish(uow, case)


def extend(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, milestone: str,
           new_due: datetime, reason: str, customer_informed_at: datetime, informed_method: str,
           at: datetime | None = None) -> CaseRef:
    """A new deadline for one milestone, with a reason told to the customer, within the pack's limit.

    The original deadline is kept for the KPI "resolved within the first deadline" (RULES.md §3).
    """
    actor, case, policy = _open(uow, actor_id, case_no, version, "extend")
    values = {"reason": reason, "informed_method": informed_method}
    reason = _text(values, "reason", Phrase("error.field.extension_reason"))
    informed_method = _text(values, "informed_method", Phrase("error.field.informed_method"))
    row = uow.session.scalar(select(CaseDeadline).where(
        CaseDeadline.case_id == case.id, CaseDeadline.milestone == milestone, CaseDeadline.status == "open"))
    if row is None:
        raise InvalidInput("error.extension.no_open_deadline", field="milestone", milestone=milestone)
    new_due, informed = uow.at(new_due), uow.at(customer_informed_at)
    latest = latest_extension(policy, uow.calendar(), milestone, row.starts_at, row.due_at,
                              row.extensions)
    if not row.due_at < new_due <= latest:
        raise InvalidInput("error.extension.new_due_out_of_range", field="new_due", after=format_deadline(row.due_at),
                           latest=format_deadline(latest))
    record_extension(uow, case, actor, row, new_due, reason, informed, informed_method, uow.at(at))
    return _finish(uow, case)


def record_extension(uow: UnitOfWork, case: Case, actor: Actor, row: CaseDeadline, new_due: datetime, reason: str,
                     informed: datetime, informed_method: str, at: datetime, **data: Any) -> Extension:
    """The extension's row, the deadline moved and the timeline entry: the pack's and the regulator's alike."""
    extension = Extension(case_id=case.id, milestone=row.milestone, old_due_at=row.due_at, new_due_at=new_due,
                          reason=reason, customer_informed_at=informed, customer_informed_method=informed_method,
                          requested_by_id=actor.id)
    uow.session.add(extension)
    old_due, row.due_at, row.extensions = row.due_at, new_due, row.extensions + 1
    _record(uow, case, actor, "extension", at, note=reason, milestone=row.milestone, old_due=iso(old_due),
            new_due=iso(new_due), customer_informed_at=iso(informed), informed_method=informed_method, **data)
    case.updated_at = at  # an extension changes the case: bump its version
    return extension


def report_hq(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, note: str,
              at: datetime | None = None) -> CaseRef:
    """Report a closed branch-level case to brokerage headquarters (seed 002 art. 19(1))."""
    actor, case, policy = _open(uow, actor_id, case_no, version, "report_hq")
    owed = uow.session.scalar(select(CaseDeadline.id).where(
        CaseDeadline.case_id == case.id, CaseDeadline.milestone == "report_hq", CaseDeadline.status == "open"))
    if owed is None:
        raise InvalidTransition("error.case.no_report_owed", field="report_hq")
    note = _text({"note": note}, "note", Phrase("error.field.report_note"))
    at = uow.at(at)
    _record(uow, case, actor, "report_hq", at, note=note)
    mark_met(uow, case, policy, "report_hq", at)
    case.updated_at = at  # the report changes the case: bump its version
    return _finish(uow, case)


def rule_reason(policy: Policy, grade: str, role: str) -> str:
    """The recorded (Chinese) reason of an escalation the pack's rules owe: it names its addressee, so a case
    escalated to two roles shows two different timeline entries (issue 10 §4); the sweep writes the same."""
    return f"按政策包升级规则上报{policy.label('role', role)}（等级：{policy.label('grade', grade)}）"


def _escalate(uow: UnitOfWork, case: Case, actor: Actor | None, role: str, rule_key: str | None,
              reason: str, at: datetime) -> None:
    escalation = Escalation(case_id=case.id, to_role=role, rule_key=rule_key, reason=reason,
                            created_by_id=actor.id if actor else None, created_at=at)  # the board shows its age
    uow.session.add(escalation)
    uow.flush()
    _record(uow, case, actor, "escalation", at, note=reason, to_role=role, rule=rule_key,
            escalation_id=escalation.id)


def escalate(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, to_role: str,
             reason: str, at: datetime | None = None) -> CaseRef:
    """Report the case up the chain of responsibility by hand (RULES.md §1)."""
    actor, case, policy = _open(uow, actor_id, case_no, version, "escalate")
    if to_role not in policy.roles:
        raise InvalidInput("error.case.unknown_escalation_role", field="to_role", to_role=to_role)
    reason = _text({"reason": reason}, "reason", Phrase("error.field.escalation_reason"))
    _escalate(uow, case, actor, to_role, None, reason, uow.at(at))
    return _finish(uow, case)


def case_by_number(uow: UnitOfWork, case_no: str) -> Case:
    case = uow.session.scalar(select(Case).where(Case.case_no == case_no))
    if case is None:
        raise NotFound("error.case.not_found", field="case_no", case_no=case_no)
    return case
