"""Realised performance metrics, checked against scikit-learn and SciPy as oracles."""

import numpy as np
import pytest
from scipy.stats import mannwhitneyu
from sklearn import metrics as skm

from drift.stats.bootstrap import bootstrap_ci
from drift.stats.performance import (
    accuracy,
    binary_classification_performance,
    brier_score,
    confusion_matrix,
    log_loss,
    multiclass_classification_performance,
    precision_recall_f1,
    roc_auc,
)
from drift.stats.regression import mae, mape, r2, regression_performance, rmse


@pytest.fixture
def binary_window():
    """A seeded logistic model: labels drawn from known probabilities, scores rounded to create ties."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=3000)
    prob = 1 / (1 + np.exp(-(1.5 * x - 0.5)))
    y = (rng.random(3000) < prob).astype(int)
    score = np.round(prob, 2)
    return y, (score >= 0.5).astype(int), score


def test_classification_metrics_match_sklearn(binary_window):
    y, pred, score = binary_window
    prf = precision_recall_f1(y, pred)
    assert accuracy(y, pred) == pytest.approx(skm.accuracy_score(y, pred))
    assert prf.precision == pytest.approx(skm.precision_score(y, pred))
    assert prf.recall == pytest.approx(skm.recall_score(y, pred))
    assert prf.f1 == pytest.approx(skm.f1_score(y, pred))
    assert log_loss(y, score) == pytest.approx(skm.log_loss(y, score))
    assert brier_score(y, score) == pytest.approx(skm.brier_score_loss(y, score))
    assert np.array_equal(confusion_matrix(y, pred).array, skm.confusion_matrix(y, pred))


def test_roc_auc_handles_ties_like_mann_whitney_and_sklearn(binary_window):
    y, _, score = binary_window
    assert len(np.unique(score)) < len(score) / 10  # heavily tied on purpose
    u = mannwhitneyu(score[y == 1], score[y == 0]).statistic
    expected = u / ((y == 1).sum() * (y == 0).sum())
    assert roc_auc(y, score) == pytest.approx(expected, abs=1e-12)
    assert roc_auc(y, score) == pytest.approx(skm.roc_auc_score(y, score), abs=1e-12)


def test_string_labels_and_positive_label_are_respected():
    y = np.array(["fraud", "ok", "ok", "fraud", "ok"])
    pred = np.array(["fraud", "fraud", "ok", "ok", "ok"])
    prf = precision_recall_f1(y, pred, positive_label="fraud")
    assert (prf.precision, prf.recall) == (0.5, 0.5)
    assert confusion_matrix(y, pred, labels=["ok", "fraud"]).counts == ((2, 1), (1, 1))


def test_multiclass_metrics_match_sklearn():
    rng = np.random.default_rng(3)
    y = rng.choice(["a", "b", "c", "d"], size=2000)
    # A classifier right 60 % of the time, never predicting "d", so its "d" precision is undefined.
    pred = np.where(rng.random(2000) < 0.6, y, rng.choice(["a", "b", "c"], size=2000))
    proba = rng.dirichlet(np.ones(4), size=2000)
    report = multiclass_classification_performance(y, pred, proba, labels=["a", "b", "c", "d"], n_resamples=0)
    macro = precision_recall_f1(y, pred, average="macro")
    kw = {"average": "macro", "zero_division": np.nan}
    assert report["accuracy"].value == pytest.approx(skm.accuracy_score(y, pred))
    assert macro.precision == pytest.approx(skm.precision_score(y, pred, **kw))
    assert report["macro_recall"].value == pytest.approx(skm.recall_score(y, pred, **kw))
    assert report["macro_f1"].value == pytest.approx(skm.f1_score(y, pred, **kw))
    assert report["log_loss"].value == pytest.approx(skm.log_loss(y, proba, labels=["a", "b", "c", "d"]))
    sk_auc = skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=["a", "b", "c", "d"])
    assert report["macro_roc_auc"].value == pytest.approx(sk_auc)


def test_regression_metrics_match_sklearn():
    rng = np.random.default_rng(11)
    y = rng.gamma(2.0, 10.0, size=1500) + 1.0
    pred = y + rng.normal(0, 3, size=1500)
    assert mae(y, pred) == pytest.approx(skm.mean_absolute_error(y, pred))
    assert rmse(y, pred) == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)))
    assert mape(y, pred) == pytest.approx(skm.mean_absolute_percentage_error(y, pred))
    assert r2(y, pred) == pytest.approx(skm.r2_score(y, pred))


def test_mape_excludes_zero_targets_and_says_so():
    report = regression_performance([0.0, 2.0, 4.0, 0.0], [1.0, 1.0, 5.0, 3.0], n_resamples=0)
    assert report["mape"].value == pytest.approx((0.5 + 0.25) / 2)
    assert report["mape"].reason == "2 zero targets excluded"
    all_zero = regression_performance([0.0, 0.0], [1.0, 2.0], n_resamples=0)
    assert all_zero["mape"].value is None and all_zero["mape"].reason == "all targets are zero"
    assert regression_performance([3.0, 3.0], [1.0, 2.0], n_resamples=0)["r2"].reason == "constant target"


def test_degenerate_windows_give_reasons_instead_of_raising():
    empty = binary_classification_performance([], [], [], n_resamples=10)
    assert {m.reason for m in empty.values()} == {"empty window"}
    one_class = binary_classification_performance([0, 0, 0], [0, 1, 0], [0.1, 0.7, 0.2], n_resamples=10)
    assert one_class["roc_auc"].value is None and one_class["roc_auc"].reason == "only one class present"
    assert one_class["recall"].reason == "no positive labels"
    assert one_class["accuracy"].value == pytest.approx(2 / 3)
    margins = binary_classification_performance([0, 1], [0, 1], [-2.0, 3.0], n_resamples=0)
    assert margins["roc_auc"].value == 1.0 and margins["log_loss"].value is None
    assert np.isnan(roc_auc([1, 1], [0.2, 0.3])) and np.isnan(accuracy([], []))
    assert regression_performance([], [], n_resamples=0)["mae"].reason == "empty window"


def test_bootstrap_intervals_cover_the_truth_at_roughly_the_nominal_rate():
    # Known answer: accuracy of a classifier right with probability 0.8. A 95 % interval over
    # 60 independent windows should miss the truth about 3 times.
    rng = np.random.default_rng(2024)
    misses = 0
    for seed in range(60):
        y = rng.integers(0, 2, size=400)
        pred = np.where(rng.random(400) < 0.8, y, 1 - y)
        ci = binary_classification_performance(y, pred, n_resamples=300, seed=seed)["accuracy"].ci
        misses += not (ci.low <= 0.8 <= ci.high)
    assert misses <= 8


def test_bootstrap_is_seeded_and_capped_rows_keep_the_width():
    rng = np.random.default_rng(5)
    x = rng.normal(size=50_000)
    mean = lambda v: v.mean(axis=-1)  # noqa: E731
    full = bootstrap_ci(mean, x, n_resamples=400, seed=1, max_rows=50_000)
    capped = bootstrap_ci(mean, x, n_resamples=400, seed=1, max_rows=5_000)
    assert full == bootstrap_ci(mean, x, n_resamples=400, seed=1, max_rows=50_000)
    # The analytic 95 % half-width is 1.96 / sqrt(n); the m-out-of-n rescaling must keep it.
    half = 1.96 / np.sqrt(len(x))
    for ci in (full, capped):
        assert (ci.high - ci.low) / 2 == pytest.approx(half, rel=0.15)


def test_auc_interval_brackets_the_point_estimate(binary_window):
    y, pred, score = binary_window
    report = binary_classification_performance(y, pred, score, n_resamples=300, seed=4)
    auc = report["roc_auc"]
    assert auc.ci.low < auc.value < auc.ci.high
    # Reference: Hanley & McNeil (1982) standard error of the AUC, a textbook approximation.
    a, n1, n0 = auc.value, (y == 1).sum(), (y == 0).sum()
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    se = np.sqrt((a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0))
    assert (auc.ci.high - auc.ci.low) / 2 == pytest.approx(1.96 * se, rel=0.2)


def test_many_distinct_scores_switch_to_the_sorting_auc_with_the_same_answer():
    # Above 20k distinct scores the bootstrap sorts each resample instead of counting per score.
    rng = np.random.default_rng(13)
    y = rng.integers(0, 2, 30_000)
    score = rng.normal(size=30_000) + 0.8 * y
    report = binary_classification_performance(y, score >= 0.4, score, n_resamples=200, seed=2)
    auc = report["roc_auc"]
    assert auc.value == pytest.approx(skm.roc_auc_score(y, score))
    n1, n0 = (y == 1).sum(), (y == 0).sum()
    a = auc.value
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    se = np.sqrt((a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0))
    assert (auc.ci.high - auc.ci.low) / 2 == pytest.approx(1.96 * se, rel=0.2)
