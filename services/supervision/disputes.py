"""Disputes of review findings (RULES.md §8, issue 12 §5).

A finding is a checklist item a review marked "fail". The head of the reviewed case's department may dispute it
once, with a reason; a supervisor who did not write the review decides: accept (the item no longer fails and the
review's score is computed again), partly accept (the supervisor gives the new score, between the old one and the
score had the finding been withdrawn) or reject. The decision is final. Filing and deciding are both written to
the case's timeline as notes carrying the dispute in their data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import ColumnElement, Select, String, column, func, select, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.selectable import TableValuedAlias

from db.calibration_models import DISPUTE_DECISIONS, DISPUTE_STATUSES, Dispute
from db.models import Case, CaseEvent, User
from db.supervision_models import Review, SampleItem
from services.casework.case_view import dispute_note
from services.errors import Conflict, InvalidInput, InvalidTransition, NotFound, NotPermitted, Phrase
from services.institution import audit
from services.institution.access import Actor, headed_department, load_actor, may, require_role
from services.supervision.reviews import WEIGHTS, weighted_score
from services.unit_of_work import UnitOfWork
from services.words import N_

ACCEPTED = ("accepted", "partly_accepted")  # decided for the department: lost by the reviewer (issue 12 §6)
STATUS_WORDS = {"filed": N_("dispute.status.filed"), "accepted": N_("dispute.status.accepted"),
                "partly_accepted": N_("dispute.status.partly_accepted"), "rejected": N_("dispute.status.rejected")}
assert set(STATUS_WORDS) == set(DISPUTE_STATUSES)


@dataclass(frozen=True)
class FindingRow:
    review_id: int
    case_no: str
    item: str
    note: str
    score: float | None
    reviewer: str
    dispute_id: int | None
    status: str | None  # None: not disputed; else the dispute's status


@dataclass(frozen=True)
class DisputeRow:
    id: int
    case_no: str
    item: str
    reason: str
    status: str
    filed_by: str
    filed_at: datetime
    reviewer_id: int
    reviewer: str
    score_before: float | None
    score_after: float | None
    decision_reason: str | None
    decided_at: datetime | None


@dataclass(frozen=True)
class DisputeStats:
    findings: int  # failed checklist items in submitted reviews
    disputed: int
    decided: int
    accepted: int  # accepted or partly accepted
    rate: float | None  # disputed / findings
    accept_rate: float | None  # accepted / decided
    days_to_decide: float | None  # mean, calendar days from filing to decision


def _text(value: str | None, field: str, name: Phrase) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput("error.input.missing", field=field, name=name)
    return value


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _visible(actor: Actor) -> ColumnElement[bool]:
    """Supervision sees every finding; a department head those of their own department's cases."""
    require_role(actor, "view_disputes")
    if may(actor, "decide_dispute"):
        return true()
    return Case.responsible_department_id == headed_department(actor)


def _timeline(session: Session, case: Case, actor_id: int, at: datetime, event: str, dispute: Dispute) -> None:
    """The case's timeline: a note with the dispute in its data (issue 12 §5), said in Chinese as the system's
    notes are; case_view.event_note says it again to other readers."""
    data = {"dispute": dispute.id, "dispute_event": event, "item": dispute.item, "status": dispute.status,
            "score_after": None if dispute.score_after is None else str(dispute.score_after)}
    session.add(CaseEvent(case_id=case.id, at=at, actor_id=actor_id, event_type="note", from_state=case.state,
                          to_state=case.state, data=data, note=dispute_note(data, "zh")))


# --- filing and deciding ------------------------------------------------------------------------------

def _review(session: Session, review_id: int) -> tuple[Review, Case]:
    review = session.scalar(select(Review).where(Review.id == review_id).with_for_update())
    if review is None or review.submitted_at is None:
        raise NotFound("error.dispute.review_not_found", field="review_id", review_id=review_id)
    case = session.scalar(select(Case).join(SampleItem, SampleItem.case_id == Case.id)
                          .where(SampleItem.id == review.sample_item_id))
    assert case is not None  # sample_items.case_id is a NOT NULL foreign key
    return review, case


def file_dispute(uow: UnitOfWork, actor_id: int, review_id: int, item: str, reason: str,
                 at: datetime | None = None) -> int:
    """The reviewed department's head disputes one finding, once, with a reason; returns the dispute's id."""
    actor = load_actor(uow.session, actor_id)
    require_role(actor, "dispute")
    review, case = _review(uow.session, review_id)
    if headed_department(actor) != case.responsible_department_id:
        raise NotPermitted("error.dispute.not_your_department")
    if item not in WEIGHTS or (review.checklist.get(item) or {}).get("result") != "fail":
        raise InvalidInput("error.dispute.not_a_finding", field="item")
    if uow.session.scalar(select(Dispute.id).where(Dispute.review_id == review.id, Dispute.item == item)):
        raise Conflict("error.dispute.already_disputed", field="item")
    when = uow.at(at)
    dispute = Dispute(review_id=review.id, item=item, filed_by_id=actor.id, filed_at=when, status="filed",
                      reason=_text(reason, "reason", Phrase("dispute.reason")), score_before=review.score)
    uow.session.add(dispute)
    uow.flush()
    _timeline(uow.session, case, actor.id, when, "filed", dispute)
    audit.record(uow.session, actor.id, "dispute_filed", case_id=case.id, dispute_id=dispute.id)
    uow.flush()
    return dispute.id


def _withdrawn(review: Review, item: str) -> tuple[dict[str, dict[str, str]], Decimal]:
    """The review's checklist with the finding withdrawn (passed, its original result kept) and the score then:
    the current score raised by what the item's failure cost, so an earlier partial acceptance is kept."""
    def score(checklist: dict[str, dict[str, str]]) -> Decimal:
        return weighted_score({code: a["result"] for code, a in checklist.items()}) or Decimal(0)

    checklist = {code: dict(answer) for code, answer in review.checklist.items()}
    before = score(checklist)
    checklist[item] = {**checklist[item], "result": "pass", "disputed": checklist[item]["result"]}
    return checklist, min(Decimal(100), (review.score or before) + score(checklist) - before)


def _partial(value: Decimal | float | str | None, low: Decimal | None, high: Decimal | None) -> Decimal:
    try:
        score = Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else None
    except InvalidOperation:
        score = None
    if score is None or low is None or high is None or not low < score < high:
        raise InvalidInput("error.dispute.partial_score", field="new_score", low=str(low), high=str(high))
    return score


def decide_dispute(uow: UnitOfWork, actor_id: int, dispute_id: int, decision: str, reason: str,
                   new_score: Decimal | float | str | None = None, at: datetime | None = None) -> None:
    """A supervisor who did not write the review decides, finally: accepted, partly_accepted (with the new score)
    or rejected, with a reason."""
    actor = load_actor(uow.session, actor_id)
    require_role(actor, "decide_dispute")
    dispute = uow.session.scalar(select(Dispute).where(Dispute.id == dispute_id).with_for_update())
    if dispute is None:
        raise NotFound("error.dispute.not_found", field="dispute_id", dispute_id=dispute_id)
    review, case = _review(uow.session, dispute.review_id)
    if review.reviewer_id == actor.id:
        raise NotPermitted("error.dispute.own_review")
    if dispute.status != "filed":
        raise InvalidTransition("error.dispute.decided", field="decision")
    if decision not in DISPUTE_DECISIONS:
        raise InvalidInput("error.dispute.decision_missing", field="decision")
    text = _text(reason, "decision_reason", Phrase("dispute.decision_reason"))
    if decision == "rejected" and new_score not in (None, ""):
        raise InvalidInput("error.dispute.score_only_when_accepted", field="new_score")
    if decision != "rejected":
        checklist, withdrawn = _withdrawn(review, dispute.item)
        score = withdrawn if decision == "accepted" else _partial(new_score, review.score, withdrawn)
        if decision == "accepted":
            review.checklist = checklist
        review.score = dispute.score_after = score
    when = uow.at(at)
    dispute.status, dispute.decided_by_id, dispute.decided_at, dispute.decision_reason = (
        decision, actor.id, when, text)
    uow.flush()
    _timeline(uow.session, case, actor.id, when, "decided", dispute)
    audit.record(uow.session, actor.id, "dispute_decided", case_id=case.id, dispute_id=dispute.id,
                 decision=decision)
    uow.flush()


# --- reading ------------------------------------------------------------------------------------------

def findings(uow: UnitOfWork, actor_id: int) -> list[FindingRow]:
    """The findings this user may see (a head: their department's), each with its dispute if any."""
    actor = load_actor(uow.session, actor_id)
    visible = _visible(actor)
    item = _items()
    reviewer = aliased(User)
    rows = uow.session.execute(
        select(Review.id, Case.case_no, item.c.key, item.c.value["note"].astext, Review.score,
               reviewer.display_name, Dispute.id, Dispute.status)
        .select_from(Review).join(item, true())
        .join(SampleItem, SampleItem.id == Review.sample_item_id).join(Case, Case.id == SampleItem.case_id)
        .join(reviewer, reviewer.id == Review.reviewer_id)
        .outerjoin(Dispute, (Dispute.review_id == Review.id) & (Dispute.item == item.c.key))
        .where(visible, Review.submitted_at.is_not(None),
               (item.c.value["result"].astext == "fail") | Dispute.id.is_not(None))
        .order_by(Review.id.desc(), item.c.key)).all()
    return [FindingRow(rid, no, code, note or "", _float(score), name, did, status)
            for rid, no, code, note, score, name, did, status in rows]


def _items() -> TableValuedAlias:
    """The review's checklist as rows (key: item code, value: {"result", "note"})."""
    return func.jsonb_each(Review.checklist).table_valued(
        column("key", String), column("value", JSONB)).render_derived("item")


def _dispute_rows() -> Select[tuple[Dispute, str, int, str, str]]:
    filer, reviewer = aliased(User), aliased(User)
    return (select(Dispute, Case.case_no, Review.reviewer_id, reviewer.display_name, filer.display_name)
            .join(Review, Review.id == Dispute.review_id).join(SampleItem, SampleItem.id == Review.sample_item_id)
            .join(Case, Case.id == SampleItem.case_id).join(reviewer, reviewer.id == Review.reviewer_id)
            .join(filer, filer.id == Dispute.filed_by_id))


def disputes(uow: UnitOfWork, actor_id: int, *, pending_only: bool = False) -> list[DisputeRow]:
    """The disputes this user may see, the pending first, then the newest."""
    actor = load_actor(uow.session, actor_id)
    stmt = _dispute_rows().where(_visible(actor))
    if pending_only:
        stmt = stmt.where(Dispute.status == "filed")
    rows = uow.session.execute(stmt.order_by((Dispute.status != "filed"), Dispute.filed_at.desc(), Dispute.id))
    return [DisputeRow(d.id, no, d.item, d.reason, d.status, filer, d.filed_at, rid, reviewer,
                       _float(d.score_before), _float(d.score_after), d.decision_reason, d.decided_at)
            for d, no, rid, reviewer, filer in rows]


def dispute_stats(uow: UnitOfWork, actor_id: int, date_from: date | None = None,
                  date_to: date | None = None) -> DisputeStats:
    """Dispute rate (disputed / findings), accept rate (accepted or partly / decided) and mean days to decide,
    over the reviews submitted in the period (all when no period) that this user may see."""
    actor = load_actor(uow.session, actor_id)
    visible = _visible(actor)
    period: list[ColumnElement[bool]] = [Review.submitted_at.is_not(None)]
    if date_from is not None:
        period.append(func.date(func.timezone("Asia/Shanghai", Review.submitted_at)) >= date_from)
    if date_to is not None:
        period.append(func.date(func.timezone("Asia/Shanghai", Review.submitted_at)) <= date_to)
    reviewed = (select(Review.id).join(SampleItem, SampleItem.id == Review.sample_item_id)
                .join(Case, Case.id == SampleItem.case_id).where(visible, *period))
    item = _items()
    # a finding accepted in a dispute reads "pass" now, its original result kept as "disputed": still a finding
    found = uow.session.scalar(select(func.count()).select_from(Review).join(item, true()).where(
        Review.id.in_(reviewed), (item.c.value["result"].astext == "fail") | item.c.value.has_key("disputed"))) or 0
    disputed, decided, accepted, days = uow.session.execute(select(
        func.count(), func.count(Dispute.decided_at), func.count().filter(Dispute.status.in_(ACCEPTED)),
        func.avg(func.extract("epoch", Dispute.decided_at - Dispute.filed_at) / 86400))
        .where(Dispute.review_id.in_(reviewed))).one()
    return DisputeStats(found, disputed, decided, accepted, disputed / found if found else None,
                        accepted / decided if decided else None, None if days is None else round(float(days), 1))
