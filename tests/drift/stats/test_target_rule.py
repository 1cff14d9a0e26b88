"""The concept-drift decision (summed test or per-bin test, each at half the level): a seeded
known-answer simulation of its false-positive rate and its power against the summed test alone."""

import doctest

import numpy as np
import pytest
from scipy import stats

from drift.stats import target_rule
from drift.stats.concept import conditional_target_drift_counts
from drift.stats.target_rates import bin_chi_square, per_bin_rate_test
from drift.stats.target_rule import PER_BIN, SUMMED, target_rate_drift


def test_its_docstring_example_holds():
    assert doctest.testmod(target_rule).failed == 0


def test_each_test_runs_at_half_the_level_and_the_fired_ones_are_named():
    rng = np.random.default_rng(8)
    n_ref, n_win = np.full(10, 1_000), np.full(10, 500)
    pos_ref, pos_win = rng.binomial(n_ref, 0.3), rng.binomial(n_win, 0.3)

    result = target_rate_drift(n_ref, pos_ref, n_win, pos_win, alpha=0.02)

    half = conditional_target_drift_counts(n_ref, pos_ref, n_win, pos_win, alpha=0.01)
    assert result.summed == half and result.alpha == 0.02
    exact = per_bin_rate_test(n_ref, pos_ref, n_win, pos_win, alpha=0.01, exact=True)
    assert result.per_bin == exact and result.fired == () and not result.drifted


def test_a_move_everywhere_fires_the_summed_test_and_a_move_in_one_bin_the_per_bin_test():
    n_ref, n_win = [2_000] * 10, [1_000] * 10
    everywhere = target_rate_drift(n_ref, [400] * 10, n_win, [250] * 10)  # 0.20 -> 0.25 in every bin
    one = target_rate_drift(n_ref, [400] * 10, n_win, [200] * 9 + [300])  # 0.20 -> 0.30 in bin 9

    # No single bin's 5 points clears Holm, but ten of them add up; one bin's 10 points stand out alone.
    assert everywhere.fired == (SUMMED,) and everywhere.per_bin.flagged_bins == ()
    assert one.fired == (PER_BIN,) and one.per_bin.flagged_bins == (9,)


def test_sparse_bins_get_exact_p_values_that_are_never_smaller_than_needed():
    # 75 rows at 7 % in the window's bin, 16 positives: the chi-square says ~1e-6, Fisher's exact ~1e-4.
    chi = per_bin_rate_test([10_000], [700], [75], [16], alpha=0.01)
    exact = per_bin_rate_test([10_000], [700], [75], [16], alpha=0.01, exact=True)

    assert chi.p_values[0] < 1e-5 < exact.p_values[0] < 1e-3
    assert per_bin_rate_test([10_000], [700], [75], [6], exact=True).p_values[0] > 0.01  # unchanged


def test_the_exact_p_value_is_fishers_exact_test_with_the_smaller_tail_doubled():
    rng = np.random.default_rng(13)
    n_ref, n_win = rng.integers(75, 3_000, 40), rng.integers(75, 1_500, 40)
    pos_ref, pos_win = rng.binomial(n_ref, 0.1), rng.binomial(n_win, rng.uniform(0.05, 0.2, 40))

    result = per_bin_rate_test(n_ref, pos_ref, n_win, pos_win, alpha=0.05, exact=True)

    _, chi = bin_chi_square(n_ref, pos_ref, n_win, pos_win)
    for b in np.flatnonzero(chi <= 0.05):
        table = [[pos_ref[b], n_ref[b] - pos_ref[b]], [pos_win[b], n_win[b] - pos_win[b]]]
        tails = [stats.fisher_exact(table, alternative=side).pvalue for side in ("less", "greater")]
        assert result.p_values[b] == pytest.approx(min(1.0, 2 * min(tails)))
    assert (chi <= 0.05).sum() >= 5  # the comparison covered several bins


# --- known-answer simulation ------------------------------------------------------------------
# 10 score bands (target rate 5 % to 50 %), 1,000 reference and 500 window rows a band, the engine's
# alpha of 1 %. Under no change the combined rule's false alarms stay at most alpha (the union bound:
# each test at alpha / 2); when one band's rate moves by 10 points it is found more often than by the
# summed test alone at the full alpha.

BINS, ALPHA = 10, 0.01
BASE = np.linspace(0.05, 0.5, BINS)
N_REF, N_WIN = np.full(BINS, 1_000), np.full(BINS, 500)


def _rates(seed: int, shift: dict[int, float], reps: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    window_rate = BASE.copy()
    for b, delta in shift.items():
        window_rate[b] += delta
    hits = {"summed alone": 0, "combined": 0}
    for _ in range(reps):
        pos_ref, pos_win = rng.binomial(N_REF, BASE), rng.binomial(N_WIN, window_rate)
        hits["summed alone"] += conditional_target_drift_counts(
            N_REF, pos_ref, N_WIN, pos_win, alpha=ALPHA
        ).drifted
        hits["combined"] += target_rate_drift(N_REF, pos_ref, N_WIN, pos_win, alpha=ALPHA).drifted
    return {name: count / reps for name, count in hits.items()}


def test_the_combined_rule_keeps_false_alarms_at_most_alpha_on_an_unchanged_relation():
    rates = _rates(201, {}, 3_000)
    # 30 false alarms at most expected in 3,000 windows; 3 sd of a binomial(3,000, 1 %) above is 1.5 %.
    # Seeded: combined 0.70 %, summed alone 1.1 %.
    assert rates["combined"] <= ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / 3_000)
    assert rates["combined"] <= rates["summed alone"] + 0.002


@pytest.mark.parametrize("band", [1, 6])
def test_the_combined_rule_finds_a_move_in_one_band_more_often_than_the_summed_test_alone(band):
    rates = _rates(202 + band, {band: 0.10}, 600)
    # Seeded: 0.62 against 0.50 (band 6, rate 0.35 -> 0.45), 0.95 against 0.87 (band 1, 0.10 -> 0.20).
    assert rates["combined"] >= rates["summed alone"] + 0.05
