"""Supervision as an audit (RULES.md §8, issue 12 §1, §3, §4): the worked values and literature examples."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from services.errors import InvalidInput
from services.rules.audit_sampling import (
    ATTRIBUTE_BINOMIAL,
    ATTRIBUTE_HYPERGEOMETRIC,
    CLOPPER_PEARSON,
    COHEN,
    FLEISS,
    HYPERGEOMETRIC_BOUND,
    ISO_2859_LEVEL_II,
    attribute_sample_size,
    clopper_pearson_upper,
    cohen_kappa,
    evaluate_sample,
    fleiss_kappa,
    fleiss_kappa_from_counts,
    iso2859_level_ii,
    kappa,
    landis_koch,
    tolerable_deviations,
)

# --- §1 attribute sample size: RULES.md §8's worked values ---------------------------------------


@pytest.mark.parametrize(("confidence", "tolerable", "expected"), [
    (0.95, 0.05, 59),  # ⌈ln 0.05 / ln 0.95⌉ = ⌈58.40⌉
    (0.95, 0.10, 29),  # ⌈ln 0.05 / ln 0.90⌉ = ⌈28.43⌉
    (0.90, 0.05, 45),  # ⌈ln 0.10 / ln 0.95⌉ = ⌈44.89⌉
])
def test_the_binomial_size_for_an_unknown_population_reproduces_rules_8(confidence, tolerable, expected):
    size = attribute_sample_size(confidence, tolerable)
    assert (size.n, size.method, size.population) == (expected, ATTRIBUTE_BINOMIAL, None)
    assert expected == math.ceil(math.log(1 - confidence) / math.log(1 - tolerable))  # the a = 0 closed form


@pytest.mark.parametrize(("population", "expected"), [(50, 31), (100, 45), (200, 51), (1_000, 57)])
def test_the_hypergeometric_size_for_a_known_population_reproduces_rules_8(population, expected):
    size = attribute_sample_size(0.95, 0.05, 0, population)
    assert (size.n, size.method, size.population) == (expected, ATTRIBUTE_HYPERGEOMETRIC, population)
    assert f"N = {population}" in size.formula and "C(N,n)" in size.formula


def test_the_tolerable_deviations_of_a_finite_population_are_rounded_up():
    """D = ⌈p·N⌉: 5 % of 50 is 2.5 → 3 deviations, which gives the worked 31 (rounding down to 2 gives 39)."""
    assert tolerable_deviations(50, 0.05) == 3
    assert attribute_sample_size(0.95, 0.05, 0, 50).tolerable_deviations == 3
    # P(X = 0 | N = 50, D = 3, n) = C(47, n) / C(50, n): 0.0494 at n = 31, 0.0582 at n = 30
    assert math.comb(47, 31) / math.comb(50, 31) <= 0.05 < math.comb(47, 30) / math.comb(50, 30)
    assert tolerable_deviations(100, 0.05) == 5  # exact decimals: no float noise adds a deviation


@pytest.mark.parametrize(("accepted", "confidence", "expected"), [
    # AICPA Audit Sampling guide, table A-1 (95 %) and A-2 (90 %), tolerable 5 %
    (1, 0.95, 93), (2, 0.95, 124), (1, 0.90, 77),
])
def test_accepting_deviations_enlarges_the_sample_as_the_aicpa_tables_do(accepted, confidence, expected):
    assert attribute_sample_size(confidence, 0.05, accepted).n == expected


def test_a_known_population_never_needs_more_than_the_binomial_nor_more_than_itself():
    for population in (1, 2, 10, 59, 60, 500, 100_000):
        n = attribute_sample_size(0.95, 0.05, 0, population).n
        assert 1 <= n <= min(population, 59)
    assert attribute_sample_size(0.95, 0.05, 0, 0).n == 0


@pytest.mark.parametrize(("args", "field"), [
    ((1.0, 0.05), "confidence"), ((0.0, 0.05), "confidence"), ((0.95, 0.0), "tolerable"),
    ((0.95, 1.2), "tolerable"), ((0.95, 0.05, -1), "accepted"), ((0.95, 0.05, 0, -3), "population"),
    ((0.95, 0.05, 3, 20), "tolerable"),  # D = 1 ≤ 3 accepted: no sample can tell
])
def test_impossible_plans_are_refused_naming_the_field(args, field):
    with pytest.raises(InvalidInput) as refused:
        attribute_sample_size(*args)
    assert refused.value.field == field


# --- §1 ISO 2859-1 general inspection level II ---------------------------------------------------

@pytest.mark.parametrize(("lot", "letter", "n"), [
    (2, "A", 2), (8, "A", 2), (9, "B", 3), (15, "B", 3), (16, "C", 5), (25, "C", 5), (26, "D", 8), (50, "D", 8),
    (51, "E", 13), (90, "E", 13), (91, "F", 20), (150, "F", 20), (151, "G", 32), (280, "G", 32), (281, "H", 50),
    (500, "H", 50), (501, "J", 80), (1_200, "J", 80), (1_201, "K", 125), (3_200, "K", 125), (3_201, "L", 200),
    (10_000, "L", 200), (10_001, "M", 315), (35_000, "M", 315), (35_001, "N", 500), (150_000, "N", 500),
    (150_001, "P", 800), (500_000, "P", 800), (500_001, "Q", 1250), (5_000_000, "Q", 1250),
])
def test_iso_2859_level_ii_code_letters_and_sizes(lot, letter, n):
    size = iso2859_level_ii(lot)
    assert (size.code_letter, size.n, size.method, size.population) == (letter, n, ISO_2859_LEVEL_II, lot)
    assert f"→ {letter} →" in size.formula


def test_the_iso_size_never_exceeds_the_lot():
    assert [iso2859_level_ii(lot).n for lot in (0, 1)] == [0, 1]


# --- §3 evaluation of a sample -------------------------------------------------------------------

def test_two_deviations_in_59_at_95_percent_are_not_effective_against_5_percent():
    """Issue 12's worked check: the one-sided Clopper–Pearson bound, 10.3 %, exceeds the tolerable 5 %."""
    result = evaluate_sample(59, 2, 0.95, 0.05)
    assert (result.method, result.effective) == (CLOPPER_PEARSON, False)
    assert result.rate == pytest.approx(2 / 59)
    assert result.upper_bound == pytest.approx(0.1029, abs=5e-4)


def test_the_clopper_pearson_bound_solves_its_equation():
    for k, n in ((0, 59), (1, 93), (2, 59), (5, 200), (30, 40)):
        upper = clopper_pearson_upper(k, n, 0.95)
        tail = sum(math.comb(n, x) * upper**x * (1 - upper) ** (n - x) for x in range(k + 1))
        assert tail == pytest.approx(0.05, rel=1e-9)
    assert clopper_pearson_upper(7, 7, 0.95) == 1.0


def test_a_sample_of_the_planned_size_without_deviations_is_effective():
    assert evaluate_sample(59, 0, 0.95, 0.05).effective  # p_u = 1 − 0.05^(1/59) = 4.95 %
    assert not evaluate_sample(58, 0, 0.95, 0.05).effective  # 58 is one too few: p_u = 5.03 %
    finite = evaluate_sample(31, 0, 0.95, 0.05, population=50)
    assert (finite.method, finite.effective, finite.upper_deviations) == (HYPERGEOMETRIC_BOUND, True, 2)
    assert not evaluate_sample(30, 0, 0.95, 0.05, population=50).effective


def test_the_finite_bound_is_the_most_deviations_not_excluded():
    result = evaluate_sample(59, 2, 0.95, 0.05, population=1_000)
    assert (result.effective, result.upper_deviations, result.upper_bound) == (False, 100, 0.1)
    d = 100  # P(X ≤ 2 | N = 1000, D, n = 59) > 5 % at D = 100, ≤ 5 % at D = 101
    tail = [sum(math.comb(d_, x) * math.comb(1_000 - d_, 59 - x) for x in range(3)) / math.comb(1_000, 59)
            for d_ in (d, d + 1)]
    assert tail[0] > 0.05 >= tail[1]


@pytest.mark.parametrize(("args", "field"), [
    ((0, 0, 0.95, 0.05), "sample"), ((10, 11, 0.95, 0.05), "deviations"), ((10, 1, 0.95, 1.0), "tolerable"),
    ((60, 1, 0.95, 0.05, 50), "sample"),
])
def test_an_impossible_evaluation_is_refused(args, field):
    with pytest.raises(InvalidInput) as refused:
        evaluate_sample(*args)
    assert refused.value.field == field


# --- §4 agreement --------------------------------------------------------------------------------

def test_cohen_kappa_of_the_wikipedia_grant_proposals_example_is_0_4():
    """Wikipedia, "Cohen's kappa", simple example: 50 proposals, both yes 20, A yes/B no 5, A no/B yes 10,
    both no 15 → p_o = 0.7, p_e = 0.5, κ = 0.4."""
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    result = cohen_kappa(first, second)
    assert (result.method, result.observed, result.expected) == (COHEN, 0.7, 0.5)
    assert result.kappa == pytest.approx(0.4) and result.band == "fair"


@pytest.mark.parametrize(("cells", "expected"), [((45, 15, 25, 15), 0.1304), ((25, 35, 5, 35), 0.2593)])
def test_cohen_kappa_of_the_wikipedia_same_agreement_different_kappa_tables(cells, expected):
    """Wikipedia, "Cohen's kappa", same percentages but different numbers: both 60 % agreement."""
    yes_yes, yes_no, no_yes, no_no = cells
    first = ["yes"] * (yes_yes + yes_no) + ["no"] * (no_yes + no_no)
    second = ["yes"] * yes_yes + ["no"] * yes_no + ["yes"] * no_yes + ["no"] * no_no
    assert cohen_kappa(first, second).kappa == pytest.approx(expected, abs=5e-5)


def test_cohen_kappa_of_the_irr_anxiety_raters_2_and_3_is_slightly_negative():
    """R package irr (Gamer et al.), data set `anxiety`, kappa2(anxiety[, 2:3]) = −0.006289308: band "poor"."""
    rater2 = [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4]
    rater3 = [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2]
    result = cohen_kappa(rater2, rater3)
    assert result.kappa == pytest.approx(-0.006289308, abs=1e-9) and result.band == "poor"


# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories.
WIKIPEDIA_FLEISS = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]

# Fleiss (1971), Psychological Bulletin 76:378–382, table 1: 30 patients, 6 psychiatrists each, diagnoses
# 1 depression, 2 personality disorder, 3 schizophrenia, 4 neurosis, 5 other (R irr's `diagnoses`).
FLEISS_1971 = [[4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
               [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
               [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
               [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
               [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
               [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5]]


def test_fleiss_kappa_of_the_wikipedia_worked_example_is_0_210():
    result = fleiss_kappa_from_counts(WIKIPEDIA_FLEISS)
    assert (result.method, result.items, result.raters) == (FLEISS, 10, 14)
    assert (round(result.observed, 3), round(result.expected, 3), round(result.kappa or 0, 3)) == (0.378, 0.213, 0.210)
    assert result.band == "fair"


def test_fleiss_kappa_of_fleiss_1971_psychiatric_diagnoses_is_0_430():
    """Fleiss (1971) reports κ = .430; R irr's kappam.fleiss(diagnoses) gives 0.4302445."""
    result = fleiss_kappa(FLEISS_1971)
    assert (result.items, result.raters) == (30, 6)
    assert result.kappa == pytest.approx(0.4302445, abs=1e-7) and result.band == "moderate"
    assert kappa(FLEISS_1971) == result  # three or more reviewers: Fleiss


def test_two_reviewers_get_cohen_and_unanimity_on_one_category_leaves_kappa_undefined():
    assert kappa([["yes", "yes"], ["no", "yes"], ["no", "no"]]).method == COHEN
    same = kappa([["yes"] * 3] * 4)
    assert (same.kappa, same.band, same.observed, same.expected) == (None, None, 1.0, 1.0)


@pytest.mark.parametrize(("value", "band"), [
    (-0.3, "poor"), (0.0, "slight"), (0.2, "slight"), (0.2001, "fair"), (0.4, "fair"), (0.41, "moderate"),
    (0.6, "moderate"), (0.61, "substantial"), (0.8, "substantial"), (0.8001, "almost_perfect"), (1.0, "almost_perfect"),
])
def test_landis_koch_bands(value, band):
    assert landis_koch(value) == band


def test_uneven_ratings_are_refused():
    with pytest.raises(InvalidInput):
        cohen_kappa(["yes"], ["yes", "no"])
    with pytest.raises(InvalidInput):
        fleiss_kappa([["a", "b", "c"], ["a", "b"]])
    with pytest.raises(InvalidInput):
        fleiss_kappa([])


def _exact_hypergeometric_size(confidence: str, tolerable: str, accepted: int, population: int) -> int | None:
    """By definition, in fractions and a plain upward search: the reference for the fast search."""
    alpha, d = 1 - Fraction(confidence), math.ceil(Fraction(tolerable) * population)
    for n in range(population + 1):
        tail = Fraction(sum(math.comb(d, x) * math.comb(population - d, n - x) for x in range(min(accepted, n) + 1)),
                        math.comb(population, n))
        if tail <= alpha:
            return n
    return None


@pytest.mark.parametrize("confidence", ["0.9", "0.95", "0.99"])
def test_the_fast_search_agrees_with_the_definition_on_every_small_population(confidence):
    """The log-space shortcut only decides clear cases; near ties go to integers, so nothing may differ."""
    for population in range(1, 121):
        for tolerable in ("0.01", "0.05", "0.1", "0.25"):
            for accepted in (0, 1, 2):
                expected = _exact_hypergeometric_size(confidence, tolerable, accepted, population)
                if math.ceil(Fraction(tolerable) * population) <= accepted:
                    assert expected is None
                    continue
                got = attribute_sample_size(float(confidence), float(tolerable), accepted, population).n
                assert got == expected, (population, tolerable, accepted)


def test_a_tail_exactly_at_alpha_counts_as_enough():
    """N = 20, D = ⌈1⌉ = 1: P(X = 0) = (20 − n)/20 is exactly 5 % at n = 19 — decided in integers, not floats."""
    assert attribute_sample_size(0.95, 0.05, 0, 20).n == 19
    assert evaluate_sample(19, 0, 0.95, 0.05, population=20).effective
    assert attribute_sample_size(0.75, 0.5).n == 2  # binomial: 0.5² is exactly 25 %
