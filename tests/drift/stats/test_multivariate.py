"""Multivariate drift: PCA reconstruction error and the domain classifier."""

import doctest

import numpy as np
import pytest
from scipy import stats

from drift.scenarios import make_scenario
from drift.stats import multivariate
from drift.stats.multivariate import (
    auc_p_value,
    domain_classifier,
    fit_logistic,
    fit_pca,
    learn_pca_threshold,
    pca_drift,
    reconstruction_error,
    rescale_pca_threshold,
    roc_auc,
)


def test_its_docstring_examples_hold():
    assert doctest.testmod(multivariate).failed == 0


@pytest.fixture
def rng():
    return np.random.default_rng(77)


def scenario_arrays(
    kind: str, n: int, seed: int, magnitude: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    sc = make_scenario(
        kind, n_reference=n, n_current=n, n_numeric=6, n_categorical=2, seed=seed, magnitude=magnitude
    )
    cats = sc.categorical
    return (
        sc.reference.numeric_matrix(sc.numeric),
        sc.current.numeric_matrix(sc.numeric),
        np.column_stack([sc.reference.features[c] for c in cats]),
        np.column_stack([sc.current.features[c] for c in cats]),
    )


# --- AUC and logistic regression against references -------------------------------------------


def test_auc_is_the_mann_whitney_u_over_the_pair_count(rng):
    neg, pos = rng.normal(size=300), rng.normal(0.4, 1, size=200).round(1)  # rounding makes ties
    labels, scores = np.r_[np.zeros(300), np.ones(200)], np.r_[neg, pos]
    u = stats.mannwhitneyu(pos, neg).statistic
    assert roc_auc(labels, scores) == pytest.approx(u / (300 * 200))
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    assert roc_auc(labels, scores) == pytest.approx(sklearn_metrics.roc_auc_score(labels, scores))


def test_the_auc_p_value_is_scipys_asymptotic_mann_whitney(rng):
    neg, pos = rng.normal(size=150).round(1), rng.normal(0.2, 1, size=120).round(1)
    labels, scores = np.r_[np.zeros(150), np.ones(120)], np.r_[neg, pos]
    want = stats.mannwhitneyu(pos, neg, alternative="greater", method="asymptotic", use_continuity=False)
    assert auc_p_value(labels, scores) == pytest.approx(want.pvalue)


def test_a_one_class_sample_has_an_uninformative_auc():
    assert roc_auc([1, 1], [0.2, 0.3]) == 0.5 and auc_p_value([0, 0], [1, 2]) == 1.0


def test_logistic_regression_matches_scikit_learn(rng):
    linear_model = pytest.importorskip("sklearn.linear_model")
    x = rng.normal(size=(600, 4))
    y = (rng.random(600) < 1 / (1 + np.exp(-(x @ [1.0, -2.0, 0.5, 0.0] + 0.3)))).astype(int)
    ours = fit_logistic(x, y, l2=2.0)
    theirs = linear_model.LogisticRegression(C=0.5, tol=1e-10, max_iter=1_000).fit(x, y)
    np.testing.assert_allclose(ours[1:], theirs.coef_[0], atol=1e-4)
    assert ours[0] == pytest.approx(theirs.intercept_[0], abs=1e-4)


# --- PCA -------------------------------------------------------------------------------------------


def test_pca_keeps_the_components_explaining_the_requested_variance(rng):
    x = rng.normal(size=(2_000, 5)) @ np.diag([5.0, 3.0, 1.0, 0.3, 0.1])
    model = fit_pca(x, variance=0.9)
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    singular = np.linalg.svd(z, compute_uv=False) ** 2
    share = np.cumsum(singular) / singular.sum()
    assert model.components.shape[0] == int(np.searchsorted(share, 0.9) + 1)
    assert model.explained == pytest.approx(share[model.components.shape[0] - 1])


def test_reconstruction_error_is_zero_on_the_kept_subspace(rng):
    x = rng.normal(size=(1_000, 1)) @ [[1.0, 2.0, -1.0]]  # rank one
    model = fit_pca(x)
    assert reconstruction_error(model, x[:10]).max() < 1e-8


def test_pca_flags_a_broken_correlation_that_every_marginal_hides():
    ref, cur, *_ = scenario_arrays("correlation_change", 3_000, seed=1)
    result = pca_drift(ref, cur)
    assert result.drifted and result.p_value < 1e-6
    assert result.statistic > result.expected


def test_pca_stays_quiet_on_stationary_windows():
    flags = 0
    for seed in range(15):
        ref, cur, *_ = scenario_arrays("stationary", 2_000, seed=seed)
        flags += pca_drift(ref, cur[:1_000], seed=seed).drifted
    assert flags <= 1


def test_pca_imputes_missing_values_with_the_reference_median(rng):
    ref = rng.normal(size=(500, 3)) @ [[1.0, 0.8, 0.0], [0.0, 0.6, 0.3], [0.0, 0.0, 1.0]]
    ref[::7, 1] = np.nan
    all_missing = np.full((500, 1), np.nan)
    result = pca_drift(np.hstack([ref, all_missing]), np.hstack([ref, all_missing]))
    assert result.testable and np.isfinite(result.statistic) and not result.drifted


def test_a_cached_threshold_is_reused():
    ref, cur, *_ = scenario_arrays("stationary", 2_000, seed=2)
    model = fit_pca(ref)
    threshold = learn_pca_threshold(ref, 500, model=model)
    result = pca_drift(ref, cur[:500], model=model, threshold=threshold)
    assert result.threshold == threshold.value


def test_a_null_learned_for_one_window_size_rescales_to_what_learning_at_another_gives():
    ref, *_ = scenario_arrays("stationary", 2_000, seed=4)
    # Both chunk sizes are capped at half the reference (1,000 rows): the same draws, rescaled.
    learned = learn_pca_threshold(ref, 1_024, seed=3)
    direct = learn_pca_threshold(ref, 1_500, seed=3)
    rescaled = rescale_pca_threshold(learned, 1_500)
    assert rescaled.center == pytest.approx(direct.center)
    assert rescaled.spread == pytest.approx(direct.spread)
    assert rescaled.value == pytest.approx(direct.value)
    assert rescaled.window_size == 1_500 and rescale_pca_threshold(learned, 1_024) == learned


def test_the_threshold_source_is_asked_only_for_a_testable_window(rng):
    asked = []

    def source(n):
        asked.append(n)
        return learn_pca_threshold(ref, n)

    ref, cur, *_ = scenario_arrays("stationary", 2_000, seed=5)
    result = pca_drift(ref, cur[:700], threshold_for=source)
    assert asked == [700] and result.testable and not result.drifted
    assert not pca_drift(rng.normal(size=(500, 2)), rng.normal(size=(100, 2)), threshold_for=source).testable
    assert asked == [700]


def test_too_few_rows_are_not_testable():
    result = pca_drift(np.ones((5, 2)), np.ones((5, 2)))
    assert not result.testable and not result.drifted and "20 reference rows" in result.reason


def test_independent_features_that_pca_keeps_entirely_are_not_testable(rng):
    result = pca_drift(rng.normal(size=(500, 2)), rng.normal(size=(100, 2)))
    assert not result.testable and "nothing to reconstruct" in result.reason


# --- domain classifier ---------------------------------------------------------------------------


def test_the_classifier_cannot_tell_stationary_samples_apart():
    ref, cur, ref_cat, cur_cat = scenario_arrays("stationary", 1_500, seed=3)
    result = domain_classifier(ref, cur, reference_categorical=ref_cat, current_categorical=cur_cat)
    assert not result.drifted
    assert abs(result.statistic - 0.5) < 0.03


@pytest.mark.parametrize("kind", ["mean_shift", "variance_change", "correlation_change", "new_category"])
def test_the_classifier_tells_shifted_samples_apart(kind):
    # A new category in 5 % of rows can lift the AUC by 0.025 at most: use 30 % here.
    ref, cur, ref_cat, cur_cat = scenario_arrays(
        kind, 1_500, seed=4, magnitude=0.3 if kind == "new_category" else None
    )
    result = domain_classifier(ref, cur, reference_categorical=ref_cat, current_categorical=cur_cat)
    assert result.drifted and result.statistic >= 0.55 and result.p_value < 1e-6


def test_the_classifier_sees_a_burst_of_missing_values():
    ref, cur, *_ = scenario_arrays("missing_burst", 1_500, seed=5)
    assert domain_classifier(ref, cur).drifted


def test_the_classifier_needs_enough_rows_per_side(rng):
    result = domain_classifier(rng.normal(size=(10, 2)), rng.normal(size=(500, 2)))
    assert not result.testable and result.statistic == 0.5
