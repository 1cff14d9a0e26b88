"""Concept-drift detectors: known-answer Bernoulli streams, textbook loop implementations as
oracles, and the P(y | x) test against SciPy's chi-square."""

import math

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from drift.stats.concept import Adwin, adwin, conditional_target_drift, ddm, page_hinkley

CHANGE_AT = 5000
DETECTORS = {"adwin": adwin, "ddm": ddm, "page_hinkley": page_hinkley}


def _jump_stream(seed, before=0.1, after=0.4, n=10_000):
    rng = np.random.default_rng(seed)
    return (rng.random(n) < np.where(np.arange(n) < CHANGE_AT, before, after)).astype(float)


@pytest.mark.parametrize("name", DETECTORS)
def test_a_jump_in_error_rate_is_detected_within_a_bounded_delay(name):
    delays = []
    for seed in range(20):
        found = DETECTORS[name](_jump_stream(seed))
        after = [i for i in found.drift_indices if i >= CHANGE_AT]
        assert after, f"seed {seed}: change missed"
        delays.append(after[0] - CHANGE_AT)
    print(f"{name}: detection delay median {np.median(delays):.0f}, max {max(delays)} rows")
    assert np.median(delays) < 300
    assert max(delays) < 1000


@pytest.mark.parametrize(("name", "max_rate"), [("adwin", 0.06), ("page_hinkley", 0.06), ("ddm", 0.6)])
def test_stationary_streams_rarely_raise_an_alarm(name, max_rate):
    # DDM's bound is loose on purpose: with Gama's settings about half of these streams raise a
    # false alarm early on, a known weakness documented in ddm(); the other two stay quiet.
    alarms = 0
    for seed in range(50):
        stream = (np.random.default_rng(1000 + seed).random(10_000) < 0.1).astype(float)
        alarms += bool(DETECTORS[name](stream).drift_indices)
    print(f"{name}: false-positive rate {alarms / 50:.2f} over 50 stationary 10k-row streams")
    assert alarms / 50 <= max_rate


def _ddm_loop(x, min_instances=30):
    """Gama et al. (2004), one row at a time, with ddm()'s documented s > 0 guard."""
    drifts, warnings = [], []
    n = errors = 0
    p_min = s_min = ps_min = math.inf
    warned = False
    for t, v in enumerate(x):
        n += 1
        errors += v
        p = errors / n
        s = math.sqrt(p * (1 - p) / n)
        if n < min_instances:
            continue
        if s > 0 and p + s < ps_min:
            p_min, s_min, ps_min = p, s, p + s
        if ps_min == math.inf:
            continue
        if p + s >= p_min + 3 * s_min:
            drifts.append(t)
            n = errors = 0
            p_min = s_min = ps_min = math.inf
            warned = False
        elif p + s >= p_min + 2 * s_min:
            if not warned:
                warnings.append(t)
            warned = True
        else:
            warned = False
    return drifts, warnings


def test_ddm_matches_the_textbook_loop():
    for seed in range(10):
        stream = _jump_stream(seed, before=0.2, after=0.35)
        found = ddm(stream)
        assert (list(found.drift_indices), list(found.warning_indices)) == _ddm_loop(stream)
        assert found.first_warning is not None


def _page_hinkley_loop(x, delta=0.005, threshold=50.0, alpha=1 - 1e-4, min_instances=30):
    """The river-style recursion, one row at a time, both directions."""
    drifts = []
    n, mean, up, down, up_min, down_max = 0, 0.0, 0.0, 0.0, math.inf, -math.inf
    for t, v in enumerate(x):
        n += 1
        mean += (v - mean) / n
        up = alpha * up + (v - mean - delta)
        down = alpha * down + (v - mean + delta)
        up_min, down_max = min(up_min, up), max(down_max, down)
        if n >= min_instances and (up - up_min > threshold or down_max - down > threshold):
            drifts.append(t)
            n, mean, up, down, up_min, down_max = 0, 0.0, 0.0, 0.0, math.inf, -math.inf
    return drifts


def test_page_hinkley_matches_the_textbook_loop_in_both_directions():
    rng = np.random.default_rng(3)
    stream = np.concatenate([rng.normal(0, 0.3, 3000), rng.normal(1, 0.3, 3000), rng.normal(-1, 0.3, 3000)])
    found = page_hinkley(stream, direction="both")
    assert list(found.drift_indices) == _page_hinkley_loop(stream)
    assert len(found.drift_indices) >= 2
    assert page_hinkley(stream, direction="down").first_drift > 6000


def test_adwin_keeps_only_the_new_regime_and_logarithmic_memory():
    stream = _jump_stream(seed=5)
    detector = Adwin()
    for value in stream:
        detector.update(value)
    # After the cuts the window holds (almost) only post-change rows, so its mean is the new
    # rate; a few old rows may survive inside the boundary bucket.
    assert len(stream) - CHANGE_AT - 500 <= detector.width <= len(stream) - CHANGE_AT + 100
    assert detector.mean == pytest.approx(0.4, abs=0.03)
    quiet = Adwin()
    for value in np.random.default_rng(6).random(50_000) < 0.1:
        quiet.update(value)
    assert quiet.width == 50_000
    buckets = sum(len(level) for level in quiet._levels)
    assert buckets <= quiet.max_buckets * (math.log2(50_000) + 1)


def test_per_bin_statistics_match_scipy_chi_square():
    rng = np.random.default_rng(8)
    ref_bins, win_bins = rng.integers(0, 5, 4000), rng.integers(0, 5, 3000)
    ref_y = rng.random(4000) < 0.3
    win_y = rng.random(3000) < np.where(win_bins == 2, 0.45, 0.3)
    result = conditional_target_drift(ref_bins, ref_y, win_bins, win_y, positive_label=True)
    for comparison in result.bins:
        r, w = ref_y[ref_bins == comparison.bin], win_y[win_bins == comparison.bin]
        table = [[r.sum(), (~r).sum()], [w.sum(), (~w).sum()]]
        stat, p_value, _, _ = chi2_contingency(table, correction=False)
        assert comparison.statistic == pytest.approx(stat)
        assert comparison.p_value == pytest.approx(p_value)
    assert result.drifted
    assert min(result.bins, key=lambda c: c.p_value).bin == 2


def _relation_window(rng, n, *, mean=0.0, slope=2.0):
    x = rng.normal(mean, 1.0, n)
    y = rng.random(n) < 1 / (1 + np.exp(-slope * x))
    return x, y


def test_a_change_of_p_y_given_x_is_flagged_and_a_pure_covariate_shift_is_not():
    rng = np.random.default_rng(11)
    ref_x, ref_y = _relation_window(rng, 20_000)
    edges = np.quantile(ref_x, np.linspace(0, 1, 21)[1:-1])  # 20 reference-quantile bins

    def check(x, y):
        return conditional_target_drift(
            np.searchsorted(edges, ref_x), ref_y, np.searchsorted(edges, x), y, n_bins=20, positive_label=True
        )

    covariate_alarms = concept_hits = 0
    for _ in range(20):
        covariate_alarms += check(*_relation_window(rng, 10_000, mean=0.5)).drifted
        concept_hits += check(*_relation_window(rng, 10_000, slope=1.2)).drifted
    assert covariate_alarms <= 1
    assert concept_hits == 20


def test_empty_or_sparse_inputs_give_reasons_not_errors():
    sparse = conditional_target_drift([0, 1], [1, 0], [0, 1], [0, 1])
    assert not sparse.drifted and sparse.reason == "no bin has 10 rows on both sides"
    assert adwin([]).first_drift is None and ddm([]).drift_indices == () and page_hinkley([]).n == 0
