"""Reviews of sampled cases (RULES.md §6): the checklist, its weighted score, findings and their rectification.

Each checklist item comes with a suggestion computed from the case's record; the reviewer confirms
or overrides it. A finding becomes a rectification action with an owner and a due date, tracked
until it is closed with evidence; overdue actions feed the escalation board (`overdue_actions`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from db.models import Case, CaseDeadline, CaseEvent, Customer, Department, Extension, User
from db.supervision_models import RectificationAction, Review, SampleItem, SupervisionReturnVisit
from services.casework.cases import SATISFACTION, field_names, missing_for_archive
from services.errors import Conflict, InvalidInput, InvalidTransition, Listing, NotFound, NotPermitted, Phrase
from services.institution import audit
from services.institution.access import Actor, headed_department, load_actor, may, scope
from services.institution.directory import department_by_code
from services.rules.clock import as_of
from services.rules.policy import Label, Policy
from services.unit_of_work import UnitOfWork

RESULTS = ("pass", "fail", "na")


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    weight: int

    @property
    def name(self) -> Phrase:
        """Its name in the catalogue, review.item.<code> (issue 10 §3)."""
        return Phrase(f"review.item.{self.code}")

    def label(self, lang: str = "zh") -> str:
        return self.name.text(lang)


# RULES.md §6 review checklist; the weights add up to 100.
CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem("intake_complete", 15),
    ChecklistItem("first_responder", 10),
    ChecklistItem("deadlines_met", 20),
    ChecklistItem("case_record", 20),
    ChecklistItem("extensions_informed", 10),
    ChecklistItem("feedback_and_visit", 15),
    ChecklistItem("archive_complete", 10),
)
WEIGHTS = {item.code: item.weight for item in CHECKLIST}


@dataclass(frozen=True)
class Suggestion:
    item: str
    result: str  # pass | fail | na, for the reviewer to confirm
    why: Phrase  # from the case's record, said in the reader's language

    def text(self, lang: str) -> str:
        return self.why.text(lang)


@dataclass(frozen=True)
class FindingInput:
    finding: str
    owner_department: str  # department code
    owner_id: int
    due_date: date


@dataclass(frozen=True)
class ActionRow:
    id: int
    case_no: str
    finding: str
    owner_department: str
    owner_id: int
    owner: str
    due_date: date
    status: str
    overdue: bool


def _text(value: str | None, field: str, name: Phrase) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput("error.input.missing", field=field, name=name)
    return value


def weighted_score(answers: Mapping[str, str]) -> Decimal | None:
    """100 × passed weight / (passed + failed weight); n.a. items leave the denominator."""
    passed = sum(WEIGHTS[code] for code, result in answers.items() if result == "pass")
    judged = sum(WEIGHTS[code] for code, result in answers.items() if result in ("pass", "fail"))
    return None if judged == 0 else (Decimal(100 * passed) / judged).quantize(Decimal("0.01"))


# --- suggestions from the case's record -----------------------------------------------------------

@dataclass(frozen=True)
class _Record:
    case: Case
    policy: Policy
    customer: Customer
    deadlines: Sequence[CaseDeadline]
    extensions: Sequence[Extension]
    responder_followed_up: bool
    now: datetime


Verdict = tuple[str, Phrase]  # pass | fail | na, and why in the catalogue's words (issue 10 §3)


def _missing(names: list[str], ok: Phrase) -> Verdict:
    """Fail naming what is missing as on the form (事实认定, not fact_finding), else pass saying `ok`."""
    return ("fail", Phrase("review.verdict.missing", fields=field_names(names))) if names else ("pass", ok)


def _milestones(r: _Record, codes: Sequence[str]) -> Listing:
    return Listing(Label(r.policy.label("milestone", c, "zh"), r.policy.label("milestone", c, "en")) for c in codes)


def _intake_complete(r: _Record) -> Verdict:
    values = {"customer_name": r.customer.name, "customer_phone": r.customer.phone, "content": r.case.content,
              "channel": r.case.channel, "category": r.case.category, "received_at": r.case.received_at}
    return _missing([k for k, v in values.items() if v in (None, "")], Phrase("review.verdict.intake_ok"))


def _first_responder(r: _Record) -> Verdict:
    if r.responder_followed_up:
        return "pass", Phrase("review.verdict.responder_followed_up")
    return "fail", Phrase("review.verdict.responder_idle")


def _deadlines_met(r: _Record) -> Verdict:
    if not r.deadlines:
        return "na", Phrase("review.verdict.no_deadlines")
    end = r.case.closed_at or r.now
    late = [d.milestone for d in r.deadlines
            if d.status == "met_late" or (d.status == "open" and d.due_at <= end)]
    if late:
        return "fail", Phrase("review.verdict.deadlines_missed", milestones=_milestones(r, late))
    return "pass", Phrase("review.verdict.deadlines_met")


def _case_record(r: _Record) -> Verdict:
    required = {"fact_finding": r.case.fact_finding, "measures": r.case.measures,
                "accountability": r.case.accountability}
    if r.case.compensation_paid > 0:  # seed 002 art. 19(1)
        required["signed_confirmation"] = r.case.signed_confirmation
    if r.case.outcome == "withdrawn":
        return "na", Phrase("review.verdict.withdrawn")
    return _missing([k for k, v in required.items() if not (v or "").strip()], Phrase("review.verdict.record_ok"))


def _extensions_informed(r: _Record) -> Verdict:
    if not r.extensions:
        return "na", Phrase("review.verdict.no_extensions")
    late = [e.milestone for e in r.extensions if e.customer_informed_at > e.old_due_at]
    if late:
        return "fail", Phrase("review.verdict.extensions_told_late", milestones=_milestones(r, late))
    return "pass", Phrase("review.verdict.extensions_told")


def _feedback_and_visit(r: _Record) -> Verdict:
    if r.case.outcome == "withdrawn":
        return "na", Phrase("review.verdict.withdrawn")
    required: dict[str, object] = {"feedback": r.case.feedback_at, "satisfaction": r.case.satisfaction}
    if r.case.outcome == "resolved" and r.policy.return_visit_required:  # seed 000 art. 17(5), 001 art. 8
        required["return_visit"] = r.case.return_visit_at
    return _missing([k for k, v in required.items() if v is None], Phrase(
        "review.verdict.feedback_given", satisfaction=Phrase(f"satisfaction.{r.case.satisfaction}")))


def _archive_complete(r: _Record) -> Verdict:
    if r.case.state != "archived":
        return "fail", Phrase("review.verdict.not_archived", state=Phrase(f"state.{r.case.state}"))
    return _missing(missing_for_archive(r.case, r.policy), Phrase("review.verdict.archive_ok"))


SUGGEST: dict[str, Callable[[_Record], Verdict]] = {
    "intake_complete": _intake_complete, "first_responder": _first_responder, "deadlines_met": _deadlines_met,
    "case_record": _case_record, "extensions_informed": _extensions_informed,
    "feedback_and_visit": _feedback_and_visit, "archive_complete": _archive_complete,
}


def _record_of(uow: UnitOfWork, case: Case, now: datetime) -> _Record:
    session = uow.session
    followed = session.scalar(select(CaseEvent.id).where(
        CaseEvent.case_id == case.id, CaseEvent.actor_id == case.first_responder_id,
        CaseEvent.event_type.not_in(("intake", "escalation"))).limit(1)) is not None
    customer = session.get(Customer, case.customer_id)
    assert customer is not None  # cases.customer_id is a NOT NULL foreign key
    return _Record(
        case=case, policy=uow.policy(case.pack), customer=customer,
        deadlines=session.scalars(select(CaseDeadline).where(CaseDeadline.case_id == case.id)
                                  .order_by(CaseDeadline.due_at)).all(),
        extensions=session.scalars(select(Extension).where(Extension.case_id == case.id)
                                   .order_by(Extension.id)).all(),
        responder_followed_up=followed, now=now)


# --- reviewing ------------------------------------------------------------------------------------

def _assigned_item(session: Session, actor_id: int, item_id: int) -> tuple[Actor, SampleItem, Case]:
    """The sample item, locked, if `actor_id` is its assigned reviewer and still may review it."""
    actor = load_actor(session, actor_id)
    item = session.scalar(select(SampleItem).where(SampleItem.id == item_id).with_for_update())
    if item is None:
        raise NotFound("error.review.sample_item_not_found", field="item_id", item_id=item_id)
    if item.reviewer_id != actor.id or not may(actor, "review"):
        raise NotPermitted("error.review.not_assigned_to_you")
    case = session.get(Case, item.case_id)
    assert case is not None  # sample_items.case_id is a NOT NULL foreign key
    if actor.department_id is not None and actor.department_id == case.responsible_department_id:
        raise NotPermitted("error.review.own_department")
    return actor, item, case


def suggestions(uow: UnitOfWork, actor_id: int, item_id: int, now: datetime | None = None) -> list[Suggestion]:
    """One suggestion per checklist item, from the case's record, for the assigned reviewer to confirm."""
    _, _, case = _assigned_item(uow.session, actor_id, item_id)
    record = _record_of(uow, case, uow.at(now))
    return [Suggestion(item.code, *SUGGEST[item.code](record)) for item in CHECKLIST]


def _answers(answers: Mapping[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
    unknown = sorted(set(answers) - set(WEIGHTS))
    if unknown:
        raise InvalidInput("error.review.unknown_items", field=unknown[0], items=Listing(unknown))
    checked = {}
    for item in CHECKLIST:
        result, note = answers.get(item.code, ("", ""))
        if result not in RESULTS:
            raise InvalidInput("error.review.result_missing", field=item.code, item=item.name)
        note = (note or "").strip()
        if result == "fail" and not note:
            raise InvalidInput("error.review.failure_reason_missing", field=item.code, item=item.name)
        checked[item.code] = {"result": result, "note": note}
    return checked


def _action(session: Session, review: Review, finding: FindingInput, today: date) -> RectificationAction:
    text = _text(finding.finding, "finding", Phrase("error.field.finding"))
    department = department_by_code(session, finding.owner_department)
    owner = session.get(User, finding.owner_id)
    if owner is None or not owner.active or owner.department_id != department.id:
        raise InvalidInput("error.review.owner_not_in_department", field="owner_id")
    if finding.due_date < today:
        raise InvalidInput("error.review.due_in_past", field="due_date")
    return RectificationAction(review_id=review.id, finding=text, owner_department_id=department.id,
                               owner_id=owner.id, due_date=finding.due_date)


def submit_review(uow: UnitOfWork, actor_id: int, item_id: int, answers: Mapping[str, tuple[str, str]],
                  findings: Sequence[FindingInput] = (), at: datetime | None = None) -> int:
    """Record the checklist, its weighted score and the findings, each a rectification action."""
    actor, item, _ = _assigned_item(uow.session, actor_id, item_id)
    if uow.session.scalar(select(Review.id).where(Review.sample_item_id == item.id)) is not None:
        raise Conflict("error.review.already_reviewed")
    checklist, at = _answers(answers), uow.at(at)
    review = Review(sample_item_id=item.id, reviewer_id=actor.id, checklist=checklist, submitted_at=at,
                    score=weighted_score({code: a["result"] for code, a in checklist.items()}),
                    findings="\n".join(f.finding.strip() for f in findings) or None)
    uow.session.add(review)
    uow.flush()
    uow.session.add_all([_action(uow.session, review, f, at.date()) for f in findings])
    uow.flush()
    return review.id


def record_supervision_visit(uow: UnitOfWork, actor_id: int, item_id: int, *, method: str, satisfaction: int,
                             note: str, at: datetime | None = None) -> int:
    """The reviewer's own call to the customer of a sampled case."""
    actor, item, _ = _assigned_item(uow.session, actor_id, item_id)
    if satisfaction not in SATISFACTION:
        raise InvalidInput("error.review.satisfaction_missing", field="satisfaction")
    visit = SupervisionReturnVisit(
        sample_item_id=item.id, reviewer_id=actor.id, at=uow.at(at), satisfaction=int(satisfaction),
        method=_text(method, "method", Phrase("error.field.visit_method")),
        note=_text(note, "note", Phrase("error.field.visit_note")))
    uow.session.add(visit)
    uow.flush()
    return visit.id


# --- rectification actions ------------------------------------------------------------------------

def close_action(uow: UnitOfWork, actor_id: int, action_id: int, evidence: str, at: datetime | None = None) -> None:
    """Close a rectification action; the evidence of the fix is required (RULES.md §6)."""
    actor = load_actor(uow.session, actor_id)
    action = uow.session.scalar(select(RectificationAction).where(RectificationAction.id == action_id)
                                .with_for_update())
    head_of_owner = action and headed_department(actor) == action.owner_department_id
    if action is None or not (actor.id == action.owner_id or head_of_owner or may(actor, "supervise")):
        # Missing and not one's own read alike to anyone who may not close it (issue 8 §1).
        raise NotPermitted("error.review.action_not_closable", field="action_id")
    if action.status != "open":
        raise InvalidTransition("error.review.action_closed", field="status")
    action.evidence = _text(evidence, "evidence", Phrase("error.field.evidence"))
    action.status, action.closed_at, action.closed_by_id = "closed", uow.at(at), actor.id
    audit.record(uow.session, actor.id, "rectification_closed", action_id=action.id)
    uow.flush()


def _action_rows(now: datetime) -> Select[tuple[int, str, str, str, int, str, date, str, bool]]:
    today = as_of(now).date()  # due by the end of the due date, Shanghai time
    return (select(RectificationAction.id, Case.case_no, RectificationAction.finding, Department.code,
                   RectificationAction.owner_id, User.display_name, RectificationAction.due_date,
                   RectificationAction.status, RectificationAction.due_date < today)
            .join(Review, Review.id == RectificationAction.review_id)
            .join(SampleItem, SampleItem.id == Review.sample_item_id)
            .join(Case, Case.id == SampleItem.case_id)
            .join(Department, Department.id == RectificationAction.owner_department_id)
            .join(User, User.id == RectificationAction.owner_id)
            .where(RectificationAction.status == "open")
            .order_by(RectificationAction.due_date, RectificationAction.id))


def _action_scope(actor: Actor) -> ColumnElement[bool]:
    return scope(actor, (RectificationAction.owner_id,), RectificationAction.owner_department_id)


def open_actions(uow: UnitOfWork, actor_id: int, now: datetime) -> list[ActionRow]:
    """Open actions the user may see (their own, their department's, or all for supervision), overdue flagged."""
    actor = load_actor(uow.session, actor_id)
    return [ActionRow(*row) for row in uow.session.execute(_action_rows(uow.at(now)).where(_action_scope(actor)))]


def overdue_actions(uow: UnitOfWork, actor_id: int, now: datetime | None = None) -> list[ActionRow]:
    """The open actions this user may see that are past their due date: the escalation board's list."""
    actor = load_actor(uow.session, actor_id)
    now = uow.at(now)
    stmt = _action_rows(now).where(_action_scope(actor), RectificationAction.due_date < now.date())
    return [ActionRow(*row) for row in uow.session.execute(stmt)]
