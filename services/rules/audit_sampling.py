"""Supervision as an audit (RULES.md §8, issue 12 §1, §3, §4): sample sizes, the evaluation of a sample and
agreement between reviewers. Pure arithmetic: no database, no Streamlit, no clock.

Notation: c the confidence, α = 1 − c, p the tolerable deviation rate, a the deviations accepted, n the sample,
k the deviations found, N the population (lot) when known, X the deviations a random sample shows.

Decisions (each stated where applied):
- The tests and the sample sizes are exact: α is the decimal the user typed as a fraction (0.95 → 19/20); a
  tail is summed in log space and, when it lies within 1e-6 (relative) of α, again in `math.comb` integers,
  so no float noise decides a boundary. Only the reported Clopper–Pearson bound (a real root) stays a float.
- A known population is treated as finite (hypergeometric) whatever its size; without N the binomial is used.
- The tolerable number of deviations in a population of N is D = ⌈p·N⌉: the fewest deviations at which the
  population's rate reaches p. The tail P(X ≤ a) falls as D grows, so this is the least favourable population
  with a rate of at least p (N = 50 at 5 % → D = 3 gives the worked 31; ⌊2.5⌋ = 2 would give 39).
- A control is effective when a population at the tolerable rate would have shown more deviations than were
  found with at least the confidence — the same test that sizes the sample, so a sample of the planned size
  with at most a deviations is always "effective".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from services.errors import InvalidInput

ATTRIBUTE_BINOMIAL = "attribute_binomial"
ATTRIBUTE_HYPERGEOMETRIC = "attribute_hypergeometric"
ISO_2859_LEVEL_II = "iso2859_1_level_ii"
CLOPPER_PEARSON = "clopper_pearson"
HYPERGEOMETRIC_BOUND = "hypergeometric_exact"
COHEN = "cohen_kappa"
FLEISS = "fleiss_kappa"

MAX_SAMPLE = 1_000_000  # beyond any institution's cases; stops a typo (p = 0.0000001) from running for long

# ISO 2859-1:1999 table 1 (general inspection level II) and table 2-A (sample size by code letter):
# (largest lot of the row, code letter, sample size); lots above the last row take Q.
ISO_2859_LEVEL_II_TABLE: tuple[tuple[int, str, int], ...] = (
    (8, "A", 2), (15, "B", 3), (25, "C", 5), (50, "D", 8), (90, "E", 13), (150, "F", 20), (280, "G", 32),
    (500, "H", 50), (1_200, "J", 80), (3_200, "K", 125), (10_000, "L", 200), (35_000, "M", 315),
    (150_000, "N", 500), (500_000, "P", 800),
)
ISO_2859_LARGEST = ("Q", 1250)

# Landis & Koch (1977), Biometrics 33:159–174: upper end of each band, inclusive.
LANDIS_KOCH: tuple[tuple[float, str], ...] = (
    (0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial"),
)


@dataclass(frozen=True)
class SampleSize:
    """How many cases to examine, by which method and formula, for which population (issue 12 §1)."""

    n: int
    method: str
    formula: str  # notation only, no words (the page says the method in the reader's language), with the values
    population: int | None  # N; None when unknown (binomial)
    confidence: float | None = None
    tolerable: float | None = None
    accepted: int | None = None
    tolerable_deviations: int | None = None  # D = ⌈p·N⌉ for a known population
    code_letter: str | None = None  # ISO 2859-1


@dataclass(frozen=True)
class SampleEvaluation:
    """What a reviewed sample says about the control (issue 12 §3)."""

    n: int
    deviations: int
    rate: float  # k / n
    upper_bound: float  # one-sided upper confidence bound of the population's deviation rate
    confidence: float
    tolerable: float
    effective: bool
    method: str
    formula: str
    population: int | None = None
    upper_deviations: int | None = None  # with N: the most deviations in the population not excluded


@dataclass(frozen=True)
class Agreement:
    """Chance-corrected agreement of reviewers over categorical ratings (issue 12 §4)."""

    kappa: float | None  # None when chance agreement is 1 (every rating the same category): κ is undefined
    band: str | None  # Landis–Koch band code, None with kappa
    observed: float  # P̄ (or p_o): agreement observed
    expected: float  # P̄e (or p_e): agreement expected by chance
    items: int
    raters: int
    method: str
    formula: str


# --- inputs --------------------------------------------------------------------------------------

def _fraction(value: float) -> Fraction | None:
    """The decimal as typed (0.95 is 19/20, not the float's binary neighbour), if strictly inside (0, 1)."""
    try:
        exact = Fraction(str(value))
    except (ValueError, TypeError):
        return None
    return exact if 0 < exact < 1 else None


def _confidence(value: float) -> Fraction:
    exact = _fraction(value)
    if exact is None:
        raise InvalidInput("error.audit_sampling.confidence_range", field="confidence")
    return exact


def _tolerable(value: float) -> Fraction:
    exact = _fraction(value)
    if exact is None:
        raise InvalidInput("error.audit_sampling.tolerable_range", field="tolerable")
    return exact


def _whole(value: object, minimum: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _population(value: int) -> int:
    if not _whole(value):
        raise InvalidInput("error.audit_sampling.population_negative", field="population")
    return value


def _percent(value: Fraction | float) -> str:
    return f"{float(value):g}"


# --- exact tails ---------------------------------------------------------------------------------

_CLEAR = 1e-6  # in log space: far beyond lgamma's rounding, so only a near tie needs the exact integers


def _log_sum(logs: list[float]) -> float:
    top = max(logs)
    return top + math.log(sum(math.exp(value - top) for value in logs))


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _log_binomial_cdf(k: int, n: int, p: float) -> float:
    """log P(X ≤ k), X ~ Binomial(n, p), 0 < p < 1, summed in log space (log-sum-exp)."""
    return _log_sum([_log_comb(n, x) + x * math.log(p) + (n - x) * math.log1p(-p) for x in range(k + 1)])


def _binomial_tail_at_most(k: int, n: int, p: Fraction, alpha: Fraction) -> bool:
    """P(X ≤ k) ≤ α for X ~ Binomial(n, p): decided in floats when clear, else in integers
    Σ C(n,x)·u^x·(v−u)^(n−x) ≤ α·v^n with p = u/v."""
    rough = _log_binomial_cdf(min(k, n), n, float(p)) - math.log(alpha)
    if abs(rough) > _CLEAR:
        return rough < 0
    u, v = p.numerator, p.denominator
    tail = sum(math.comb(n, x) * u**x * (v - u) ** (n - x) for x in range(min(k, n) + 1))
    return bool(tail * alpha.denominator <= alpha.numerator * v**n)  # int ** int is typed Any


def _hypergeometric_tail_at_most(k: int, n: int, big_n: int, d: int, alpha: Fraction) -> bool:
    """P(X ≤ k) ≤ α for X ~ Hypergeometric(N, D, n): decided in floats when clear, else in integers
    Σ C(D,x)·C(N−D,n−x) ≤ α·C(N,n). The distribution is symmetric in n and D, so the smaller one is drawn."""
    n, d = min(n, d), max(n, d)
    top = min(k, n)
    logs = [_log_comb(d, x) + _log_comb(big_n - d, n - x) - _log_comb(big_n, n)
            for x in range(top + 1) if n - x <= big_n - d]
    if not logs:  # no sample can show so few deviations: P(X ≤ k) = 0
        return True
    rough = _log_sum(logs) - math.log(alpha)
    if abs(rough) > _CLEAR:
        return rough < 0
    tail = sum(math.comb(d, x) * math.comb(big_n - d, n - x) for x in range(top + 1))
    return tail * alpha.denominator <= alpha.numerator * math.comb(big_n, n)


def _smallest(low: int, high: int | None, check: Callable[[int], bool]) -> int:
    """The smallest m in [low, high] with check(m), check monotone (false, then true); high=None doubles
    upwards until check holds."""
    if high is None:
        high = max(low, 1)
        while not check(high):
            if high > MAX_SAMPLE:
                raise InvalidInput("error.audit_sampling.size_too_large", field="tolerable", limit=MAX_SAMPLE)
            low, high = high + 1, high * 2
    while low < high:
        middle = (low + high) // 2
        if check(middle):
            high = middle
        else:
            low = middle + 1
    return low


# --- §1 sample size ------------------------------------------------------------------------------

def tolerable_deviations(population: int, tolerable: float) -> int:
    """D = ⌈p·N⌉, exactly: the fewest deviations at which a population of N reaches the tolerable rate."""
    return math.ceil(_tolerable(tolerable) * _population(population))


def attribute_sample_size(confidence: float, tolerable: float, accepted: int = 0,
                          population: int | None = None) -> SampleSize:
    """Smallest n such that a population at the tolerable rate shows more than `accepted` deviations with at
    least the confidence (RULES.md §8): min{n : P(X ≤ a) ≤ 1 − c}.

    Without N, X ~ Binomial(n, p); with N, X ~ Hypergeometric(N, D = ⌈p·N⌉, n) and n ≤ N. Worked values
    (c = 95 %, a = 0): p = 5 % → 59; N = 50 → 31, 100 → 45, 200 → 51, 1,000 → 57; p = 10 % → 29; c = 90 % → 45.
    """
    c, p, a = _confidence(confidence), _tolerable(tolerable), accepted
    if not _whole(a):
        raise InvalidInput("error.audit_sampling.accepted_negative", field="accepted")
    alpha = 1 - c
    values = f"c = {_percent(c)}, p = {_percent(p)}, a = {a}"
    if population is None:
        n = _smallest(a + 1, None, lambda m: _binomial_tail_at_most(a, m, p, alpha))
        formula = f"n = min{{n : Σ_{{x=0..a}} C(n,x)·p^x·(1−p)^(n−x) ≤ 1 − c}}; {values}"
        return SampleSize(n, ATTRIBUTE_BINOMIAL, formula, None, confidence, tolerable, a)
    big_n = _population(population)
    d = math.ceil(p * big_n)
    formula = (f"n = min{{n ≤ N : Σ_{{x=0..a}} C(D,x)·C(N−D,n−x) / C(N,n) ≤ 1 − c}}, D = ⌈p·N⌉; "
               f"N = {big_n}, D = {d}, {values}")
    if big_n == 0:
        return SampleSize(0, ATTRIBUTE_HYPERGEOMETRIC, formula, 0, confidence, tolerable, a, 0)
    if d <= a:  # even a census of a population at the tolerable rate shows no more than `a` deviations
        raise InvalidInput("error.audit_sampling.tolerable_below_accepted", field="tolerable",
                           deviations=d, population=big_n, accepted=a)
    n = _smallest(a + 1, big_n, lambda m: _hypergeometric_tail_at_most(a, m, big_n, d, alpha))
    return SampleSize(n, ATTRIBUTE_HYPERGEOMETRIC, formula, big_n, confidence, tolerable, a, d)


def iso2859_level_ii(lot: int) -> SampleSize:
    """ISO 2859-1 general inspection level II: the lot's code letter and its sample size, at most the lot
    (a lot of 1 takes letter A like 2–8; ISO inspects 100 % when the size reaches the lot)."""
    lot = _population(lot)
    letter, size = next(((letter, size) for largest, letter, size in ISO_2859_LEVEL_II_TABLE if lot <= largest),
                        ISO_2859_LARGEST)
    n = min(size, lot)
    formula = f"ISO 2859-1 II: N = {lot} → {letter} → n = min({size}, N) = {n}"
    return SampleSize(n, ISO_2859_LEVEL_II, formula, lot, code_letter=letter)


# --- §3 evaluation -------------------------------------------------------------------------------

def clopper_pearson_upper(deviations: int, n: int, confidence: float) -> float:
    """One-sided Clopper–Pearson upper bound: the p_u with P(X ≤ k | n, p_u) = 1 − c (1 when k = n).
    Closed form for k = 0: 1 − (1 − c)^(1/n); otherwise bisection to double precision."""
    alpha = float(1 - _confidence(confidence))
    if deviations >= n:
        return 1.0
    if deviations == 0:
        return 1 - float(alpha ** (1 / n))
    low, high, target = 0.0, 1.0, math.log(alpha)
    for _ in range(200):  # the CDF falls as p rises
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if _log_binomial_cdf(deviations, n, middle) > target:
            low = middle
        else:
            high = middle
    return high


def _hypergeometric_upper(k: int, n: int, big_n: int, alpha: Fraction) -> int:
    """The largest D whose P(X ≤ k | N, D, n) exceeds α: the most deviations the population may hold at
    the confidence. Possible D run from k to N − (n − k); the tail falls as D grows."""
    most = big_n - (n - k)
    if not _hypergeometric_tail_at_most(k, n, big_n, most, alpha):
        return most
    return _smallest(k, most, lambda d: _hypergeometric_tail_at_most(k, n, big_n, d, alpha)) - 1


def evaluate_sample(n: int, deviations: int, confidence: float, tolerable: float,
                    population: int | None = None) -> SampleEvaluation:
    """The deviation rate found, its upper bound at the confidence, and whether the control is effective.

    Effective ⟺ P(X ≤ k | tolerable population) ≤ 1 − c (exact). Without N that is Clopper–Pearson's
    p_u ≤ p; with N it is D_u < ⌈p·N⌉, i.e. D_u / N < p (a bound exactly at p means a population at the
    tolerable rate is not excluded). Worked: 2 deviations in 59 at 95 % → p_u ≈ 10.3 % > 5 %: not effective.
    """
    if not _whole(n, minimum=1):
        raise InvalidInput("error.audit_sampling.sample_not_positive", field="sample")
    if not _whole(deviations):
        raise InvalidInput("error.audit_sampling.deviations_negative", field="deviations")
    k = deviations
    if k > n:
        raise InvalidInput("error.audit_sampling.deviations_above_sample", field="deviations", deviations=k, n=n)
    c, p = _confidence(confidence), _tolerable(tolerable)
    alpha = 1 - c
    values = f"n = {n}, k = {k}, c = {_percent(c)}, p = {_percent(p)}"
    if population is None:
        upper = clopper_pearson_upper(k, n, confidence)
        effective = _binomial_tail_at_most(k, n, p, alpha)
        formula = (f"Σ_{{x=0..k}} C(n,x)·p_u^x·(1−p_u)^(n−x) = 1 − c; p_u ≤ p; "
                   f"{values}, p_u = {upper:.4f}")
        return SampleEvaluation(n, k, k / n, upper, confidence, tolerable, effective, CLOPPER_PEARSON, formula)
    big_n = _population(population)
    if n > big_n:
        raise InvalidInput("error.audit_sampling.sample_above_population", field="sample", n=n, population=big_n)
    d_upper = _hypergeometric_upper(k, n, big_n, alpha)
    effective = _hypergeometric_tail_at_most(k, n, big_n, math.ceil(p * big_n), alpha)
    formula = (f"D_u = max{{D : Σ_{{x=0..k}} C(D,x)·C(N−D,n−x) / C(N,n) > 1 − c}}, p_u = D_u / N; "
               f"D_u < ⌈p·N⌉; N = {big_n}, {values}, D_u = {d_upper}")
    return SampleEvaluation(n, k, k / n, d_upper / big_n, confidence, tolerable, effective, HYPERGEOMETRIC_BOUND,
                            formula, population=big_n, upper_deviations=d_upper)


# --- §4 agreement --------------------------------------------------------------------------------

def landis_koch(kappa: float | None) -> str | None:
    """Landis & Koch's band: κ < 0 "poor" (their own name for below zero), ≤ 0.20 slight, ≤ 0.40 fair,
    ≤ 0.60 moderate, ≤ 0.80 substantial, above almost perfect. The unrounded κ is compared with the
    inclusive upper ends, so 0.205 is "fair" (the table's 0.21–0.40 written to two decimals)."""
    if kappa is None:
        return None
    if kappa < 0:
        return "poor"
    return next((band for upper, band in LANDIS_KOCH if kappa <= upper), "almost_perfect")


def _kappa(observed: Fraction, expected: Fraction) -> float | None:
    return None if expected == 1 else float((observed - expected) / (1 - expected))


def cohen_kappa(first: Sequence[Hashable], second: Sequence[Hashable]) -> Agreement:
    """Cohen (1960): two raters, κ = (p_o − p_e) / (1 − p_e) with p_o the share of items rated alike and
    p_e = Σ_j p_1j·p_2j from each rater's own category shares."""
    if len(first) != len(second):
        raise InvalidInput("error.audit_sampling.ratings_uneven", field="ratings")
    items = len(first)
    if items == 0:
        raise InvalidInput("error.audit_sampling.no_ratings", field="ratings")
    observed = Fraction(sum(a == b for a, b in zip(first, second, strict=True)), items)
    one, two = Counter(first), Counter(second)
    expected = Fraction(sum(one[j] * two[j] for j in one), items * items)
    kappa = _kappa(observed, expected)
    formula = (f"κ = (p_o − p_e) / (1 − p_e), p_e = Σ_j p_1j·p_2j; n = {items}, "
               f"p_o = {float(observed):.4f}, p_e = {float(expected):.4f}")
    return Agreement(kappa, landis_koch(kappa), float(observed), float(expected), items, 2, COHEN, formula)


def fleiss_kappa_from_counts(table: Sequence[Sequence[int]]) -> Agreement:
    """Fleiss (1971): rows are items, columns categories, n_ij the raters putting item i in category j; every
    row sums to the same m ≥ 2. P_i = (Σ_j n_ij² − m) / (m(m − 1)), P̄ their mean, p_j = Σ_i n_ij / (N·m),
    P̄e = Σ_j p_j², κ = (P̄ − P̄e) / (1 − P̄e)."""
    if not table or any(not row for row in table):
        raise InvalidInput("error.audit_sampling.no_ratings", field="ratings")
    raters = sum(table[0])
    if raters < 2 or any(sum(row) != raters or min(row) < 0 for row in table):
        raise InvalidInput("error.audit_sampling.ratings_uneven", field="ratings")
    if len({len(row) for row in table}) != 1:
        raise InvalidInput("error.audit_sampling.ratings_uneven", field="ratings")
    items = len(table)
    observed = sum((Fraction(sum(x * x for x in row) - raters, raters * (raters - 1)) for row in table),
                   Fraction(0)) / items
    shares = [Fraction(sum(column), items * raters) for column in zip(*table, strict=True)]
    expected = sum((share * share for share in shares), Fraction(0))
    kappa = _kappa(observed, expected)
    formula = (f"κ = (P̄ − P̄e) / (1 − P̄e), P_i = (Σ_j n_ij² − m) / (m(m−1)), P̄e = Σ_j p_j²; N = {items}, "
               f"m = {raters}, P̄ = {float(observed):.4f}, P̄e = {float(expected):.4f}")
    return Agreement(kappa, landis_koch(kappa), float(observed), float(expected), items, raters, FLEISS, formula)


def fleiss_kappa(ratings: Sequence[Sequence[Hashable]]) -> Agreement:
    """Fleiss' kappa from each item's ratings (one category per rater; raters need not be the same people)."""
    categories = list(dict.fromkeys(rating for item in ratings for rating in item))
    counts = [Counter(item) for item in ratings]
    return fleiss_kappa_from_counts([[count[j] for j in categories] for count in counts])


def kappa(ratings: Sequence[Sequence[Hashable]]) -> Agreement:
    """Issue 12 §4's choice: rows are items, columns the reviewers; Cohen's kappa for two reviewers (the
    columns keep who rated what), Fleiss' kappa for three or more."""
    if ratings and all(len(item) == 2 for item in ratings):
        return cohen_kappa([item[0] for item in ratings], [item[1] for item in ratings])
    return fleiss_kappa(ratings)
