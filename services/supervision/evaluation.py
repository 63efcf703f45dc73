"""The evaluation of a reviewed sample (issue 12 §3, RULES.md §8): the deviation rate found, its upper bound at the
plan's confidence and whether the control is effective against the tolerable rate, per stratum and overall.

Decisions (documented here, shown on the sampling page and in the monthly report):
- A reviewed case is a **deviation** when its review's score is below 100, i.e. at least one judged checklist item
  failed (reviews.weighted_score: n.a. items leave the score; a review with every item n.a. has no score and is no
  deviation). The score, not the stored checklist, decides, so a dispute that changes the score changes the count.
- The statistics are of the cases **drawn at random**, over the population they were drawn from (the stratum less
  the cases a rule took in full), as the sample was sized (sampling.py). Cases taken in full by a rule are a census
  of the risky cases, not a random sample: their deviations are counted beside, exactly, with no bound.
- The population N of each stratum is stored with the plan at the draw (migration 0018): the bound is then exact
  (hypergeometric); a plan drawn before has no N and is evaluated as binomial (Clopper–Pearson).
- Overall is the draws of all strata pooled over the pooled population (strata allocated in proportion).
- Only reviewed cases count; while some drawn case waits for review the conclusion is provisional.
- The tolerable rate: an attribute plan's own; a rate, margin or AQL plan's `evaluation_tolerable`, entered with
  the plan before drawing (a criterion fixed before the evidence); without one the rate and its bound are shown
  and the conclusion says "no tolerable rate set".
- The confidence: the plan's (attribute, margin); a rate or AQL plan states none and is evaluated at 95 %.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from db.supervision_models import Review, SampleItem, SamplingPlan
from services.errors import NotFound
from services.rules import audit_sampling
from services.supervision.sampling import require_supervision
from services.unit_of_work import UnitOfWork
from services.words import N_

EVALUATION_CONFIDENCE = 0.95  # for plans sized by rate or ISO 2859-1, which state no confidence
PASS_SCORE = 100  # a review scoring below this found at least one failed checklist item: a deviation
CONCLUSIONS = ("effective", "not_effective", "no_tolerable", "no_draw")
CONCLUSION_NAMES = {"effective": N_("sampling.conclusion.effective"),
                    "not_effective": N_("sampling.conclusion.not_effective"),
                    "no_tolerable": N_("sampling.conclusion.no_tolerable"),
                    "no_draw": N_("sampling.conclusion.no_draw")}
METHOD_NAMES = {audit_sampling.CLOPPER_PEARSON: N_("sampling.method.clopper_pearson"),
                audit_sampling.HYPERGEOMETRIC_BOUND: N_("sampling.method.hypergeometric_exact")}


@dataclass(frozen=True)
class StratumEvaluation:
    """One stratum's (or, with stratum None, the whole plan's) evaluation."""

    stratum: str | None
    population: int | None  # N: the cases drawn from (less those a rule took); None for a plan drawn before 0018
    drawn: int  # cases drawn at random
    reviewed: int  # of them, reviewed: the n of the evaluation
    deviations: int  # of them, deviations: the k
    included: int  # cases taken in full by a rule
    included_reviewed: int
    included_deviations: int
    rate: float | None  # k / n; None before any drawn case is reviewed
    upper_bound: float | None  # at the confidence
    conclusion: str  # one of CONCLUSIONS
    provisional: bool  # some drawn case is still to be reviewed
    method: str | None  # audit_sampling.CLOPPER_PEARSON or HYPERGEOMETRIC_BOUND
    formula: str | None


@dataclass(frozen=True)
class PlanEvaluation:
    plan_id: int
    period_from: date
    period_to: date
    sizing: str
    stratify_by: tuple[str, ...]
    confidence: float
    tolerable: float | None
    strata: list[StratumEvaluation]
    overall: StratumEvaluation


@dataclass(frozen=True)
class DrawnPlan:
    """A drawn plan as listed on the sampling page."""

    plan_id: int
    period_from: date
    period_to: date
    sizing: str
    sample_size: int
    reviewed: int
    created_at: datetime


def _float(value: object) -> float | None:
    return None if value is None else float(str(value))


@dataclass
class _Counts:
    drawn: int = 0
    reviewed: int = 0
    deviations: int = 0
    included: int = 0
    included_reviewed: int = 0
    included_deviations: int = 0


def _evaluate(stratum: str | None, counts: _Counts, population: int | None, confidence: float,
              tolerable: float | None) -> StratumEvaluation:
    n, k = counts.reviewed, counts.deviations
    base = (stratum, population, counts.drawn, n, k, counts.included, counts.included_reviewed,
            counts.included_deviations)
    provisional = n < counts.drawn
    if n == 0:
        return StratumEvaluation(*base, None, None, "no_draw", provisional, None, None)
    # the bound does not depend on the tolerable rate: without one, any rate gives it (and no conclusion is drawn)
    found = audit_sampling.evaluate_sample(n, k, confidence, tolerable or 0.5, population)
    if tolerable is None:
        return StratumEvaluation(*base, found.rate, found.upper_bound, "no_tolerable", provisional, found.method, None)
    return StratumEvaluation(*base, found.rate, found.upper_bound, "effective" if found.effective else "not_effective",
                             provisional, found.method, found.formula)


def _items(session: Session, plan_ids: list[int]) -> list[tuple[int, str, bool, bool, bool]]:
    """(plan, stratum, drawn at random, reviewed, deviation) of each sampled case."""
    deviation = func.coalesce(Review.score < PASS_SCORE, False)
    stmt = (select(SampleItem.plan_id, SampleItem.stratum, SampleItem.reason == "drawn", Review.id.is_not(None),
                   and_(Review.id.is_not(None), deviation))
            .outerjoin(Review, Review.sample_item_id == SampleItem.id).where(SampleItem.plan_id.in_(plan_ids)))
    return list(session.execute(stmt).tuples())


def evaluations(session: Session, plans: list[SamplingPlan]) -> list[PlanEvaluation]:
    """Each plan's evaluation from its stored strata and the reviews in so far (no access check: the caller's)."""
    counts: dict[int, dict[str, _Counts]] = defaultdict(lambda: defaultdict(_Counts))
    for plan_id, stratum, drawn, reviewed, deviation in _items(session, [p.id for p in plans]):
        c = counts[plan_id][stratum]
        if drawn:
            c.drawn += 1
            c.reviewed += reviewed
            c.deviations += deviation
        else:
            c.included += 1
            c.included_reviewed += reviewed
            c.included_deviations += deviation
    return [_plan(plan, counts[plan.id]) for plan in plans]


def _plan(plan: SamplingPlan, counts: dict[str, _Counts]) -> PlanEvaluation:
    confidence = _float(plan.confidence) or EVALUATION_CONFIDENCE
    tolerable = _float(plan.tolerable) if plan.sizing_method == "attribute" else _float(plan.evaluation_tolerable)
    populations = {s: int(v["population"]) - int(v["included"]) for s, v in plan.strata.items()}
    strata = sorted(set(counts) | set(populations))
    rows = [_evaluate(s, counts.get(s, _Counts()), populations.get(s) if plan.strata else None, confidence, tolerable)
            for s in strata]
    total = _Counts(*(sum(getattr(c, name) for c in counts.values()) for name in _Counts.__dataclass_fields__))
    overall = _evaluate(None, total, sum(populations.values()) if plan.strata else None, confidence, tolerable)
    return PlanEvaluation(plan.id, plan.period_from, plan.period_to, plan.sizing_method, tuple(plan.stratify_by),
                          confidence, tolerable, rows, overall)


def evaluate_plan(uow: UnitOfWork, actor_id: int, plan_id: int) -> PlanEvaluation:
    """The evaluation of a drawn plan's sample as far as it is reviewed (issue 12 §3)."""
    require_supervision(uow.session, actor_id)
    plan = uow.session.get(SamplingPlan, plan_id)
    if plan is None:
        raise NotFound("error.sampling.plan_not_found", field="plan_id", plan_id=plan_id)
    return evaluations(uow.session, [plan])[0]


def plans_overlapping(session: Session, first: date, last: date) -> list[SamplingPlan]:
    """Drawn plans whose period meets [first, last], oldest first: the monthly report's (RULES.md §8)."""
    return list(session.scalars(select(SamplingPlan).where(SamplingPlan.period_from <= last,
                                                           SamplingPlan.period_to >= first).order_by(SamplingPlan.id)))


def drawn_plans(uow: UnitOfWork, actor_id: int, limit: int = 50) -> list[DrawnPlan]:
    """The latest drawn plans with how many of their cases are reviewed, newest first."""
    require_supervision(uow.session, actor_id)
    reviewed = (select(SampleItem.plan_id, func.count(Review.id).label("n")).join(
        Review, Review.sample_item_id == SampleItem.id).group_by(SampleItem.plan_id).subquery())
    rows = uow.session.execute(select(
        SamplingPlan.id, SamplingPlan.period_from, SamplingPlan.period_to, SamplingPlan.sizing_method,
        SamplingPlan.sample_size, func.coalesce(reviewed.c.n, 0), SamplingPlan.created_at,
    ).outerjoin(reviewed, reviewed.c.plan_id == SamplingPlan.id).order_by(SamplingPlan.id.desc()).limit(limit))
    return [DrawnPlan(*row) for row in rows]
