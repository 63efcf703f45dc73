"""Handling duties of the statutory layer (RULES.md §7.2, CBIRC order 2020 no. 3 arts. 17, 20): the review
(核查) a complainant may ask for after the decision, and the employee complained about, who may not handle it.

The proof of notification (art. 21) is recorded by `cases.feedback`; the decision letter (art. 19) is
services/casework/decision_letter.py; the recusal check on forwarding and reassigning lives in cases.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from db.models import Case, CaseDeadline, User
from services.casework import cases
from services.casework.case_view import visible_case
from services.errors import InvalidInput, Phrase
from services.institution.access import STAFF, load_actor, may
from services.rules import validation
from services.rules.calendar import format_deadline
from services.rules.duties import REVIEW_MILESTONE, review_decision_due, review_request_ends
from services.rules.statutory import MILESTONE as STATUTORY_MILESTONE
from services.rules.transitions import OPEN_STATES
from services.unit_of_work import UnitOfWork

REVIEW_FROM = ("feedback_given", "return_visit", "archived")  # the decision was told (art. 20)


def request_review(uow: UnitOfWork, actor_id: int, case_no: str, version: int, received_at: datetime,
                   content: str) -> cases.CaseRef:
    """The complainant asks for a review (核查) of the decision (art. 20): a NEW case of the same customer, linked
    to the first (cases.reviewed_case_id), decided within `review_decision` of the request — a deadline met by
    feedback — and only within `review_request` of the day the decision was told (cases.feedback_at)."""
    actor, case, _ = cases.open_case(uow, actor_id, case_no, version, "request_review", REVIEW_FROM)
    policy = uow.policy(case.pack)
    layer = policy.statutory
    if layer is None or not policy.statutory_on:
        raise InvalidInput("error.review.no_statutory_layer", field="case_no")
    if case.reviewed_case_id is not None:  # the review is the superior's last word (art. 20)
        raise InvalidInput("error.review.of_a_review", field="case_no")
    earlier = uow.session.scalar(select(Case.case_no).where(Case.reviewed_case_id == case.id))
    if earlier is not None:
        raise InvalidInput("error.review.already_requested", field="case_no", review=earlier)
    content = validation.text(content, "content", Phrase("error.field.review_content"))
    received = validation.received_at(uow.at(received_at), uow.now())  # a request that has happened
    told = case.feedback_at
    assert told is not None  # every state of REVIEW_FROM passed feedback
    ends = review_request_ends(layer, uow.calendar(), told)
    if received < told:
        raise InvalidInput("error.review.before_decision", field="received_at", told=format_deadline(told))
    if received >= ends:
        raise InvalidInput("error.review.too_late", field="received_at", told=format_deadline(told),
                           last=format_deadline(ends))
    form = {"received_at": received, "content": content, "channel": case.channel, "category": case.category,
            "cause": case.cause, "flags": list(case.flags), "compensation_claim": case.compensation_claimed}
    review = cases.register_for(uow, actor, form, policy, case)
    review.reviewed_case_id = case.id
    due = review_decision_due(layer, uow.calendar(), received)
    for row in uow.session.scalars(select(CaseDeadline).where(
            CaseDeadline.case_id == review.id, CaseDeadline.milestone == STATUTORY_MILESTONE,
            CaseDeadline.status == "open")):
        row.status = "waived"  # a review runs on its own 30 days (art. 20), not a fresh 15-day decision
    uow.session.add(CaseDeadline(case_id=review.id, milestone=REVIEW_MILESTONE, starts_at=received, due_at=due,
                                 original_due_at=due, period=str(layer.review_decision),
                                 source=f"{layer.cite.source} art. 20", status="open", extensions=0))
    cases.record_event(uow, case, actor, "review_requested", received, note=content, review_case=review.case_no)
    return cases.finish(uow, review)


def name_complained_employee(uow: UnitOfWork, actor_id: int, case_no: str, version: int,
                             employee_id: int | None, at: datetime | None = None) -> cases.CaseRef:
    """Record the employee the complaint is about (art. 17), or clear it (None): forwarding or reassigning the case
    to them is then refused unless overridden with a recorded reason (cases.forward / cases.reassign)."""
    actor, case, _ = cases.open_case(uow, actor_id, case_no, version, "name_complained_employee", OPEN_STATES)
    employee = uow.session.get(User, employee_id) if isinstance(employee_id, int) else None
    if employee_id is not None and (employee is None or not STAFF & set(employee.roles)):
        raise InvalidInput("error.recusal.unknown_employee", field="complained_employee")
    at = uow.at(at)
    case.complained_employee_id = employee.id if employee else None
    cases.record_event(uow, case, actor, "note", at, complained_employee=employee.username if employee else None,
                 name=employee.display_name if employee else None)  # the timeline says it (case_view.event_note)
    case.updated_at = at  # the case changed: bump its version
    return cases.finish(uow, case)


@dataclass(frozen=True)
class DutiesView:
    """What the case page's duties panel shows and offers (pages mirror `may`; the services check again)."""

    case_no: str
    version: int
    statutory: bool  # the pack has the statutory layer
    complained_employee: str | None  # display name
    complained_is_handler: bool  # the case is with the employee complained about (an override was recorded)
    recusal_override: str | None
    may_name: bool
    staff: list[tuple[int, str]]  # whom the complaint may be about, when may_name
    letter_ready: bool  # the case has a decision to print (resolved)
    reviewed_case_no: str | None  # this case reviews that one
    review_case_nos: list[str]  # reviews of this case
    may_request_review: bool
    review_request_ends: datetime | None  # exclusive: the last instant a review may be asked for
    review_due: datetime | None  # this review's own limit


def duties_view(uow: UnitOfWork, actor_id: int, case_no: str) -> DutiesView:
    session = uow.session
    actor = load_actor(session, actor_id)
    case = visible_case(session, actor, case_no)
    policy = uow.policy(case.pack)
    layer = policy.statutory if policy.statutory_on else None
    employee = session.get(User, case.complained_employee_id) if case.complained_employee_id else None
    may_name = may(actor, "name_complained_employee") and case.state in OPEN_STATES
    staff = [(u.id, u.display_name) for u in session.scalars(select(User).where(User.active).order_by(
        User.display_name)) if STAFF & set(u.roles)] if may_name else []
    reviewed = session.get(Case, case.reviewed_case_id) if case.reviewed_case_id else None
    reviews = list(session.scalars(select(Case.case_no).where(Case.reviewed_case_id == case.id)
                                   .order_by(Case.case_no)))
    ends = review_request_ends(layer, uow.calendar(), case.feedback_at) \
        if layer and case.feedback_at and not case.reviewed_case_id else None
    due = session.scalar(select(CaseDeadline.due_at).where(CaseDeadline.case_id == case.id,
                                                           CaseDeadline.milestone == REVIEW_MILESTONE))
    return DutiesView(
        case_no=case.case_no, version=case.version, statutory=layer is not None,
        complained_employee=employee.display_name if employee else None,
        complained_is_handler=employee is not None and case.assignee_id == employee.id,
        recusal_override=case.recusal_override, may_name=may_name, staff=staff,
        letter_ready=case.resolved_at is not None, reviewed_case_no=reviewed.case_no if reviewed else None,
        review_case_nos=reviews,
        # offered after the window too: a request that came by post is dated when received, and a late one is
        # refused with its reason rather than hidden
        may_request_review=bool(ends and may(actor, "request_review") and case.state in REVIEW_FROM and not reviews),
        review_request_ends=ends, review_due=due)
