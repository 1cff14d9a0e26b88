"""Feature importance tracking: Spearman vs SciPy, mutual information vs textbook values and
scikit-learn, and the confidence summary vs NumPy."""

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import mutual_info_score

from drift.stats.attribution import (
    FeatureImportance,
    attribution_importance,
    compare_rankings,
    confidence_by_window,
    confidence_summary,
    discretise,
    entropy,
    mutual_information,
    surrogate_importance,
)


def test_mean_absolute_attribution_per_feature():
    rng = np.random.default_rng(0)
    attributions = rng.normal(0, [3.0, 1.0, 0.2], size=(5000, 3))
    imp = attribution_importance(attributions, ["income", "age", "zip"])
    assert np.allclose(imp.values, np.abs(attributions).mean(axis=0))
    # E|N(0, s)| = s sqrt(2 / pi): a textbook check of the magnitude as well as the order.
    assert imp.values[0] == pytest.approx(3.0 * np.sqrt(2 / np.pi), rel=0.03)
    assert imp.ranking == ("income", "age", "zip")


@pytest.mark.parametrize("seed", range(5))
def test_spearman_matches_scipy_including_ties(seed):
    rng = np.random.default_rng(seed)
    features = tuple(f"f{i}" for i in range(12))
    ref = FeatureImportance(features, tuple(np.round(rng.random(12), 1)), "x")  # rounding makes ties
    win = FeatureImportance(features, tuple(np.round(rng.random(12), 1)), "x")
    result = compare_rankings(ref, win)
    oracle = spearmanr(ref.values, win.values)
    assert result.spearman == pytest.approx(oracle.statistic)
    assert result.p_value == pytest.approx(oracle.pvalue)


def test_ranking_comparison_uses_shared_features_and_reports_moves():
    ref = FeatureImportance(("a", "b", "c", "d", "gone"), (5.0, 4.0, 3.0, 2.0, 1.0), "x")
    win = FeatureImportance(("d", "c", "b", "a", "new"), (5.0, 4.0, 3.0, 2.0, 9.0), "x")
    result = compare_rankings(ref, win, top_k=2)
    assert result.spearman == pytest.approx(-1.0)
    assert result.top_k_overlap == 0.0
    assert result.rank_changes == {"a": 3, "b": 1, "c": -1, "d": -3}
    tied = compare_rankings(ref, FeatureImportance(("a", "b"), (1.0, 1.0), "x"))
    assert tied.spearman is None and tied.reason == "all importances tied"


def test_mutual_information_textbook_values_and_sklearn():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 4, 20_000)
    # Identical variables: I(X; X) = H(X), which is ln 4 for four equally likely values.
    assert mutual_information(x, x) == pytest.approx(entropy(x))
    assert entropy(x) == pytest.approx(np.log(4), abs=1e-3)
    # Independent variables: ~0, up to the plug-in bias (|X| - 1)(|Y| - 1) / (2n) = 4.5e-4.
    y = rng.integers(0, 4, 20_000)
    assert mutual_information(x, y) < 1e-3
    # A binary symmetric channel with flip rate e: I = ln 2 - H_b(e).
    bit = rng.integers(0, 2, 200_000)
    noisy = np.where(rng.random(200_000) < 0.1, 1 - bit, bit)
    h_b = -(0.1 * np.log(0.1) + 0.9 * np.log(0.9))
    assert mutual_information(bit, noisy) == pytest.approx(np.log(2) - h_b, abs=2e-3)
    z = rng.integers(0, 7, 3000)
    w = (z + rng.integers(0, 3, 3000)) % 5
    assert mutual_information(z, w) == pytest.approx(mutual_info_score(z, w))


def test_sparse_integer_codes_and_their_text_give_the_same_mutual_information():
    rng = np.random.default_rng(4)
    codes = rng.choice([0, 3, 7, 40], size=5_000)  # bin codes with gaps, as a profile's bins leave
    prediction = np.where(rng.random(5_000) < 0.2 + 0.15 * (codes == 7), "1", "0").astype(object)
    text = codes.astype(str).astype(object)
    assert mutual_information(codes, prediction) == pytest.approx(mutual_info_score(codes, prediction))
    as_codes = surrogate_importance({"c": codes}, prediction, coded=["c"])
    as_text = surrogate_importance({"c": text}, prediction)
    assert as_codes.values == pytest.approx(as_text.values, rel=1e-12)


def test_surrogate_importance_ranks_the_feature_that_drives_the_prediction():
    rng = np.random.default_rng(2)
    n = 20_000
    features = {
        "strong": rng.normal(size=n),
        "weak": rng.normal(size=n),
        "noise": rng.normal(size=n),
        "segment": rng.choice(["a", "b", "c"], size=n),
    }
    score = 1 / (1 + np.exp(-(2.0 * features["strong"] + 0.5 * features["weak"])))
    imp = surrogate_importance(features, score)
    assert imp.ranking[:2] == ("strong", "weak")
    assert imp.as_dict()["noise"] < 0.01 and imp.as_dict()["segment"] < 0.01


def test_discretise_reuses_reference_edges_and_codes_missing_values():
    ref = np.random.default_rng(3).normal(size=1000)
    edges = np.quantile(ref, np.linspace(0, 1, 11)[1:-1])
    codes = discretise(np.array([-10.0, edges[5], 10.0, np.nan]), edges)  # an edge opens its bin
    assert codes.tolist() == [0, 6, 9, 10]
    assert np.bincount(discretise(ref, edges)).tolist() == [100] * 10


def test_confidence_summary_matches_numpy():
    rng = np.random.default_rng(4)
    scores = rng.beta(2, 2, 5000)
    summary = confidence_summary(scores, margin=0.15)
    assert summary.mean == pytest.approx(scores.mean())
    assert summary.std == pytest.approx(scores.std(ddof=1))
    assert summary.quantiles["p95"] == pytest.approx(np.quantile(scores, 0.95))
    assert summary.low_confidence_share == pytest.approx(np.mean(np.abs(scores - 0.5) < 0.15))
    assert sum(summary.histogram) == 5000
    assert confidence_summary([]).mean is None


def test_confidence_over_time_shows_a_model_becoming_unsure():
    rng = np.random.default_rng(5)
    days = np.repeat(["d1", "d2"], 2000)
    # Day 2's inputs sit near the decision boundary: more scores close to 0.5.
    scores = np.where(days == "d1", rng.beta(0.5, 0.5, 4000), rng.beta(5, 5, 4000))
    by_day = confidence_by_window(scores, days)
    assert by_day["d2"].low_confidence_share > by_day["d1"].low_confidence_share + 0.3
