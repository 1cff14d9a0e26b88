"""Per-bin target-rate tests: against SciPy, against the textbook Holm procedure, and a seeded
simulation of their false-positive rate and power against the omnibus sum of chi-squares."""

import doctest

import numpy as np
import pytest
from scipy import stats
from scipy.stats.contingency import chi2_contingency

from drift.stats import target_rates
from drift.stats.concept import conditional_target_drift_counts
from drift.stats.target_rates import bin_chi_square, holm_adjust, per_bin_rate_test


def test_its_docstring_examples_hold():
    assert doctest.testmod(target_rates).failed == 0


def test_each_bins_statistic_is_scipys_two_by_two_chi_square():
    rng = np.random.default_rng(21)
    n_ref, n_win = rng.integers(50, 2_000, 30), rng.integers(50, 2_000, 30)
    pos_ref, pos_win = rng.binomial(n_ref, 0.3), rng.binomial(n_win, rng.uniform(0.2, 0.4, 30))
    stat, p = bin_chi_square(n_ref, pos_ref, n_win, pos_win)
    for b in range(30):
        table = [[pos_ref[b], n_ref[b] - pos_ref[b]], [pos_win[b], n_win[b] - pos_win[b]]]
        want = chi2_contingency(table, correction=False)
        assert stat[b] == pytest.approx(want.statistic) and p[b] == pytest.approx(want.pvalue)


def _holm_textbook(p: np.ndarray, alpha: float) -> np.ndarray:
    """Holm (1979): walk the sorted p-values, reject while p_(i) <= alpha / (m - i), then stop."""
    rejected = np.zeros(p.size, dtype=bool)
    for rank, i in enumerate(np.argsort(p, kind="stable")):
        if p[i] > alpha / (p.size - rank):
            break
        rejected[i] = True
    return rejected


@pytest.mark.parametrize("seed", range(5))
def test_holm_adjusted_p_values_reject_exactly_what_the_textbook_procedure_rejects(seed):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 1, 15), rng.uniform(0, 0.005, 5)])
    for alpha in (0.01, 0.05, 0.1):
        np.testing.assert_array_equal(holm_adjust(p) <= alpha, _holm_textbook(p, alpha))
    assert holm_adjust([]).size == 0 and holm_adjust([np.nan, 0.01]).tolist() == [1.0, 0.02]


def test_fisher_combination_is_scipys():
    rng = np.random.default_rng(5)
    n_ref, n_win = np.full(12, 800), np.full(12, 400)
    pos_ref, pos_win = rng.binomial(n_ref, 0.25), rng.binomial(n_win, 0.27)
    result = per_bin_rate_test(n_ref, pos_ref, n_win, pos_win, method="fisher")
    _, p = bin_chi_square(n_ref, pos_ref, n_win, pos_win)
    assert result.p_value == pytest.approx(stats.combine_pvalues(p, method="fisher").pvalue)
    assert result.bins_tested == 12


def test_sparse_bins_are_not_tested_and_no_testable_bin_is_explained():
    result = per_bin_rate_test([5, 500], [1, 100], [500, 5], [100, 1])
    assert result.bins_tested == 0 and not result.drifted and "10 rows" in result.reason
    assert result.p_values == (None, None)
    with pytest.raises(ValueError, match="method"):
        per_bin_rate_test([10], [1], [10], [1], method="bonferroni")


def test_a_significant_move_smaller_than_the_minimum_effect_is_not_flagged():
    n = [1_000_000, 1_000_000]
    result = per_bin_rate_test(n, [200_000, 200_000], n, [200_000, 205_000], alpha=0.01, min_effect=0.02)
    assert result.p_value < 1e-6 and not result.drifted  # 0.200 -> 0.205: significant, immaterial


# --- known-answer simulation ------------------------------------------------------------------
# 20 bins (target rate 5 % to 60 %), a 20k-row reference and a 10k-row window. Under no change each
# test keeps its false-positive rate at alpha; when P(y | x) moves in one bin only (a segment's
# default rate), the per-bin Holm test finds it about twice as often as the omnibus sum of the
# per-bin chi-squares, whose 19 quiet degrees of freedom dilute the one that moved.

BINS, ALPHA = 20, 0.01
BASE = np.linspace(0.05, 0.6, BINS)
N_REF, N_WIN = np.full(BINS, 1_000), np.full(BINS, 500)


def _rates(rng, shift: dict[int, float], reps: int) -> dict[str, float]:
    hits = {"omnibus": 0, "holm": 0}
    for _ in range(reps):
        p_win = BASE.copy()
        for b, delta in shift.items():
            p_win[b] += delta
        pos_ref, pos_win = rng.binomial(N_REF, BASE), rng.binomial(N_WIN, p_win)
        hits["omnibus"] += conditional_target_drift_counts(
            N_REF, pos_ref, N_WIN, pos_win, alpha=ALPHA
        ).drifted
        hits["holm"] += per_bin_rate_test(N_REF, pos_ref, N_WIN, pos_win, alpha=ALPHA).drifted
    return {name: count / reps for name, count in hits.items()}


def test_both_tests_keep_their_false_positive_rate_on_an_unchanged_relation():
    rates = _rates(np.random.default_rng(101), {}, 2_000)
    # alpha = 1 %: 20 false alarms expected in 2,000 windows; 3 sd above is 2.3 %.
    assert rates["holm"] <= 0.023 and rates["omnibus"] <= 0.023


def test_the_per_bin_test_finds_a_change_in_one_bin_far_more_often_than_the_omnibus_sum():
    rates = _rates(np.random.default_rng(102), {7: 0.10}, 400)
    # Seeded: Holm ~0.69, omnibus ~0.38 (the normal approximation gives 0.6 and 0.3).
    assert rates["holm"] >= 0.6
    assert rates["holm"] >= rates["omnibus"] + 0.2
