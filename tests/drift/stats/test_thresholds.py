"""Learned thresholds, Benjamini-Hochberg and the drift decision."""

import doctest

import numpy as np
import pytest
from scipy import stats

from drift.stats import binning, thresholds
from drift.stats.thresholds import (
    LearnedThreshold,
    benjamini_hochberg,
    decide,
    learn_thresholds_binned,
    learn_thresholds_samples,
    rescale_threshold,
    update_threshold,
)
from drift.stats.univariate import DriftTest, numeric_drift_binned

SHARES = np.diff(binning.quantile_levels(20))  # a reference binned on its own quantiles
PROBS = np.r_[0.0, SHARES, 0.0]


def test_its_docstring_examples_hold():
    assert doctest.testmod(thresholds).failed == 0


# --- Benjamini-Hochberg ------------------------------------------------------------------------


def test_benjamini_hochberg_agrees_with_scipy():
    rng = np.random.default_rng(3)
    for _ in range(50):
        p = np.r_[rng.uniform(size=20), rng.uniform(0, 0.01, size=5)]
        p[rng.integers(25)] = p[0]  # ties
        for alpha in (0.01, 0.05, 0.2):
            want = stats.false_discovery_control(p) <= alpha
            np.testing.assert_array_equal(benjamini_hochberg(p, alpha), want)


def test_benjamini_hochberg_treats_nan_as_no_evidence_and_accepts_empty_input():
    assert benjamini_hochberg([np.nan, 1e-9]).tolist() == [False, True]
    assert benjamini_hochberg([]).size == 0


# --- null distribution -------------------------------------------------------------------------


def test_chunks_are_scored_against_the_reference_without_them():
    # NannyML #426 compares a chunk with a reference that contains it: the two share rows, so the
    # distance shrinks by about sqrt(1 - m / R). Our null must be the wider, honest one.
    rng = np.random.default_rng(0)
    ref = rng.multinomial(20_000, PROBS)
    ours = learn_thresholds_binned(ref, 10_000, methods=("ks",), n_draws=2_000)["ks"]
    chunks = rng.multivariate_hypergeometric(ref, 10_000, size=2_000)
    with_chunk = binning.batch_ks(np.broadcast_to(ref, chunks.shape), chunks)
    unscaled = np.quantile(ours.null, 0.5) / thresholds._scale("ks", 10_000, 20_000, 10_000)
    assert unscaled == pytest.approx(2 * np.quantile(with_chunk, 0.5), rel=0.1)  # sqrt(1 - 1/2) apart


def false_alarm_rate(window: int, n_reference: int, refs: int, windows: int, method: str) -> float:
    """Share of stationary windows whose effect size passes a threshold learned on its reference."""
    rng = np.random.default_rng(window + n_reference)
    hits = 0
    for r in range(refs):
        ref = rng.multinomial(n_reference, PROBS)
        th = learn_thresholds_binned(ref, window, methods=(method,), seed=r)[method].value
        cur = rng.multinomial(window, PROBS, size=windows)
        effect = binning.COUNT_DISTANCES[method](np.broadcast_to(ref, cur.shape), cur)
        hits += int((effect > th).sum())
    return hits / (refs * windows)


@pytest.mark.parametrize("method", ["ks", "jensenshannon"])
@pytest.mark.parametrize(("window", "n_reference"), [(5_000, 20_000), (100_000, 20_000)])
def test_stationary_windows_rarely_pass_the_learned_threshold(window, n_reference, method):
    # Nominal 0.5 % (the 99.5th percentile); the threshold is learned on 10k chunks for the 100k
    # window and rescaled, and the rate must hold there too.
    rate = false_alarm_rate(window, n_reference, refs=40, windows=100, method=method)
    assert 0.0005 <= rate <= 0.012


def test_sample_mode_thresholds_keep_the_false_alarm_rate_low():
    rng = np.random.default_rng(11)
    hits = checks = 0
    for r in range(10):
        ref = rng.gamma(2.0, size=3_000)
        th = learn_thresholds_samples(ref, 800, n_draws=200, seed=r)
        for _ in range(40):
            cur = rng.gamma(2.0, size=800)
            hits += stats.ks_2samp(ref, cur).statistic > th["ks"].value
            checks += 1
    assert hits / checks <= 0.015


def test_sample_and_binned_thresholds_agree_on_continuous_data():
    ref = np.random.default_rng(5).normal(size=20_000)
    edges = binning.quantile_edges(ref, 20)
    binned = learn_thresholds_binned(
        binning.bin_counts(ref, edges), 2_000, methods=("wasserstein",), edges=edges
    )
    sampled = learn_thresholds_samples(ref, 2_000, methods=("wasserstein",))
    assert binned["wasserstein"].value == pytest.approx(sampled["wasserstein"].value, rel=0.2)


def test_rescaling_matches_learning_at_the_other_window_size():
    ref = np.random.default_rng(2).multinomial(40_000, PROBS)
    learned_small = learn_thresholds_binned(ref, 2_000, methods=("ks", "psi"))
    learned_big = learn_thresholds_binned(ref, 8_000, methods=("ks", "psi"))
    for method in ("ks", "psi"):
        rescaled = rescale_threshold(learned_small[method], 8_000)
        assert rescaled.window_size == 8_000
        assert rescaled.value == pytest.approx(learned_big[method].value, rel=0.15)


def test_a_constant_reference_learns_a_ks_threshold_for_wasserstein():
    edges = binning.quantile_edges([2.0] * 500)
    learned = learn_thresholds_binned(binning.bin_counts([2.0] * 500, edges), 100, edges=edges)
    assert list(learned) == ["ks"]
    test = numeric_drift_binned(
        binning.bin_counts([2.0] * 500, edges), binning.bin_counts([2.0] * 100, edges), edges
    )
    assert test.effect_method == "ks"


def test_a_tiny_reference_gets_the_upper_bound_and_says_why():
    th = learn_thresholds_binned([3, 4, 5], 100, methods=("jensenshannon",))["jensenshannon"]
    assert th.value == thresholds.BOUNDS["jensenshannon"][1]
    assert "reference has 12 values" in th.reason


def test_the_bounds_hold_for_huge_and_tiny_windows():
    ref = np.random.default_rng(4).multinomial(1_000_000, PROBS)
    huge = learn_thresholds_binned(ref, 10_000_000, methods=("jensenshannon",))["jensenshannon"]
    tiny = learn_thresholds_binned(ref, 5, methods=("jensenshannon",))["jensenshannon"]
    assert huge.value == thresholds.BOUNDS["jensenshannon"][0]
    assert tiny.value == thresholds.BOUNDS["jensenshannon"][1]


def test_unknown_methods_and_missing_edges_are_programming_errors():
    with pytest.raises(ValueError, match="unknown effect"):
        learn_thresholds_binned([10] * 5, 10, methods=("magic",))
    with pytest.raises(ValueError, match="edges"):
        learn_thresholds_binned([10] * 5, 10, methods=("wasserstein",))


def test_same_inputs_learn_the_same_threshold():
    ref = [100] * 10
    assert learn_thresholds_binned(ref, 300, methods=("ks",)) == learn_thresholds_binned(
        ref, 300, methods=("ks",)
    )


# --- adaptive updates --------------------------------------------------------------------------


@pytest.fixture
def learned() -> LearnedThreshold:
    ref = np.random.default_rng(8).multinomial(20_000, PROBS)
    return learn_thresholds_binned(ref, 5_000, methods=("jensenshannon",))["jensenshannon"]


def test_a_false_alarm_lifts_the_threshold_just_above_its_effect_size(learned):
    effect = learned.value * 1.5
    updated = update_threshold(learned, effect, false_alarm=True)
    assert updated.value == pytest.approx(effect * 1.05)
    assert update_threshold(updated, 0.0).value >= effect  # the floor survives later updates
    assert learned.value < effect  # the input is left untouched


def test_false_alarms_never_lift_the_threshold_past_its_upper_bound(learned):
    assert update_threshold(learned, 0.9, false_alarm=True).value == learned.upper


def test_passing_windows_join_the_null_with_bounded_memory(learned):
    th = learned
    for _ in range(30):
        th = update_threshold(th, learned.value * 0.2, memory=len(learned.null))
    assert len(th.null) == len(learned.null)
    assert th.null[-1] == pytest.approx(learned.value * 0.2)
    assert th.lower <= th.value <= learned.value
    assert update_threshold(learned, float("nan")) is learned


# --- the decision --------------------------------------------------------------------------------


def drift_test(p: float, effect: float, testable: bool = True) -> DriftTest:
    return DriftTest("ks_binned", 0.1, p, "wasserstein", effect, 20_000, 10_000, testable, "")


def test_drift_needs_both_a_large_effect_and_bh_significance():
    tests = {
        "big_and_sure": drift_test(1e-12, 0.5),
        "big_but_noisy": drift_test(0.3, 0.5),
        "sure_but_small": drift_test(1e-12, 0.01),
        "empty": drift_test(1.0, 0.0, testable=False),
    }
    d = decide(tests, dict.fromkeys(tests, 0.05))
    assert [n for n, v in d.items() if v.drifted] == ["big_and_sure"]
    assert not d["big_but_noisy"].significant and d["sure_but_small"].significant
    assert d["empty"].reason.startswith("not testable")


def test_bh_is_applied_across_the_windows_features():
    # 0.02 alone is significant at 5 %; among 20 features with nothing else it is not.
    tests = {f"f{i}": drift_test(0.5, 1.0) for i in range(19)} | {"x": drift_test(0.02, 1.0)}
    assert not decide(tests, dict.fromkeys(tests, 0.05))["x"].drifted
    assert decide({"x": drift_test(0.02, 1.0)}, {"x": 0.05})["x"].drifted


def test_a_threshold_for_another_effect_size_is_refused(learned):
    with pytest.raises(ValueError, match="threshold is for jensenshannon"):
        decide({"x": drift_test(0.01, 0.3)}, {"x": learned})
