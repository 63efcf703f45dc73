"""Supervision sampling (RULES.md §6): sample size, stratification, reproducible draws, reviewer assignment."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from db.models import Case, Department, User
from db.supervision_models import SampleItem, SamplingPlan
from services.casework import cases
from services.errors import InvalidInput, NotPermitted
from services.institution.directory import create_user
from services.supervision import sampling
from services.supervision.sampling import SamplingPlanInput, sample_size
from tests.service.conftest import Institution, at

NOVEMBER = {"period_from": date(2026, 11, 1), "period_to": date(2026, 11, 30)}


def closed_case(inst: Institution, category: str, flags: tuple[str, ...] = (),
                closed: str = "2026-11-05 10:00", archive: bool = True) -> cases.CaseRef:
    """A complaint settled at intake (seed 000 art. 17(1)) and, unless told otherwise, archived."""
    ref = inst.intake(category=category, flags=list(flags), received_at=at(closed) - timedelta(days=3),
                      resolved_at_intake=True, explanation="当场解释规则，客户接受", satisfaction=4)
    if not archive:
        return ref
    with inst.uow() as uow:
        return cases.archive(uow, inst.users["clerk"], ref.case_no, ref.version, at=at(closed))


def branch_population(inst: Institution) -> None:
    """23 closed November cases: operations 12 general + 2 major, marketing 6, reception 3; and 2 outsiders."""
    for category, flags, count in (("A", (), 12), ("A", ("severe",), 2), ("B", (), 6), ("D", (), 3)):
        for _ in range(count):
            closed_case(inst, category, flags)
    closed_case(inst, "A", closed="2026-10-20 10:00")  # closed in October: outside the period
    closed_case(inst, "B", archive=False)  # still awaiting archive: not a closed case


def drawn(inst: Institution, plan_id: int) -> dict[int, tuple[str, str, int]]:
    """case id → (stratum, reason, reviewer id) of a stored draw."""
    with inst.uow() as uow:
        rows = uow.session.execute(select(SampleItem.case_id, SampleItem.stratum, SampleItem.reason,
                                          SampleItem.reviewer_id).where(SampleItem.plan_id == plan_id))
        return {case_id: (stratum, reason, reviewer) for case_id, stratum, reason, reviewer in rows}


def draw(inst: Institution, plan: SamplingPlanInput, who: str = "supervisor") -> int:
    with inst.uow() as uow:
        return sampling.draw(uow, inst.users[who], plan)


def preview(inst: Institution, plan: SamplingPlanInput, who: str = "supervisor") -> dict[str, tuple[int, int, int]]:
    with inst.uow() as uow:
        return {s.stratum: (s.population, s.all_major, s.drawn)
                for s in sampling.plan_preview(uow, inst.users[who], plan)}


def add_supervisor(inst: Institution, username: str, department: str | None) -> int:
    with inst.uow() as uow:
        user_id = create_user(uow, username, username, "kite-harbour9", ["supervisor"], department).id
    inst.users[username] = user_id
    return user_id


@pytest.fixture
def population(branch: Institution) -> Institution:
    branch_population(branch)
    return branch


# --- sample size --------------------------------------------------------------------------------

@pytest.mark.parametrize("population, expected", [
    # z = 1.95996; n0 = z²·0.25/0.05² = 384.146; n = n0 / (1 + (n0 − 1)/N), rounded up.
    (500, 218),     # 384.146 / 1.76629 = 217.49
    (10_000, 370),  # 384.146 / 1.03831 = 369.97
    (21, 20),       # 384.146 / 19.2450 = 19.96
    (1, 1),
    (0, 0),
])
def test_sample_size_at_95_percent_and_5_percent_margin_uses_the_finite_population_correction(population, expected):
    assert sample_size(population, 0.95, 0.05) == expected


def test_a_99_percent_confidence_needs_a_larger_sample():
    # z = 2.57583; n0 = 663.49; n = 663.49 / (1 + 662.49/500) = 663.49 / 2.32498 = 285.37 → 286.
    assert sample_size(500, 0.99, 0.05) == 286


# --- stratification -----------------------------------------------------------------------------

def test_the_preview_shows_each_department_and_grade_stratum_with_its_rate_clamped_by_min_and_max(population):
    plan = SamplingPlanInput(**NOVEMBER, rate=0.3, min_per_stratum=2, max_per_stratum=3)
    assert preview(population, plan) == {
        "marketing/general": (6, 0, 2),   # ⌈6 × 0.3⌉ = 2
        "operations/general": (12, 0, 3),  # ⌈12 × 0.3⌉ = 4, capped at the maximum 3
        "operations/major": (2, 2, 0),     # every major case, nothing left to draw
        "reception/general": (3, 0, 2),    # ⌈3 × 0.3⌉ = 1, raised to the minimum 2
    }


def test_the_draw_takes_exactly_the_previewed_number_from_each_stratum(population):
    plan = SamplingPlanInput(**NOVEMBER, rate=0.3, min_per_stratum=2, max_per_stratum=3, seed="2026-11")
    items = drawn(population, draw(population, plan))
    assert Counter((stratum, reason) for stratum, reason, _ in items.values()) == {
        ("marketing/general", "drawn"): 2, ("operations/general", "drawn"): 3,
        ("operations/major", "all_major"): 2, ("reception/general", "drawn"): 2}
    with population.uow() as uow:
        strata = dict(uow.session.execute(select(Case.id, func.concat(Department.code, "/", Case.grade)).join(
            Department, Department.id == Case.responsible_department_id).where(Case.id.in_(items))).all())
        stored = uow.session.get(SamplingPlan, 1)
        assert (stored.seed, stored.population_size, stored.sample_size) == ("2026-11", 23, 9)
    assert {case_id: stratum for case_id, (stratum, _, _) in items.items()} == strata


def test_a_size_from_confidence_and_margin_is_allocated_to_strata_in_proportion(population):
    # 21 non-major cases: n = 20 (see above); 12:6:3 of 20 = 11.43, 5.71, 2.86 → 11 + 6 + 3 by largest remainder.
    plan = SamplingPlanInput(**NOVEMBER, rate=None, confidence=0.95, margin=0.05)
    assert preview(population, plan) == {"marketing/general": (6, 0, 6), "operations/general": (12, 0, 11),
                                         "operations/major": (2, 2, 0), "reception/general": (3, 0, 3)}


def test_every_major_case_is_included_even_when_grades_are_not_strata(population):
    plan = SamplingPlanInput(**NOVEMBER, stratify_by=("department",), rate=0.1, min_per_stratum=0, seed="x")
    items = drawn(population, draw(population, plan))
    with population.uow() as uow:
        majors = set(uow.session.scalars(select(Case.id).where(Case.grade == "major")))
    assert len(majors) == 2
    assert {case_id for case_id, (_, reason, _) in items.items() if reason == "all_major"} == majors


def test_without_all_major_the_major_cases_are_only_drawn_like_the_others(population):
    plan = SamplingPlanInput(**NOVEMBER, stratify_by=("department",), rate=0.5, include_all_major=False)
    assert preview(population, plan) == {"marketing": (6, 0, 3), "operations": (14, 0, 7), "reception": (3, 0, 2)}


# --- reproducibility ----------------------------------------------------------------------------

def test_the_same_plan_and_seed_draw_the_same_cases_even_after_the_cases_were_edited(population):
    plan = SamplingPlanInput(**NOVEMBER, rate=0.3, seed="2026-11")
    first = drawn(population, draw(population, plan))
    with population.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET content = content || '（补充材料）', satisfaction = 1,"
                          " version = version + 1, updated_at = now()"))
    second = drawn(population, draw(population, plan))
    assert set(second) == set(first)
    with population.uow() as uow:
        stored, today = sampling.replay(uow, population.users["supervisor"], 1)
    assert stored == today == sorted(first)



def test_an_auditor_can_repeat_the_draw_in_sql_from_the_seed(population):
    plan = SamplingPlanInput(**NOVEMBER, rate=0.3, min_per_stratum=2, max_per_stratum=3, seed="2026-11")
    items = drawn(population, draw(population, plan))
    with population.engine.connect() as conn:
        first_three = conn.scalars(text(
            "SELECT c.id FROM cases c JOIN departments d ON d.id = c.responsible_department_id"
            " WHERE d.code = 'operations' AND c.grade = 'general' AND c.state = 'archived'"
            "   AND c.closed_at >= '2026-11-01 00:00+08' AND c.closed_at < '2026-12-01 00:00+08'"
            " ORDER BY md5('2026-11' || ':' || c.id) LIMIT 3")).all()
    assert {i for i, (stratum, _, _) in items.items() if stratum == "operations/general"} == set(first_three)

def test_a_stored_plan_drawn_again_gives_the_same_cases(population):
    plan_id = draw(population, SamplingPlanInput(**NOVEMBER, rate=0.2))  # the service picks the seed
    with population.uow() as uow:
        again = sampling.stored_plan(uow, population.users["supervisor"], plan_id)
    assert again.seed and again.rate == 0.2
    assert set(drawn(population, draw(population, again))) == set(drawn(population, plan_id))


def test_a_different_seed_draws_different_cases(population):
    plan = SamplingPlanInput(**NOVEMBER, stratify_by=(), rate=0.3, min_per_stratum=0)
    one = drawn(population, draw(population, replace(plan, seed="2026-11")))
    two = drawn(population, draw(population, replace(plan, seed="2026-11-bis")))
    assert len(one) == len(two) == 2 + 7  # the 2 major cases, and ⌈21 × 0.3⌉ = 7 drawn
    assert set(one) != set(two)


# --- reviewers ----------------------------------------------------------------------------------

def test_reviewers_share_the_load_and_never_get_a_case_of_their_own_department(population):
    add_supervisor(population, "sup_ops", "operations")
    add_supervisor(population, "sup_mkt", "marketing")
    plan = SamplingPlanInput(**NOVEMBER, rate=0.3, min_per_stratum=2, max_per_stratum=3, seed="2026-11")
    items = drawn(population, draw(population, plan))
    with population.uow() as uow:
        department_of = dict(uow.session.execute(select(User.id, User.department_id)).all())
        case_department = dict(uow.session.execute(select(Case.id, Case.responsible_department_id)).all())
    assert all(department_of[reviewer] != case_department[case_id] for case_id, (_, _, reviewer) in items.items())
    load = Counter(reviewer for _, _, reviewer in items.values())
    assert set(load) == {population.users[u] for u in ("supervisor", "sup_ops", "sup_mkt")}
    assert max(load.values()) - min(load.values()) <= 1


def test_the_draw_is_refused_when_only_supervisors_of_the_cases_department_exist(branch):
    for _ in range(3):
        closed_case(branch, "A")
    with branch.engine.begin() as conn:
        conn.execute(text("UPDATE users SET department_id = (SELECT id FROM departments WHERE code = 'operations')"
                          " WHERE username = 'supervisor'"))
    with pytest.raises(InvalidInput) as refused:
        draw(branch, SamplingPlanInput(**NOVEMBER, rate=0.5))
    assert refused.value.field == "reviewers" and "own department" in refused.value.message("en")
    with branch.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(SamplingPlan)) == 0


# --- refusals -----------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["handler", "head", "clerk"])
def test_only_supervisors_and_admins_may_plan_or_draw(population, who):
    plan = SamplingPlanInput(**NOVEMBER)
    with pytest.raises(NotPermitted):
        preview(population, plan, who)
    with pytest.raises(NotPermitted):
        draw(population, plan, who)
    assert preview(population, plan, "admin")


@pytest.mark.parametrize("change, field", [
    ({"confidence": 0.95, "margin": 0.05}, "rate"),  # a rate and a confidence level at once
    ({"rate": None}, "rate"),
    ({"rate": 1.5}, "rate"),
    ({"period_to": date(2026, 10, 1)}, "period_to"),
    ({"min_per_stratum": 3, "max_per_stratum": 2}, "max_per_stratum"),
    ({"stratify_by": ("department", "colour")}, "stratify_by"),
    ({"departments": ("astrology",)}, "departments"),
])
def test_a_bad_plan_is_refused_with_the_field_named(branch, change, field):
    with pytest.raises(InvalidInput) as refused:
        preview(branch, SamplingPlanInput(**{**NOVEMBER, **change}))
    assert refused.value.field == field


def test_a_plan_that_selects_nothing_is_refused(branch):
    with pytest.raises(InvalidInput, match="selects no case"):
        draw(branch, SamplingPlanInput(**NOVEMBER))


# --- the auditor's sizes (issue 12 §1, RULES.md §8) ----------------------------------------------

AUDITOR = {"rate": None, "confidence": 0.95, "tolerable": 0.05}


def summary(inst: Institution, plan: SamplingPlanInput) -> sampling.PlanSummary:
    with inst.uow() as uow:
        return sampling.plan_summary(uow, inst.users["supervisor"], plan)


def test_an_auditor_sizes_the_draw_exactly_on_the_population_and_strata_share_it(population):
    """21 cases to draw from (23 less 2 major): D = ⌈5 % × 21⌉ = 2; C(19, n) / C(21, n) ≤ 5 % first at n = 16
    (5·4 / 420 = 0.048; at 15, 6·5 / 420 = 0.071). 12:6:3 of 16 = 9.14, 4.57, 2.29 → 9 + 5 + 2."""
    plan = SamplingPlanInput(**NOVEMBER, **AUDITOR)
    shown = summary(population, plan)
    assert (shown.size.n, shown.size.method, shown.size.population) == (16, "attribute_hypergeometric", 21)
    assert (shown.size.tolerable_deviations, shown.population, shown.drawn) == (2, 23, 16)
    assert "N = 21, D = 2" in shown.size.formula
    assert preview(population, plan) == {"marketing/general": (6, 0, 5), "operations/general": (12, 0, 9),
                                         "operations/major": (2, 2, 0), "reception/general": (3, 0, 2)}


def test_the_aql_option_takes_iso_2859_level_ii_of_the_population(population):
    """21 cases → code letter C, 5 cases; 12:6:3 of 5 = 2.86, 1.43, 0.71 → 3 + 1 + 1."""
    plan = SamplingPlanInput(**NOVEMBER, rate=None, aql=True)
    shown = summary(population, plan)
    assert (shown.size.n, shown.size.code_letter, shown.size.method) == (5, "C", "iso2859_1_level_ii")
    assert preview(population, plan) == {"marketing/general": (6, 0, 1), "operations/general": (12, 0, 3),
                                         "operations/major": (2, 2, 0), "reception/general": (3, 0, 1)}


def test_the_summary_of_the_older_methods_names_them_too(population):
    by_rate = summary(population, SamplingPlanInput(**NOVEMBER, rate=0.3, min_per_stratum=0))
    assert (by_rate.size.n, by_rate.size.method) == (2 + 4 + 1, "rate")  # ⌈1.8⌉ + ⌈3.6⌉ + ⌈0.9⌉
    by_margin = summary(population, SamplingPlanInput(**NOVEMBER, rate=None, confidence=0.95, margin=0.05))
    assert (by_margin.size.n, by_margin.size.method) == (20, "confidence_margin")


@pytest.mark.parametrize("sizing", [{**AUDITOR, "accepted": 1}, {"rate": None, "aql": True}])
def test_an_auditors_plan_is_stored_with_its_method_and_replays(population, sizing):
    plan = SamplingPlanInput(**NOVEMBER, **sizing, seed="2026-11")
    plan_id = draw(population, plan)
    with population.uow() as uow:
        row = uow.session.get(SamplingPlan, plan_id)
        stored = {"sizing": row.sizing_method, "tolerable": row.tolerable, "accepted": row.accepted}
        again = sampling.stored_plan(uow, population.users["supervisor"], plan_id)
        replayed = sampling.replay(uow, population.users["supervisor"], plan_id)
    assert again == plan and again.sizing == plan.sizing
    assert stored["sizing"] == plan.sizing
    assert (stored["tolerable"], stored["accepted"]) == (
        (Decimal("0.0500"), 1) if plan.sizing == "attribute" else (None, None))
    assert replayed[0] == replayed[1] and len(replayed[0]) == 2 + summary(population, plan).drawn


@pytest.mark.parametrize("change, field", [
    ({**AUDITOR, "tolerable": 1.5}, "tolerable"),
    ({**AUDITOR, "tolerable": 0.0}, "tolerable"),
    ({**AUDITOR, "confidence": None}, "confidence"),
    ({**AUDITOR, "accepted": -1}, "accepted"),
    ({**AUDITOR, "margin": 0.05}, "rate"),  # two sizing methods at once
    ({"rate": 0.1, "accepted": 2}, "accepted"),  # deviations accepted only size an attribute plan
    ({"rate": None, "aql": True, "confidence": 0.95}, "confidence"),
    ({**AUDITOR, "accepted": 2}, "tolerable"),  # 5 % of 21 is 2 deviations: no sample can exceed 2 accepted
])
def test_a_bad_auditors_plan_is_refused_with_the_field_named_in_both_languages(population, change, field):
    with pytest.raises(InvalidInput) as refused:
        preview(population, SamplingPlanInput(**{**NOVEMBER, **change}))
    assert refused.value.field == field
    assert refused.value.message("zh") != refused.value.message("en")


# --- risk-based inclusion (issue 12 §2, RULES.md §8) --------------------------------------------

RISKY = ("dissatisfied", "regulator", "recomplaint", "re_complained", "extended", "overdue")


def risky_cases(inst: Institution) -> dict[str, int]:
    """Six of operations' general November cases made risky, one way each, the way the case record would show it."""
    with inst.uow() as uow:
        ids = uow.session.scalars(select(Case.id).join(Department, Department.id == Case.responsible_department_id)
                                  .where(Department.code == "operations", Case.grade == "general",
                                         Case.state == "archived").order_by(Case.id)).all()
    risky = dict(zip(RISKY, ids, strict=False))
    with inst.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET satisfaction = 2 WHERE id = :id"), {"id": risky["dissatisfied"]})
        conn.execute(text("UPDATE cases SET source = 'nfra_12378' WHERE id = :id"), {"id": risky["regulator"]})
        conn.execute(text("UPDATE cases SET parent_case_id = :parent WHERE id = :id"),
                     {"id": risky["recomplaint"], "parent": risky["re_complained"]})
        conn.execute(text(
            "INSERT INTO extensions (case_id, milestone, old_due_at, new_due_at, reason, customer_informed_at,"
            " customer_informed_method, requested_by_id) SELECT id, 'resolve', received_at + interval '15 days',"
            " received_at + interval '30 days', '需调取录音', received_at, '电话', first_responder_id FROM cases"
            " WHERE id = :id"), {"id": risky["extended"]})
        conn.execute(text("UPDATE case_deadlines SET status = 'met_late', due_at = met_at - interval '1 hour'"
                          " WHERE case_id = :id AND milestone = 'feedback'"), {"id": risky["overdue"]})
    return risky


def test_a_plan_with_risk_based_inclusion_records_why_each_case_is_in_the_sample(population):
    risky = risky_cases(population)
    plan = SamplingPlanInput(**NOVEMBER, rate=0.1, min_per_stratum=0, seed="2026-11",
                             include=("overdue", "extended", "regulator", "recomplaint", "dissatisfied"))
    shown = summary(population, plan)
    assert shown.by_rule == {"major": 2, "overdue": 1, "extended": 1, "regulator": 1, "recomplaint": 2,
                             "dissatisfied": 1}
    # operations/general: 6 of 12 taken by a rule, ⌈10 % × 6⌉ = 1 drawn from the other 6
    assert preview(population, plan)["operations/general"] == (12, 6, 1)
    plan_id = draw(population, plan)
    with population.uow() as uow:
        rows = {r.case_id: (r.reason, r.included_by)
                for r in sampling.sample_rows(uow, population.users["supervisor"], plan_id)}
        majors = set(uow.session.scalars(select(Case.id).where(Case.grade == "major")))
        stored, today = sampling.replay_reasons(uow, population.users["supervisor"], plan_id)
        again = sampling.stored_plan(uow, population.users["supervisor"], plan_id)
    expected = {"dissatisfied": ("dissatisfied",), "regulator": ("regulator",), "recomplaint": ("recomplaint",),
                "re_complained": ("recomplaint",), "extended": ("extended",), "overdue": ("overdue",)}
    assert {name: rows[risky[name]] for name in expected} == {name: ("rule", rules) for name, rules in expected.items()}
    assert {rows[case_id] for case_id in majors} == {("all_major", ("major",))}
    drawn_at_random = [case_id for case_id, (reason, rules) in rows.items() if reason == "drawn"]
    assert all(not rows[case_id][1] for case_id in drawn_at_random) and len(drawn_at_random) == 1 + 1 + 1
    assert again.include == plan.include
    assert stored == today == {case_id: rules for case_id, (_, rules) in rows.items()}


def test_without_the_toggles_risky_cases_are_only_drawn_like_the_others(population):
    risky_cases(population)
    plan = SamplingPlanInput(**NOVEMBER, rate=0.1, min_per_stratum=0, seed="2026-11")
    assert preview(population, plan)["operations/general"] == (12, 0, 2)
    assert summary(population, plan).by_rule == {"major": 2}


def test_an_unknown_or_repeated_rule_is_refused(population):
    for include, field in ((("astrology",), "include"), (("overdue", "overdue"), "include")):
        with pytest.raises(InvalidInput) as refused:
            preview(population, SamplingPlanInput(**NOVEMBER, include=include))
        assert refused.value.field == field
