"""Univariate drift tests and the binning they rest on, checked against SciPy and textbook values."""

import doctest

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from drift.stats import binning, univariate
from drift.stats.univariate import (
    categorical_drift,
    chi_square,
    choose_method,
    hellinger,
    jensen_shannon,
    ks_binned,
    ks_samples,
    numeric_drift_binned,
    numeric_drift_samples,
    psi,
    unseen_share,
    wasserstein_binned,
    wasserstein_samples,
)


@pytest.mark.parametrize("module", [binning, univariate])
def test_its_docstring_examples_hold(module):
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


# --- binning -------------------------------------------------------------------------------------


def test_values_outside_the_reference_range_land_in_the_overflow_bins():
    edges = binning.quantile_edges(np.arange(1.0, 101.0), n_bins=10)
    counts = binning.bin_counts([0.5, 1.0, 100.0, 100.5, np.nan], edges)
    assert counts.size == edges.size + 1
    assert counts[0] == 1 and counts[-1] == 1  # 0.5 below the min, 100.5 above the max
    assert counts[1] == 1 and counts[-2] == 1  # the min and the max are inner values
    assert counts.sum() == 4  # NaN is not binned


def test_quantile_bins_hold_the_documented_reference_shares(rng):
    ref = rng.normal(size=10_000)
    counts = binning.bin_counts(ref, binning.quantile_edges(ref, 20))
    assert counts[0] == counts[-1] == 0
    expected = np.diff(binning.quantile_levels(20)) * ref.size
    assert np.all(np.abs(counts[1:-1] - expected) <= 1)
    assert counts[1] == 50 and counts[4] == 643  # 0.5 % in the outermost bin, 90 % / 14 in the middle


def test_a_point_mass_gets_a_bin_of_its_own():
    ref = np.r_[np.zeros(600), np.arange(1.0, 401.0)]
    edges = binning.quantile_edges(ref, 10)
    counts = binning.bin_counts(ref, edges)
    assert 600 in counts  # every zero in one bin, nothing else with them


def test_a_constant_reference_gives_one_inner_bin():
    edges = binning.quantile_edges([3.0] * 50)
    assert binning.bin_counts([2.0, 3.0, 3.0, 4.0], edges).tolist() == [1, 2, 1]


def test_an_empty_reference_gives_a_single_bin():
    edges = binning.quantile_edges([np.nan, np.nan])
    assert edges.size == 0
    assert binning.bin_counts([1.0, 2.0], edges).tolist() == [2]


def test_category_counts_put_unknown_values_last_and_skip_missing():
    values = np.array(["b", "a", None, "zz", np.nan, "b", ""], dtype=object)
    assert binning.category_counts(values, ["a", "b", "c"]).tolist() == [1, 2, 0, 1]


# --- numeric tests against SciPy ---------------------------------------------------------------


def test_ks_on_samples_matches_scipy(rng):
    a, b = rng.normal(size=700), rng.normal(0.2, 1.1, size=400)
    ours, ref = ks_samples(a, b), stats.ks_2samp(a, b)
    assert ours.statistic == pytest.approx(ref.statistic)
    assert ours.p_value == pytest.approx(ref.pvalue)


def test_binned_ks_equals_scipy_asymptotic_ks_when_every_value_has_its_own_bin(rng):
    a = rng.poisson(4.0, size=3_000).clip(0, 9).astype(float)
    b = rng.poisson(4.3, size=2_000).clip(0, 9).astype(float)
    edges = np.arange(0.0, 11.0)  # bins [0,1), [1,2), ..., [9,10]: one integer each
    got = ks_binned(binning.bin_counts(a, edges), binning.bin_counts(b, edges))
    want = stats.ks_2samp(a, b, method="asymp")
    assert got.statistic == pytest.approx(want.statistic)
    assert got.p_value == pytest.approx(want.pvalue)


def test_binned_ks_is_a_conservative_approximation_of_exact_ks(rng):
    a, b = rng.normal(size=5_000), rng.normal(0.1, 1.0, size=5_000)
    edges = binning.quantile_edges(a, 20)
    got = ks_binned(binning.bin_counts(a, edges), binning.bin_counts(b, edges))
    exact = stats.ks_2samp(a, b)
    assert got.statistic <= exact.statistic + 1e-12
    assert got.statistic == pytest.approx(exact.statistic, abs=0.01)


def test_wasserstein_on_samples_is_scipys_divided_by_the_reference_std(rng):
    a, b = rng.normal(10, 3, size=800), rng.normal(11, 3, size=500)
    assert wasserstein_samples(a, b) == pytest.approx(stats.wasserstein_distance(a, b) / a.std())
    assert wasserstein_samples(a, b, normalise=False) == pytest.approx(stats.wasserstein_distance(a, b))


def test_binned_wasserstein_is_the_exact_area_between_piecewise_linear_cdfs(rng):
    edges = np.array([0.0, 1.0, 3.0, 4.0, 7.0])
    p, q = np.array([0, 5, 1, 7, 2, 0]), np.array([1, 1, 6, 2, 3, 2])
    low, high = -2.0, 9.0
    # Oracle: both CDFs interpolated linearly over the same breakpoints, integrated on a fine grid.
    knots = np.r_[low, edges, high]
    grid = np.linspace(low, high, 200_001)
    cdf_p = np.interp(grid, knots, np.r_[0, np.cumsum(p) / p.sum()])
    cdf_q = np.interp(grid, knots, np.r_[0, np.cumsum(q) / q.sum()])
    oracle = np.trapezoid(np.abs(cdf_p - cdf_q), grid)
    got = wasserstein_binned(p, q, edges, low=low, high=high, reference_std=1.0)
    assert got == pytest.approx(oracle, rel=1e-6)


def test_binned_wasserstein_approaches_scipy_on_fine_bins(rng):
    a, b = rng.normal(size=20_000), rng.normal(0.3, 1.0, size=20_000)
    edges = binning.quantile_edges(a, 100)
    got = wasserstein_binned(
        binning.bin_counts(a, edges),
        binning.bin_counts(b, edges),
        edges,
        low=min(a.min(), b.min()),
        high=max(a.max(), b.max()),
        reference_std=a.std(),
    )
    assert got == pytest.approx(stats.wasserstein_distance(a, b) / a.std(), rel=0.03)


def test_one_extreme_value_cannot_dominate_the_binned_wasserstein(rng):
    a = rng.normal(size=10_000)
    edges = binning.quantile_edges(a, 20)
    b = np.r_[rng.normal(size=9_999), 1e9]
    counts_a, counts_b = binning.bin_counts(a, edges), binning.bin_counts(b, edges)
    assert wasserstein_binned(counts_a, counts_b, edges, low=a.min(), high=1e9) < 0.05


# --- distances ---------------------------------------------------------------------------------


def test_jensen_shannon_matches_scipy_base_2_including_empty_bins(rng):
    for _ in range(20):
        p, q = rng.integers(0, 50, size=8), rng.integers(0, 50, size=8)
        p[rng.integers(8)] = 0
        assert jensen_shannon(p, q) == pytest.approx(jensenshannon(p, q, base=2), abs=1e-12)


def test_hellinger_matches_its_textbook_form(rng):
    p, q = rng.integers(1, 100, size=12), rng.integers(0, 100, size=12)
    ps, qs = p / p.sum(), q / q.sum()
    assert hellinger(p, q) == pytest.approx(np.linalg.norm(np.sqrt(ps) - np.sqrt(qs)) / np.sqrt(2))


def test_psi_matches_the_textbook_sum_with_its_documented_epsilon():
    ref, cur = np.array([100, 300, 600, 0]), np.array([200, 300, 450, 50])
    p = np.maximum(ref / ref.sum(), binning.PSI_EPSILON)
    q = np.maximum(cur / cur.sum(), binning.PSI_EPSILON)
    assert psi(ref, cur) == pytest.approx(np.sum((q - p) * np.log(q / p)))
    assert psi(ref, ref) == 0.0


def test_unseen_share_counts_categories_absent_from_the_reference():
    assert unseen_share([50, 50, 0, 0], [40, 40, 15, 5]) == pytest.approx(0.2)
    assert unseen_share([1], [0]) == 0.0


# --- categorical -------------------------------------------------------------------------------


def test_chi_square_matches_scipy_and_drops_categories_absent_from_both_sides(rng):
    ref, cur = np.array([120, 0, 340, 80, 5]), np.array([100, 0, 200, 120, 0])
    got = chi_square(ref, cur)
    kept = np.array([[120, 340, 80, 5], [100, 200, 120, 0]])
    stat, p, *_ = stats.chi2_contingency(kept, correction=False)
    assert got.statistic == pytest.approx(stat)
    assert got.p_value == pytest.approx(p)


def test_chi_square_on_a_two_by_two_table_has_no_yates_correction():
    stat, p, *_ = stats.chi2_contingency([[30, 70], [50, 50]], correction=False)
    assert chi_square([30, 70], [50, 50]).statistic == pytest.approx(stat)
    assert chi_square([30, 70], [50, 50]).p_value == pytest.approx(p)


def test_a_single_category_on_both_sides_is_testable_and_never_drifts():
    t = categorical_drift([100, 0, 0], [40, 0, 0])
    assert t.testable and t.p_value == 1.0 and t.effect_size == 0.0
    assert "single category" in t.reason


def test_a_new_category_moves_the_categorical_effect_size():
    t = categorical_drift([500, 300, 200, 0], [450, 270, 180, 100])
    assert t.p_value < 1e-10
    assert t.effect_size == pytest.approx(jensenshannon([500, 300, 200, 0], [450, 270, 180, 100], base=2))


# --- edge cases and method choice -------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "cur", "reason"),
    [
        ([], [1.0, 2.0], "reference has no non-null values"),
        ([np.nan] * 5, [1.0], "reference has no non-null values"),
        ([1.0, 2.0], [np.nan, np.nan], "current window has no non-null values"),
    ],
)
def test_an_empty_side_is_not_testable_and_cannot_flag_drift(ref, cur, reason):
    t = numeric_drift_samples(ref, cur)
    assert not t.testable and t.reason.endswith(reason)
    assert (t.p_value, t.effect_size) == (1.0, 0.0)
    assert not categorical_drift([0, 0], [3, 4]).testable


def test_a_constant_reference_falls_back_to_the_ks_distance_as_effect_size():
    same = numeric_drift_samples([5.0] * 100, [5.0] * 80)
    assert same.effect_method == "ks" and same.effect_size == 0.0 and same.p_value == 1.0
    moved = numeric_drift_samples([5.0] * 100, [5.0] * 60 + [6.0] * 40)
    assert moved.effect_size == pytest.approx(0.4) and "constant reference" in moved.reason
    edges = binning.quantile_edges([5.0] * 100)
    binned = numeric_drift_binned(
        binning.bin_counts([5.0] * 100, edges), binning.bin_counts([5.0] * 9 + [7.0], edges), edges
    )
    assert binned.effect_method == "ks" and binned.effect_size == pytest.approx(0.1)


def test_the_binned_numeric_test_reports_a_mean_shift_in_reference_standard_deviations(rng):
    ref, cur = rng.normal(0, 2, size=20_000), rng.normal(1, 2, size=10_000)
    edges = binning.quantile_edges(ref, 20)
    t = numeric_drift_binned(
        binning.bin_counts(ref, edges),
        binning.bin_counts(cur, edges),
        edges,
        low=min(ref.min(), cur.min()),
        high=max(ref.max(), cur.max()),
        reference_std=ref.std(),
    )
    assert t.method == "ks_binned" and t.effect_method == "wasserstein"
    # Counts cannot say where the extra mass sits inside the outermost bins: a few % too high.
    assert t.effect_size == pytest.approx(0.5, rel=0.1)
    assert t.effect_size >= stats.wasserstein_distance(ref, cur) / ref.std()
    assert t.p_value < 1e-50


def test_unknown_effect_sizes_are_a_programming_error():
    with pytest.raises(ValueError, match="numeric effect"):
        numeric_drift_binned([1, 2], [2, 1], [0.0], effect="magic")
    with pytest.raises(ValueError, match="sample-based effect"):
        numeric_drift_samples([1.0], [2.0], effect="psi")


def test_choose_method_uses_exact_ks_only_when_both_reservoirs_hold_every_row():
    assert choose_method("numeric", 5_000, 5_000).test == "ks"
    assert choose_method("numeric", 5_000, 5_001).test == "ks_binned"
    assert choose_method("numeric", 50_000, 1_000).use_samples is False
    cat = choose_method("categorical", 10, 10)
    assert (cat.test, cat.effect) == ("chi_square", "jensenshannon")
    assert choose_method("boolean", 10, 10).test == "chi_square"
