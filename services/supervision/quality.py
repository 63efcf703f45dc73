"""Reviewer quality, "grading the graders" (RULES.md §8, issue 12 §6): per reviewer the reviews done, the average
score given, the disputes lost and the agreement with the baseline in calibration sessions.

Only `reviews` count as reviews done (calibration reviews are practice, issue 12 §4). The score given is the
reviewer's own: a dispute's decision may change a review's score later, so the score before its first dispute
is used. Agreement with the baseline: of the checklist items of every calibration case whose baseline another
reviewer wrote, the share this reviewer answered alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from db.calibration_models import CalibrationReview, Dispute
from db.models import User
from db.supervision_models import Review
from services.institution.access import ACTION_ROLES, load_actor, require_role
from services.supervision.disputes import ACCEPTED
from services.supervision.reviews import CHECKLIST
from services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ReviewerQuality:
    reviewer_id: int
    reviewer: str
    reviews: int
    average_score: float | None  # as given, before any dispute
    disputes_lost: int  # accepted or partly accepted against them
    baseline_items: int  # checklist items compared with a baseline another reviewer wrote
    baseline_agreed: int

    @property
    def baseline_agreement(self) -> float | None:
        return self.baseline_agreed / self.baseline_items if self.baseline_items else None


def _given_scores(uow: UnitOfWork) -> dict[int, tuple[int, float | None]]:
    first = (select(Dispute.score_before).where(Dispute.review_id == Review.id)
             .order_by(Dispute.filed_at, Dispute.id).limit(1).scalar_subquery())
    given = func.coalesce(first, Review.score)
    rows = uow.session.execute(select(Review.reviewer_id, func.count(), func.avg(given))
                               .where(Review.submitted_at.is_not(None)).group_by(Review.reviewer_id))
    return {rid: (n, None if avg is None else round(float(avg), 2)) for rid, n, avg in rows}


def _lost(uow: UnitOfWork) -> dict[int, int]:
    rows = uow.session.execute(select(Review.reviewer_id, func.count()).join(Dispute, Dispute.review_id == Review.id)
                               .where(Dispute.status.in_(ACCEPTED)).group_by(Review.reviewer_id))
    return {rid: n for rid, n in rows}


def _baseline(uow: UnitOfWork) -> dict[int, tuple[int, int]]:
    base = aliased(CalibrationReview)
    pairs = uow.session.execute(select(CalibrationReview.reviewer_id, CalibrationReview.checklist, base.checklist)
                                .join(base, and_(base.session_id == CalibrationReview.session_id,
                                                 base.case_id == CalibrationReview.case_id, base.baseline,
                                                 base.reviewer_id != CalibrationReview.reviewer_id)))
    found: dict[int, tuple[int, int]] = {}
    for rid, mine, theirs in pairs:
        items, agreed = found.get(rid, (0, 0))
        same = sum(mine[i.code]["result"] == theirs[i.code]["result"] for i in CHECKLIST)
        found[rid] = (items + len(CHECKLIST), agreed + same)
    return found


def reviewer_quality(uow: UnitOfWork, actor_id: int) -> list[ReviewerQuality]:
    """Every active reviewer and anyone who has reviewed, by name."""
    require_role(load_actor(uow.session, actor_id), "view_reviewer_quality")
    given, lost, baseline = _given_scores(uow), _lost(uow), _baseline(uow)
    may_review = User.roles.overlap(sorted(ACTION_ROLES["review"]))
    people = uow.session.execute(select(User.id, User.display_name).where(
        (User.active & may_review) | User.id.in_([*given, *baseline])).order_by(User.display_name, User.id))
    return [ReviewerQuality(uid, name, given.get(uid, (0, None))[0], given.get(uid, (0, None))[1], lost.get(uid, 0),
                            *baseline.get(uid, (0, 0))) for uid, name in people]
