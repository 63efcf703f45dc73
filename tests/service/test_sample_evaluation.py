"""The evaluation of a reviewed sample (issue 12 §3, RULES.md §8): deviations, their upper bound, the conclusion."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from db.supervision_models import SampleItem
from services.errors import NotPermitted
from services.supervision import evaluation, reviews, sampling
from services.supervision.sampling import SamplingPlanInput
from tests.service.conftest import Institution
from tests.service.test_sampling import NOVEMBER, closed_case

PASSED = {c.code: ("pass", "") for c in reviews.CHECKLIST}
FAILED = {**PASSED, "feedback_and_visit": ("fail", "未回访客户")}


def clone(inst: Institution, case_id: int, count: int) -> None:
    """`count` copies of a closed case, straight in SQL: a population of a hundred cases in a second."""
    with inst.engine.begin() as conn:
        columns = [c for c in conn.scalars(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'cases' ORDER BY ordinal_position"))
            if c not in ("id", "case_no", "intake_key")]
        listed = ", ".join(columns)
        conn.execute(text(
            f"INSERT INTO cases (case_no, {listed}) SELECT 'TS-20261105-' || lpad((900000 + g)::text, 6, '0'), "
            f"{listed} FROM cases, generate_series(1, :count) g WHERE id = :id"), {"id": case_id, "count": count})


def review_all(inst: Institution, plan_id: int, deviations: int) -> None:
    """Review every drawn case of the plan; the first `deviations` fail one checklist item."""
    with inst.uow() as uow:
        items = uow.session.execute(select(SampleItem.id, SampleItem.reviewer_id).where(
            SampleItem.plan_id == plan_id).order_by(SampleItem.id)).all()
        for index, (item_id, reviewer_id) in enumerate(items):
            reviews.submit_review(uow, reviewer_id, item_id, FAILED if index < deviations else PASSED)


def evaluate(inst: Institution, plan_id: int) -> evaluation.PlanEvaluation:
    with inst.uow() as uow:
        return evaluation.evaluate_plan(uow, inst.users["supervisor"], plan_id)


@pytest.fixture
def hundred_and_eighteen(branch: Institution) -> Institution:
    """118 closed general November cases of one department: one stratum."""
    ref = closed_case(branch, "A")
    with branch.uow() as uow:
        case_id = uow.session.scalar(text("SELECT id FROM cases WHERE case_no = :no"), {"no": ref.case_no})
    clone(branch, case_id, 117)
    return branch


def draw_half(inst: Institution, tolerable: float | None = 0.05) -> int:
    with inst.uow() as uow:
        return sampling.draw(uow, inst.users["supervisor"], SamplingPlanInput(
            **NOVEMBER, rate=0.5, seed="2026-11", evaluation_tolerable=tolerable))


def test_two_deviations_in_59_say_the_control_is_not_effective_at_5_percent_tolerable(hundred_and_eighteen):
    """N = 118, n = ⌈50 % × 118⌉ = 59, k = 2: a population with ⌈5 % × 118⌉ = 6 deviations shows at most 2 in 59
    with probability ≈ 0.34 > 5 %, so it is not excluded: not effective; the bound is exact (hypergeometric)."""
    plan_id = draw_half(hundred_and_eighteen)
    review_all(hundred_and_eighteen, plan_id, deviations=2)
    shown = evaluate(hundred_and_eighteen, plan_id)
    overall = shown.overall
    assert (overall.population, overall.drawn, overall.reviewed, overall.deviations) == (118, 59, 59, 2)
    assert overall.rate == pytest.approx(2 / 59)
    assert overall.upper_bound > 0.05 and overall.method == "hypergeometric_exact"
    assert (overall.conclusion, overall.provisional) == ("not_effective", False)
    assert (shown.confidence, shown.tolerable) == (0.95, 0.05)  # a rate plan is evaluated at 95 %
    assert [(s.stratum, s.conclusion) for s in shown.strata] == [("operations/general", "not_effective")]


def test_no_deviation_in_59_of_118_says_effective(hundred_and_eighteen):
    """P(X = 0 | N = 118, D = 6, n = 59) = C(112, 59) / C(118, 59) ≈ 0.014 ≤ 5 %: effective."""
    plan_id = draw_half(hundred_and_eighteen)
    review_all(hundred_and_eighteen, plan_id, deviations=0)
    assert evaluate(hundred_and_eighteen, plan_id).overall.conclusion == "effective"


def test_a_plan_drawn_before_its_strata_were_stored_is_evaluated_as_binomial(hundred_and_eighteen):
    """Without N, Clopper–Pearson: 2 in 59 at 95 % → p_u ≈ 10.3 % > 5 % (RULES.md §8's worked example)."""
    plan_id = draw_half(hundred_and_eighteen)
    review_all(hundred_and_eighteen, plan_id, deviations=2)
    with hundred_and_eighteen.engine.begin() as conn:
        conn.execute(text("UPDATE sampling_plans SET strata = '{}' WHERE id = :id"), {"id": plan_id})
    overall = evaluate(hundred_and_eighteen, plan_id).overall
    assert overall.population is None and overall.method == "clopper_pearson"
    assert overall.upper_bound == pytest.approx(0.103, abs=0.001)
    assert overall.conclusion == "not_effective"


def test_without_a_tolerable_rate_the_bound_is_shown_and_no_conclusion_drawn(hundred_and_eighteen):
    plan_id = draw_half(hundred_and_eighteen, tolerable=None)
    review_all(hundred_and_eighteen, plan_id, deviations=2)
    overall = evaluate(hundred_and_eighteen, plan_id).overall
    assert overall.conclusion == "no_tolerable" and overall.upper_bound > 0.05 and overall.formula is None


def test_until_every_drawn_case_is_reviewed_the_conclusion_is_provisional(population_with_majors):
    plan_id, inst = population_with_majors
    shown = evaluate(inst, plan_id)
    assert shown.overall.conclusion == "no_draw" and shown.overall.provisional
    with inst.uow() as uow:
        first = uow.session.execute(select(SampleItem.id, SampleItem.reviewer_id).where(
            SampleItem.plan_id == plan_id, SampleItem.reason == "drawn").order_by(SampleItem.id)).first()
        reviews.submit_review(uow, first.reviewer_id, first.id, FAILED)
        major = uow.session.execute(select(SampleItem.id, SampleItem.reviewer_id).where(
            SampleItem.plan_id == plan_id, SampleItem.reason == "all_major")).first()
        reviews.submit_review(uow, major.reviewer_id, major.id, FAILED)
    overall = evaluate(inst, plan_id).overall
    assert (overall.reviewed, overall.deviations, overall.provisional) == (1, 1, True)
    # the major case, taken in full by its rule, is counted beside the random draw, not in it
    assert (overall.included, overall.included_reviewed, overall.included_deviations) == (2, 1, 1)


@pytest.fixture
def population_with_majors(branch: Institution) -> tuple[int, Institution]:
    for flags in ((), (), (), ("severe",), ("severe",)):
        closed_case(branch, "A", flags)
    with branch.uow() as uow:
        plan_id = sampling.draw(uow, branch.users["supervisor"], SamplingPlanInput(
            **NOVEMBER, rate=None, confidence=0.95, tolerable=0.5, seed="s"))
    return plan_id, branch


def test_only_supervision_may_evaluate(hundred_and_eighteen):
    plan_id = draw_half(hundred_and_eighteen)
    with pytest.raises(NotPermitted), hundred_and_eighteen.uow() as uow:
        evaluation.evaluate_plan(uow, hundred_and_eighteen.users["handler"], plan_id)
