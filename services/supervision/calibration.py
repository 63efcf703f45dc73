"""Calibration sessions (RULES.md §8, issue 12 §4): do the reviewers judge alike before their scores are trusted?

A supervisor picks closed cases and two or more reviewers; each fills in the review checklist for every case,
blind: until the session is closed nobody sees another reviewer's answers (only who has handed in what). Once
closed, agreement per checklist item is Cohen's kappa (two reviewers) or Fleiss' kappa (more) with the
Landis–Koch band, the disagreements are listed side by side, and the supervisor may name one review of a case as
its baseline. Calibration reviews are kept in their own table (db.calibration_models), so they never count in
KPIs, sample evaluations or the reviewers' workload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from db.calibration_models import CalibrationCase, CalibrationReview, CalibrationReviewer, CalibrationSession
from db.models import Case, User
from services.errors import Conflict, InvalidInput, InvalidTransition, NotFound, NotPermitted, Phrase
from services.institution import audit
from services.institution.access import ACTION_ROLES, Actor, load_actor, may, require_role
from services.rules.audit_sampling import Agreement, kappa
from services.rules.transitions import CLOSED_STATES
from services.supervision.reviews import CHECKLIST, _answers, weighted_score
from services.unit_of_work import UnitOfWork

Checklist = dict[str, dict[str, str]]


@dataclass(frozen=True)
class SessionRow:
    id: int
    title: str
    organiser: str
    closed: bool
    cases: int
    reviewers: int
    submitted: int  # reviews handed in, of cases × reviewers


@dataclass(frozen=True)
class ItemAgreement:
    item: str  # checklist item code, or "overall" for every item of every case together
    agreement: Agreement


@dataclass(frozen=True)
class Disagreement:
    case_no: str
    item: str
    answers: dict[int, tuple[str, str]]  # reviewer id → (result, note), side by side


@dataclass(frozen=True)
class ReviewCell:
    id: int
    case_id: int
    reviewer_id: int
    score: float | None
    baseline: bool
    checklist: Checklist


@dataclass(frozen=True)
class SessionView:
    id: int
    title: str
    organiser_id: int
    closed: bool
    cases: list[tuple[int, str]]  # (case id, case no)
    reviewers: list[tuple[int, str]]  # (user id, name)
    submitted: frozenset[tuple[int, int]]  # (case id, reviewer id) handed in: progress, never answers
    mine: dict[int, Checklist]  # the viewer's own answers by case id
    reviews: list[ReviewCell] = field(default_factory=list)  # everyone's, once closed
    agreement: list[ItemAgreement] = field(default_factory=list)  # once closed
    disagreements: list[Disagreement] = field(default_factory=list)  # once closed


# --- pure: agreement of a closed session ---------------------------------------------------------------

def agreement(cases: Sequence[int], reviewers: Sequence[int],
              answers: Mapping[tuple[int, int], Checklist]) -> list[ItemAgreement]:
    """Per checklist item, rows the cases and columns the reviewers (in `reviewers` order, so Cohen's kappa
    keeps who rated what); then "overall" over every (case, item). Cases not reviewed by all are left out."""
    complete = [c for c in cases if all((c, r) in answers for r in reviewers)]
    if not complete or len(reviewers) < 2:
        return []
    rows = {item.code: [[answers[(c, r)][item.code]["result"] for r in reviewers] for c in complete]
            for item in CHECKLIST}
    result = [ItemAgreement(code, kappa(table)) for code, table in rows.items()]
    every = [row for table in rows.values() for row in table]
    return [*result, ItemAgreement("overall", kappa(every))]


def disagreements(cases: Sequence[tuple[int, str]], reviewers: Sequence[int],
                  answers: Mapping[tuple[int, int], Checklist]) -> list[Disagreement]:
    """Each (case, item) on which the reviewers' results differ, with every reviewer's answer."""
    found = []
    for case_id, case_no in cases:
        for item in CHECKLIST:
            given = {r: (answers[(case_id, r)][item.code]["result"], answers[(case_id, r)][item.code]["note"])
                     for r in reviewers if (case_id, r) in answers}
            if len({result for result, _ in given.values()}) > 1:
                found.append(Disagreement(case_no, item.code, given))
    return found


# --- organising ---------------------------------------------------------------------------------------

def _reviewer(session: Session, user_id: int) -> Actor:
    try:
        reviewer = load_actor(session, user_id)
    except NotPermitted:
        reviewer = None
    if reviewer is None or not may(reviewer, "review"):
        raise InvalidInput("error.calibration.not_a_reviewer", field="reviewers", user_id=user_id)
    return reviewer


def create_session(uow: UnitOfWork, actor_id: int, title: str, case_nos: Sequence[str],
                   reviewer_ids: Sequence[int]) -> int:
    """A supervisor's calibration of closed cases among two or more reviewers; returns its id."""
    actor = load_actor(uow.session, actor_id)
    require_role(actor, "calibrate")
    title = (title or "").strip()
    if not title:
        raise InvalidInput("error.input.missing", field="title", name=Phrase("calibration.name"))
    people = [_reviewer(uow.session, uid) for uid in dict.fromkeys(reviewer_ids)]
    if len(people) < 2:
        raise InvalidInput("error.calibration.two_reviewers", field="reviewers")
    numbers = list(dict.fromkeys(n.strip() for n in case_nos if n and n.strip()))
    if not numbers:
        raise InvalidInput("error.calibration.no_cases", field="cases")
    found = {c.case_no: c for c in uow.session.scalars(select(Case).where(Case.case_no.in_(numbers)))}
    for number in numbers:
        case = found.get(number)
        if case is None or case.state not in CLOSED_STATES:  # only closed cases are reviewed (RULES.md §6)
            raise InvalidInput("error.calibration.case_not_closed", field="cases", case_no=number)
        for person in people:  # reviewers never review their own department's cases (RULES.md §6)
            if person.department_id is not None and person.department_id == case.responsible_department_id:
                raise InvalidInput("error.calibration.own_department", field="reviewers", case_no=number,
                                   reviewer=person.display_name)
    row = CalibrationSession(title=title, created_by_id=actor.id)
    uow.session.add(row)
    uow.flush()
    uow.session.add_all([CalibrationCase(session_id=row.id, case_id=found[n].id) for n in numbers])
    uow.session.add_all([CalibrationReviewer(session_id=row.id, reviewer_id=p.id) for p in people])
    audit.record(uow.session, actor.id, "calibration_created", session_id=row.id)
    uow.flush()
    return row.id


def _session(session: Session, session_id: int, *, lock: bool = False) -> CalibrationSession:
    query = select(CalibrationSession).where(CalibrationSession.id == session_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound("error.calibration.not_found", field="session_id", session_id=session_id)
    return row


def _reviewer_ids(session: Session, session_id: int) -> list[int]:
    return list(session.scalars(select(CalibrationReviewer.reviewer_id).where(
        CalibrationReviewer.session_id == session_id).order_by(CalibrationReviewer.id)))


def _organiser(session: Session, actor_id: int, session_id: int, *, lock: bool = False) -> CalibrationSession:
    actor = load_actor(session, actor_id)
    require_role(actor, "calibrate")
    row = _session(session, session_id, lock=lock)
    if row.created_by_id != actor.id:
        raise NotPermitted("error.calibration.not_organiser")
    return row


def submit_calibration_review(uow: UnitOfWork, actor_id: int, session_id: int, case_id: int,
                              answers: Mapping[str, tuple[str, str]], at: datetime | None = None) -> int:
    """A reviewer's checklist of one case of an open session (the same checklist as a sampled review)."""
    actor = load_actor(uow.session, actor_id)
    require_role(actor, "review")
    row = _session(uow.session, session_id, lock=True)
    if actor.id not in _reviewer_ids(uow.session, session_id):
        raise NotPermitted("error.calibration.not_a_reviewer_here")
    if row.closed_at is not None:
        raise InvalidTransition("error.calibration.closed", field="session_id")
    in_session = uow.session.scalar(select(CalibrationCase.id).where(
        CalibrationCase.session_id == session_id, CalibrationCase.case_id == case_id))
    if in_session is None:
        raise InvalidInput("error.calibration.case_not_in_session", field="case_id")
    done = uow.session.scalar(select(CalibrationReview.id).where(
        CalibrationReview.session_id == session_id, CalibrationReview.case_id == case_id,
        CalibrationReview.reviewer_id == actor.id))
    if done is not None:
        raise Conflict("error.review.already_reviewed")
    checklist = _answers(answers)
    review = CalibrationReview(session_id=session_id, case_id=case_id, reviewer_id=actor.id, checklist=checklist,
                               score=weighted_score({c: a["result"] for c, a in checklist.items()}),
                               submitted_at=uow.at(at))
    uow.session.add(review)
    uow.flush()
    return review.id


def _count(model: type[CalibrationCase] | type[CalibrationReview], session_id: int) -> Select[tuple[int]]:
    return select(func.count()).select_from(model).where(model.session_id == session_id)


def close_session(uow: UnitOfWork, actor_id: int, session_id: int, at: datetime | None = None) -> None:
    """The organiser closes the session once every reviewer has reviewed every case; answers are then shown."""
    row = _organiser(uow.session, actor_id, session_id, lock=True)
    if row.closed_at is not None:
        raise InvalidTransition("error.calibration.closed", field="session_id")
    cases = uow.session.scalar(_count(CalibrationCase, session_id)) or 0
    expected = cases * len(_reviewer_ids(uow.session, session_id))
    handed_in = uow.session.scalar(_count(CalibrationReview, session_id)) or 0
    if handed_in < expected:
        raise InvalidInput("error.calibration.reviews_missing", field="session_id", missing=expected - handed_in)
    row.closed_at, row.closed_by_id = uow.at(at), actor_id
    audit.record(uow.session, actor_id, "calibration_closed", session_id=row.id)
    uow.flush()


def set_baseline(uow: UnitOfWork, actor_id: int, review_id: int) -> None:
    """The organiser names one review of a case the baseline (the reference answer) once the session is closed;
    naming another review of the same case moves it."""
    review = uow.session.get(CalibrationReview, review_id)
    if review is None:
        raise NotFound("error.calibration.review_not_found", field="review_id", review_id=review_id)
    row = _organiser(uow.session, actor_id, review.session_id, lock=True)
    if row.closed_at is None:  # naming it shows the answers: not while the session is blind
        raise InvalidTransition("error.calibration.still_open", field="session_id")
    uow.session.execute(update(CalibrationReview).where(
        CalibrationReview.session_id == review.session_id, CalibrationReview.case_id == review.case_id,
        CalibrationReview.id != review.id).values(baseline=False))
    uow.flush()
    review.baseline = True
    audit.record(uow.session, actor_id, "calibration_baseline", session_id=row.id, review_id=review.id)
    uow.flush()


# --- reading ------------------------------------------------------------------------------------------

def reviewers(uow: UnitOfWork, actor_id: int) -> list[tuple[int, str]]:
    """The active users who may review (supervisors), for the organiser to choose from."""
    require_role(load_actor(uow.session, actor_id), "calibrate")
    may_review = User.roles.overlap(sorted(ACTION_ROLES["review"]))
    return [(uid, name) for uid, name in uow.session.execute(
        select(User.id, User.display_name).where(User.active, may_review).order_by(User.display_name, User.id))]


def sessions(uow: UnitOfWork, actor_id: int) -> list[SessionRow]:
    """The sessions this user organises or reviews in, newest first."""
    actor = load_actor(uow.session, actor_id)
    if not (may(actor, "calibrate") or may(actor, "review")):
        raise NotPermitted("error.access.role_not_allowed", action="calibrate")
    mine = select(CalibrationReviewer.session_id).where(CalibrationReviewer.reviewer_id == actor.id)
    rows = uow.session.execute(
        select(CalibrationSession.id, CalibrationSession.title, User.display_name,
               CalibrationSession.closed_at.is_not(None),
               select(func.count()).where(CalibrationCase.session_id == CalibrationSession.id).scalar_subquery(),
               select(func.count()).where(CalibrationReviewer.session_id == CalibrationSession.id).scalar_subquery(),
               select(func.count()).where(CalibrationReview.session_id == CalibrationSession.id).scalar_subquery())
        .join(User, User.id == CalibrationSession.created_by_id)
        .where(or_(CalibrationSession.created_by_id == actor.id, CalibrationSession.id.in_(mine)))
        .order_by(CalibrationSession.id.desc())).all()
    return [SessionRow(*row) for row in rows]


def session_view(uow: UnitOfWork, actor_id: int, session_id: int) -> SessionView:
    """The session as this user may see it: blind while open (their own answers and everyone's progress only),
    everything with the agreement once closed. Only its organiser and its reviewers see it."""
    actor = load_actor(uow.session, actor_id)
    row = _session(uow.session, session_id)
    reviewer_ids = _reviewer_ids(uow.session, session_id)
    if not ((actor.id == row.created_by_id and may(actor, "calibrate"))
            or (actor.id in reviewer_ids and may(actor, "review"))):
        raise NotPermitted("error.calibration.not_a_reviewer_here")
    names: dict[int, str] = {uid: name for uid, name in uow.session.execute(
        select(User.id, User.display_name).where(User.id.in_(reviewer_ids)))}
    cases = [(cid, no) for cid, no in uow.session.execute(
        select(Case.id, Case.case_no).join(CalibrationCase, CalibrationCase.case_id == Case.id)
        .where(CalibrationCase.session_id == session_id).order_by(CalibrationCase.id))]
    stored = uow.session.scalars(select(CalibrationReview).where(CalibrationReview.session_id == session_id)
                                 .order_by(CalibrationReview.id)).all()
    closed = row.closed_at is not None
    view = SessionView(
        id=row.id, title=row.title, organiser_id=row.created_by_id, closed=closed, cases=cases,
        reviewers=[(r, names[r]) for r in reviewer_ids],
        submitted=frozenset((r.case_id, r.reviewer_id) for r in stored),
        mine={r.case_id: dict(r.checklist) for r in stored if r.reviewer_id == actor.id})
    if not closed:
        return view
    answers = {(r.case_id, r.reviewer_id): dict(r.checklist) for r in stored}
    view.reviews.extend(ReviewCell(r.id, r.case_id, r.reviewer_id, None if r.score is None else float(r.score),
                                   r.baseline, dict(r.checklist)) for r in stored)
    view.agreement.extend(agreement([c for c, _ in cases], reviewer_ids, answers))
    view.disagreements.extend(disagreements(cases, reviewer_ids, answers))
    return view
