"""Supervision sampling (RULES.md §6, §8): plan, preview, a reproducible stratified draw, reviewers assigned.

Four ways to size a draw (issue 12 §1): a rate per stratum; confidence and margin (normal approximation);
the auditor's attribute sampling (confidence, tolerable deviation rate, deviations accepted; exact
hypergeometric on the population drawn from); ISO 2859-1 general inspection level II ("AQL"). The three
whole-sample sizes are computed on the cases the draw is made from (the population less the major/L1 cases
taken in full) and allocated to the strata in proportion, as the confidence/margin size always was.

The order inside a stratum is `md5(seed || ':' || case id)`: it depends only on the seed and the
case's id, so the same plan and seed on the same population give the same cases however the cases
were edited since, and an auditor can replay the draw in psql. Never TABLESAMPLE (not repeatable).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as default
from datetime import date
from decimal import Decimal
from fractions import Fraction
from statistics import NormalDist
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, String, column, false, func, literal, or_, select, values
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLCoreOperations

from db.bulk import copy_rows
from db.models import GRADES, STATES, Case, Department, User
from db.supervision_models import PERIOD_BASES, RISK_RULES, STRATIFIERS, Review, SampleItem, SamplingPlan
from services.errors import InvalidInput, Listing, NotFound, NotPermitted
from services.institution import audit
from services.institution.access import ACTION_ROLES, Actor, load_actor, may
from services.rules import audit_sampling
from services.rules.audit_sampling import SampleSize
from services.rules.calendar import end_of_day, start_of_day
from services.supervision import inclusion
from services.supervision.inclusion import CENSUS_GRADES
from services.unit_of_work import UnitOfWork

__all__ = ["CENSUS_GRADES", "RISK_RULES"]  # re-exported for the page
FILTERS = ("departments", "grades", "categories", "channels", "states")


@dataclass(frozen=True)
class SamplingPlanInput:
    """What the supervisor chose. Exactly one sizing: `rate`; `confidence` + `margin`; `confidence` +
    `tolerable` (+ `accepted`), the auditor's attribute sampling; or `aql` (ISO 2859-1 level II)."""

    period_from: date
    period_to: date
    period_basis: str = "closed"  # the period applies to closed_at ("closed") or received_at ("received")
    departments: tuple[str, ...] = ()  # department codes; empty = every value
    grades: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    states: tuple[str, ...] = ("archived",)
    stratify_by: tuple[str, ...] = ("department", "grade")
    rate: float | None = 0.1
    confidence: float | None = None
    margin: float | None = None
    tolerable: float | None = None  # tolerable deviation rate (RULES.md §8)
    accepted: int = 0  # deviations accepted; attribute sampling only
    aql: bool = False  # ISO 2859-1 general inspection level II
    min_per_stratum: int = 1
    max_per_stratum: int | None = None
    include_all_major: bool = True
    include: tuple[str, ...] = ()  # risk rules always included besides major/L1 (issue 12 §2), of RISK_RULES
    evaluation_tolerable: float | None = None  # a rate/margin/AQL plan's tolerable rate for the evaluation (§3)
    seed: str | None = None

    @property
    def sizing(self) -> str:
        """The sizing method chosen, one of db.supervision_models.SIZING_METHODS (validated to be exactly one)."""
        if self.aql:
            return "aql"
        if self.tolerable is not None:
            return "attribute"
        return "margin" if self.margin is not None else "rate"


@dataclass(frozen=True)
class StratumPreview:
    stratum: str  # the stratum's codes joined by "/", e.g. "operations/general"; "all" when unstratified
    population: int  # cases of the stratum in the population
    all_major: int  # cases taken in full by a rule: major/L1 and the plan's risk rules (issue 12 §2)
    drawn: int  # cases drawn at random from the rest

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(self.stratum.split("/"))

    @property
    def sample(self) -> int:
        return self.all_major + self.drawn


@dataclass(frozen=True)
class SampleRow:
    item_id: int
    case_id: int
    case_no: str
    stratum: str
    reason: str
    reviewer_id: int
    reviewer: str
    reviewed: bool
    included_by: tuple[str, ...] = ()  # the rules that took the case in full; empty when drawn (issue 12 §2)


def require_supervision(session: Session, actor_id: int) -> Actor:
    actor = load_actor(session, actor_id)
    if not may(actor, "supervise"):
        raise NotPermitted("error.sampling.not_permitted")
    return actor


def sample_size(population: int, confidence: float, margin: float) -> int:
    """n0 = z²·p(1−p)/e² with p = 0.5, then the finite-population correction n = n0 / (1 + (n0 − 1)/N)."""
    if population <= 0:
        return 0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    n0 = z * z * 0.25 / (margin * margin)
    n = n0 / (1 + (n0 - 1) / population)
    return min(population, math.ceil(round(n, 9)))  # round first: float noise must not add a case


def _check_codes(values_: Sequence[str], known: Sequence[str], field: str) -> None:
    unknown = sorted(set(values_) - set(known))
    if unknown:
        raise InvalidInput("error.sampling.unknown_values", field=field, values=Listing(unknown))


def _validate(uow: UnitOfWork, plan: SamplingPlanInput) -> None:
    session = uow.session
    if plan.period_to < plan.period_from:
        raise InvalidInput("error.sampling.period_end_before_start", field="period_to")
    if plan.period_basis not in PERIOD_BASES:
        raise InvalidInput("error.sampling.unknown_period_basis", field="period_basis")
    _validate_sizing(plan)
    if plan.min_per_stratum < 0 or (plan.max_per_stratum is not None
                                    and plan.max_per_stratum < max(plan.min_per_stratum, 1)):
        raise InvalidInput("error.sampling.stratum_bounds", field="max_per_stratum")
    if len(set(plan.stratify_by)) != len(plan.stratify_by):
        raise InvalidInput("error.sampling.stratifier_repeated", field="stratify_by")
    _check_codes(plan.stratify_by, STRATIFIERS, "stratify_by")
    _check_codes(plan.states, STATES, "states")
    _check_codes(plan.grades, GRADES, "grades")
    _check_codes(plan.channels, list(uow.policy().channels) if plan.channels else [], "channels")
    known = session.scalars(select(Department.code).where(Department.code.in_(plan.departments))).all()
    _check_codes(plan.departments, known, "departments")
    if plan.seed is not None and not 0 < len(plan.seed.strip()) <= 64:
        raise InvalidInput("error.sampling.bad_seed", field="seed")
    if len(set(plan.include)) != len(plan.include):
        raise InvalidInput("error.sampling.rule_repeated", field="include")
    _check_codes(plan.include, RISK_RULES, "include")


def _validate_sizing(plan: SamplingPlanInput) -> None:
    chosen = [plan.rate is not None, plan.margin is not None, plan.tolerable is not None, plan.aql]
    if sum(chosen) != 1:
        raise InvalidInput("error.sampling.one_sizing_method", field="rate")
    if plan.confidence is not None and plan.sizing not in ("margin", "attribute"):
        raise InvalidInput("error.sampling.one_sizing_method", field="confidence")
    if plan.accepted and plan.sizing != "attribute":
        raise InvalidInput("error.sampling.one_sizing_method", field="accepted")
    if plan.rate is not None and not 0 < plan.rate <= 1:
        raise InvalidInput("error.sampling.rate_range", field="rate")
    if plan.sizing == "margin" and not (plan.confidence and 0 < plan.confidence < 1
                                        and plan.margin and 0 < plan.margin < 1):
        raise InvalidInput("error.sampling.confidence_range", field="confidence")
    if plan.sizing == "attribute":  # the ranges, and a size that exists at all, in the arithmetic's words
        audit_sampling.attribute_sample_size(plan.confidence or 0, plan.tolerable or 0, plan.accepted)
    if plan.evaluation_tolerable is not None:  # an attribute plan is evaluated against its own tolerable rate
        if plan.sizing == "attribute":
            raise InvalidInput("error.sampling.one_sizing_method", field="evaluation_tolerable")
        if not 0 < plan.evaluation_tolerable < 1:
            raise InvalidInput("error.sampling.evaluation_tolerable_range", field="evaluation_tolerable")


def _stratum(plan: SamplingPlanInput) -> ColumnElement[str]:
    columns = {"department": Department.code, "grade": Case.grade, "category": Case.category,
               "channel": Case.channel}
    # A function call even unstratified: PostgreSQL refuses GROUP BY / ORDER BY a bare constant.
    parts: list[SQLCoreOperations[str]] = [columns[name] for name in plan.stratify_by] or [literal("all", String)]
    return func.concat_ws("/", *parts)


def _rules(plan: SamplingPlanInput) -> dict[str, ColumnElement[bool]]:
    return inclusion.conditions(plan.include_all_major, plan.include, plan.period_to)


def _census(plan: SamplingPlanInput) -> ColumnElement[bool]:
    """Taken in full: any of the plan's rules (major/L1 and the risk rules, issue 12 §2)."""
    rules = list(_rules(plan).values())
    return or_(*rules) if rules else false()


def _in_population(stmt: Select[Any], plan: SamplingPlanInput) -> Select[Any]:
    """The plan's filters, on fields a closed case no longer changes (so a replay sees the same cases)."""
    start, end = start_of_day(plan.period_from), end_of_day(plan.period_to)
    when = Case.closed_at if plan.period_basis == "closed" else Case.received_at
    stmt = stmt.join(Department, Department.id == Case.responsible_department_id).where(when >= start, when < end)
    for field, values_ in ((Department.code, plan.departments), (Case.grade, plan.grades),
                           (Case.category, plan.categories), (Case.channel, plan.channels),
                           (Case.state, plan.states)):
        if values_:
            stmt = stmt.where(field.in_(values_))
    return stmt


def _clamp(n: int, available: int, plan: SamplingPlanInput) -> int:
    n = max(n, plan.min_per_stratum)
    if plan.max_per_stratum is not None:
        n = min(n, plan.max_per_stratum)
    return min(n, available)


def planned_size(plan: SamplingPlanInput, drawable: dict[str, int]) -> SampleSize:
    """The sample the plan asks for, its method and formula, over the cases drawn from (issue 12 §1)."""
    total = sum(drawable.values())
    if plan.sizing == "rate":
        rate = Fraction(str(plan.rate))
        n = sum(math.ceil(rate * d) for d in drawable.values())
        return SampleSize(n, "rate", f"n = Σ_s ⌈r·N_s⌉; r = {plan.rate}, N = {total}", total)
    if plan.sizing == "margin":
        confidence, margin = float(plan.confidence or 0), float(plan.margin or 0)
        formula = (f"n₀ = z²·0.25 / e², n = ⌈n₀ / (1 + (n₀ − 1) / N)⌉; c = {confidence}, z = "
                   f"{NormalDist().inv_cdf(0.5 + confidence / 2):.4f}, e = {margin}, N = {total}")
        return SampleSize(sample_size(total, confidence, margin), "confidence_margin", formula, total,
                          confidence=confidence)
    if plan.sizing == "aql":
        return audit_sampling.iso2859_level_ii(total)
    return audit_sampling.attribute_sample_size(float(plan.confidence or 0), float(plan.tolerable or 0),
                                                plan.accepted, total)


def _allocate(plan: SamplingPlanInput, drawable: dict[str, int]) -> dict[str, int]:
    """Cases to draw per stratum: the rate of each stratum, or a total n allocated proportionally."""
    if plan.rate is not None:
        rate = Fraction(str(plan.rate))
        return {s: _clamp(math.ceil(rate * d), d, plan) for s, d in drawable.items()}
    total = sum(drawable.values())
    n = planned_size(plan, drawable).n
    quotas = {s: Fraction(n * d, total) for s, d in drawable.items()} if total else {}
    shares = {s: math.floor(q) for s, q in quotas.items()}
    # Largest remainder: the rounded shares add up to n exactly; ties go to the stratum named first.
    for s in sorted(quotas, key=lambda s: (-(quotas[s] - shares[s]), s))[: n - sum(shares.values())]:
        shares[s] += 1
    return {s: _clamp(shares[s], d, plan) for s, d in drawable.items()}


@dataclass(frozen=True)
class PlanSummary:
    """Before drawing (issue 12 §1): the size asked for with its method and formula, and the strata."""

    size: SampleSize  # size.population: the cases drawn from (the cases taken in full by a rule are not among them)
    strata: list[StratumPreview]
    by_rule: dict[str, int] = default(default_factory=dict)  # cases of the population each rule takes (issue 12 §2)

    @property
    def population(self) -> int:
        return sum(s.population for s in self.strata)

    @property
    def drawn(self) -> int:
        """Cases drawn at random: the size allocated, after each stratum's minimum and maximum."""
        return sum(s.drawn for s in self.strata)


def _summary(session: Session, plan: SamplingPlanInput) -> PlanSummary:
    stratum, census, rules = _stratum(plan), _census(plan), _rules(plan)
    # one pass over the population: each stratum's size, its cases taken in full and each rule's cases
    rows = session.execute(_in_population(
        select(stratum.label("stratum"), func.count(), func.count().filter(census),
               *(func.count().filter(condition) for condition in rules.values())).select_from(Case), plan,
    ).group_by(stratum).order_by(stratum)).all()
    drawable = {s: total - major for s, total, major, *_ in rows}
    allocation = _allocate(plan, drawable)
    counts = [sum(r[3 + i] for r in rows) for i in range(len(rules))]
    return PlanSummary(planned_size(plan, drawable),
                       [StratumPreview(s, total, major, allocation[s]) for s, total, major, *_ in rows],
                       dict(zip(rules, counts, strict=True)))


def _preview(session: Session, plan: SamplingPlanInput) -> list[StratumPreview]:
    return _summary(session, plan).strata


def plan_preview(uow: UnitOfWork, actor_id: int, plan: SamplingPlanInput) -> list[StratumPreview]:
    """Population and sample per stratum, shown before drawing."""
    require_supervision(uow.session, actor_id)
    _validate(uow, plan)
    return _preview(uow.session, plan)


def plan_summary(uow: UnitOfWork, actor_id: int, plan: SamplingPlanInput) -> PlanSummary:
    """The size, its method and formula, and the population and sample per stratum, before drawing."""
    require_supervision(uow.session, actor_id)
    _validate(uow, plan)
    return _summary(uow.session, plan)


@dataclass(frozen=True)
class _Chosen:
    case_id: int
    case_no: str
    department_id: int
    own: tuple[int | None, ...]  # the case's first responder and assignee
    stratum: str
    census: bool
    draw_key: str
    included_by: tuple[str, ...]  # the rules that took it; empty when drawn at random


def _choose(session: Session, plan: SamplingPlanInput, seed: str, strata: list[StratumPreview]) -> list[_Chosen]:
    if not strata:
        return []
    stratum, census, rules = _stratum(plan), _census(plan), _rules(plan)
    draw_key = func.md5(func.concat(literal(seed, String), ":", Case.id))
    ranked = _in_population(select(
        Case.id, Case.case_no, Case.responsible_department_id, Case.first_responder_id, Case.assignee_id,
        stratum.label("stratum"), census.label("census"), draw_key.label("draw_key"),
        *(condition.label(f"rule_{rule}") for rule, condition in rules.items()),
        func.row_number().over(partition_by=(stratum, census), order_by=(draw_key, Case.id)).label("rank"),
    ).select_from(Case), plan).subquery()
    allocation = values(column("stratum", String), column("n", Integer), name="allocation").data(
        [(s.stratum, s.drawn) for s in strata])
    rows = session.execute(select(ranked).join(allocation, allocation.c.stratum == ranked.c.stratum).where(
        ranked.c.census | (ranked.c.rank <= allocation.c.n),
    ).order_by(ranked.c.stratum, ranked.c.census.desc(), ranked.c.rank)).all()
    return [_Chosen(r.id, r.case_no, r.responsible_department_id, (r.first_responder_id, r.assignee_id),
                    r.stratum, r.census, r.draw_key, tuple(rule for rule in rules if r._mapping[f"rule_{rule}"]))
            for r in rows]


def _assign_reviewers(session: Session, chosen: list[_Chosen]) -> list[int]:
    """Least-loaded supervisor first, ties by id; never one of the case's department (RULES.md §6)."""
    pending = (select(SampleItem.reviewer_id, func.count().label("n")).outerjoin(
        Review, Review.sample_item_id == SampleItem.id).where(Review.id.is_(None))
        .group_by(SampleItem.reviewer_id).subquery())
    may_review = User.roles.overlap(sorted(ACTION_ROLES["review"]))
    reviewers = session.execute(select(User.id, User.department_id, func.coalesce(pending.c.n, 0)).outerjoin(
        pending, pending.c.reviewer_id == User.id).where(User.active, may_review)).all()
    load = {user_id: n for user_id, _, n in reviewers}
    assigned = []
    for case in chosen:
        eligible = [user_id for user_id, department_id, _ in reviewers
                    if department_id != case.department_id and user_id not in case.own]
        if not eligible:
            raise InvalidInput("error.sampling.no_reviewer", field="reviewers", case_no=case.case_no)
        reviewer = min(eligible, key=lambda user_id: (load[user_id], user_id))
        load[reviewer] += 1
        assigned.append(reviewer)
    return assigned


def _filters(plan: SamplingPlanInput) -> dict[str, list[str]]:
    return {name: list(getattr(plan, name)) for name in FILTERS}


def draw(uow: UnitOfWork, actor_id: int, plan: SamplingPlanInput) -> int:
    """Store the plan, its seed and the chosen cases with their reviewers; returns the plan's id."""
    actor = require_supervision(uow.session, actor_id)
    _validate(uow, plan)
    seed = plan.seed.strip() if plan.seed else secrets.token_hex(8)
    summary = _summary(uow.session, plan)
    strata = summary.strata
    chosen = _choose(uow.session, plan, seed, strata)
    if not chosen:
        raise InvalidInput("error.sampling.no_case_selected", field="period_from")
    reviewers = _assign_reviewers(uow.session, chosen)
    row = SamplingPlan(
        period_from=plan.period_from, period_to=plan.period_to, period_basis=plan.period_basis,
        population_filter=_filters(plan), stratify_by=list(plan.stratify_by),
        rate=_decimal(plan.rate), confidence=_decimal(plan.confidence), margin=_decimal(plan.margin),
        sizing_method=plan.sizing, tolerable=_decimal(plan.tolerable),
        accepted=plan.accepted if plan.sizing == "attribute" else None,
        min_per_stratum=plan.min_per_stratum, max_per_stratum=plan.max_per_stratum,
        include_all_major=plan.include_all_major, include_rules=list(plan.include),
        evaluation_tolerable=_decimal(plan.evaluation_tolerable),
        strata={s.stratum: {"population": s.population, "included": s.all_major, "drawn": s.drawn} for s in strata},
        seed=seed, population_size=sum(s.population for s in strata), sample_size=len(chosen), created_by_id=actor.id)
    uow.session.add(row)
    uow.flush()
    # thousands of rows the draw computed, no user text: by COPY, not an ORM object each (issue 13 §4: the VALUES
    # insert was a third of a month's draw at 1M cases)
    copy_rows(uow.session, SampleItem.__tablename__,
              ("plan_id", "case_id", "stratum", "draw_key", "reason", "included_by", "reviewer_id"),
              ((row.id, c.case_id, c.stratum, c.draw_key, inclusion.reason(c.included_by), list(c.included_by),
                reviewer) for c, reviewer in zip(chosen, reviewers, strict=True)))
    audit.record(uow.session, actor.id, "sample_drawn", plan_id=row.id, seed=seed,
                 cases=[c.case_id for c in chosen], sizing=summary.size.method, planned=summary.size.n,
                 formula=summary.size.formula, include=list(plan.include))
    uow.flush()
    return row.id


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def stored_plan(uow: UnitOfWork, actor_id: int, plan_id: int) -> SamplingPlanInput:
    """The plan as it was drawn, seed included: pass it to `draw` or `replay` to repeat the draw."""
    require_supervision(uow.session, actor_id)
    row = uow.session.get(SamplingPlan, plan_id)
    if row is None:
        raise NotFound("error.sampling.plan_not_found", field="plan_id", plan_id=plan_id)
    filters = {name: tuple(row.population_filter.get(name, ())) for name in FILTERS}
    return SamplingPlanInput(
        period_from=row.period_from, period_to=row.period_to, period_basis=row.period_basis, **filters,
        stratify_by=tuple(row.stratify_by), rate=_float(row.rate), confidence=_float(row.confidence),
        margin=_float(row.margin), tolerable=_float(row.tolerable), accepted=row.accepted or 0,
        aql=row.sizing_method == "aql", min_per_stratum=row.min_per_stratum, max_per_stratum=row.max_per_stratum,
        include_all_major=row.include_all_major, include=tuple(row.include_rules),
        evaluation_tolerable=_float(row.evaluation_tolerable), seed=row.seed)


def replay(uow: UnitOfWork, actor_id: int, plan_id: int) -> tuple[list[int], list[int]]:
    """For an audit: (case ids stored with the plan, case ids the same plan and seed select today)."""
    stored, again = replay_reasons(uow, actor_id, plan_id)
    return sorted(stored), sorted(again)


def replay_reasons(uow: UnitOfWork, actor_id: int, plan_id: int) -> tuple[dict[int, tuple[str, ...]],
                                                                         dict[int, tuple[str, ...]]]:
    """For an audit: case id → the rules that took it (empty: drawn at random), as stored with the plan and as the
    same plan and seed select them today (issue 12 §2)."""
    plan = stored_plan(uow, actor_id, plan_id)
    again = _choose(uow.session, plan, plan.seed or "", _preview(uow.session, plan))
    stored = uow.session.execute(select(SampleItem.case_id, SampleItem.included_by)
                                 .where(SampleItem.plan_id == plan_id)).tuples().all()
    return ({case_id: tuple(rules) for case_id, rules in stored}, {c.case_id: c.included_by for c in again})


def _sample_row(row: Any) -> SampleRow:
    item_id, case_id, case_no, stratum, reason, reviewer_id, reviewer, reviewed, included_by = row
    return SampleRow(item_id, case_id, case_no, stratum, reason, reviewer_id, reviewer, reviewed, tuple(included_by))


def sample_rows(uow: UnitOfWork, actor_id: int, plan_id: int) -> list[SampleRow]:
    """The plan's sampled cases with their reviewer and whether the review is in."""
    require_supervision(uow.session, actor_id)
    rows = uow.session.execute(
        select(SampleItem.id, SampleItem.case_id, Case.case_no, SampleItem.stratum, SampleItem.reason,
               SampleItem.reviewer_id, User.display_name, Review.id.is_not(None), SampleItem.included_by)
        .join(Case, Case.id == SampleItem.case_id).join(User, User.id == SampleItem.reviewer_id)
        .outerjoin(Review, Review.sample_item_id == SampleItem.id)
        .where(SampleItem.plan_id == plan_id).order_by(SampleItem.stratum, SampleItem.id)).all()
    return [_sample_row(row) for row in rows]


def my_review_items(uow: UnitOfWork, actor_id: int) -> list[SampleRow]:
    """Sampled cases assigned to this reviewer across all plans, the ones still to review first."""
    require_supervision(uow.session, actor_id)
    reviewed = Review.id.is_not(None)
    rows = uow.session.execute(
        select(SampleItem.id, SampleItem.case_id, Case.case_no, SampleItem.stratum, SampleItem.reason,
               SampleItem.reviewer_id, User.display_name, reviewed, SampleItem.included_by)
        .join(Case, Case.id == SampleItem.case_id).join(User, User.id == SampleItem.reviewer_id)
        .outerjoin(Review, Review.sample_item_id == SampleItem.id)
        .where(SampleItem.reviewer_id == actor_id).order_by(reviewed, SampleItem.plan_id.desc(), SampleItem.id)).all()
    return [_sample_row(row) for row in rows]
