"""Label-free performance estimation: calibrator vs scikit-learn, expected metrics vs brute force,
and the known-answer covariate-shift simulation behind the benchmark's estimation-error figure."""

import itertools

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from drift.stats.estimation import (
    IsotonicCalibrator,
    estimate_performance,
    expected_confusion,
    expected_roc_auc,
    fit_calibrator,
)
from drift.stats.performance import accuracy, precision_recall_f1, roc_auc


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _draw(rng, n, mean, *, concept_shift=0.0):
    """Rows of a logistic model with known coefficients. ``mean`` moves P(x) only; the model's
    score is the true P(y | x) distorted by a monotone map (overconfident, shifted), so it needs
    calibrating. ``concept_shift`` changes P(y | x) itself, which no label-free method can see."""
    x = rng.normal(mean, 1.0, size=(n, 2))
    logit = 1.2 * x[:, 0] - 0.8 * x[:, 1] + 0.3
    y = (rng.random(n) < _sigmoid(logit + concept_shift * x[:, 1])).astype(int)
    score = _sigmoid(2.0 * logit + 0.5)
    return score, y


def simulate_estimation_error(seed: int, n_windows: int, window_size: int) -> float:
    """Mean absolute error of estimated vs realised accuracy under pure covariate shift.

    A 50k-row reference fits the calibrator; each window draws a new feature mean (sd 0.5 per
    coordinate) and ``window_size`` rows. This is the figure the benchmark reports.
    """
    rng = np.random.default_rng(seed)
    calibrator = fit_calibrator(*_draw(rng, 50_000, np.zeros(2)))
    errors = []
    for _ in range(n_windows):
        score, y = _draw(rng, window_size, rng.normal(0.0, 0.5, size=2))
        estimate = estimate_performance(calibrator, score, n_simulations=0)
        errors.append(abs(estimate.metrics["accuracy"].value - accuracy(y, score >= 0.5)))
    return float(np.mean(errors))


def test_calibrator_matches_sklearn_isotonic_regression():
    rng = np.random.default_rng(1)
    score = np.round(rng.random(5000), 3)  # ties, pooled the same way as scikit-learn
    y = (rng.random(5000) < score**2).astype(int)
    calibrator = fit_calibrator(score, y)
    oracle = IsotonicRegression(out_of_bounds="clip").fit(score, y)
    probe = np.concatenate([np.linspace(-0.5, 1.5, 2001), score])
    assert np.allclose(calibrator.predict(probe), oracle.predict(probe), atol=1e-12)
    assert len(calibrator.x) < len(np.unique(score))  # constant blocks compressed
    restored = IsotonicCalibrator.from_dict(calibrator.as_dict())
    assert np.array_equal(restored.predict(probe), calibrator.predict(probe))


def test_expected_confusion_and_auc_match_brute_force_enumeration():
    # Enumerate all 2^7 labellings with their probabilities: the textbook definition.
    p = np.array([0.9, 0.7, 0.7, 0.4, 0.3, 0.2, 0.05])
    score = np.array([0.8, 0.6, 0.6, 0.5, 0.5, 0.3, 0.1])
    pred = score >= 0.55
    e_tp = e_wins = e_pairs = 0.0
    for labels in itertools.product([0, 1], repeat=len(p)):
        y = np.array(labels)
        weight = np.prod(np.where(y == 1, p, 1 - p))
        e_tp += weight * np.sum(y & pred)
        pos, neg = score[y == 1], score[y == 0]
        wins = np.sum(pos[:, None] > neg[None, :]) + 0.5 * np.sum(pos[:, None] == neg[None, :])
        e_wins += weight * wins
        e_pairs += weight * len(pos) * len(neg)
    assert expected_confusion(p, pred).tp == pytest.approx(e_tp)
    assert expected_roc_auc(p, score) == pytest.approx(e_wins / e_pairs)


def test_estimated_accuracy_tracks_realised_accuracy_under_covariate_shift():
    mae = simulate_estimation_error(seed=42, n_windows=50, window_size=10_000)
    print(f"label-free estimation MAE (accuracy, 50 windows x 10k rows): {mae:.4f}")
    assert mae <= 0.005


def test_other_estimated_metrics_track_their_realised_values():
    rng = np.random.default_rng(8)
    calibrator = fit_calibrator(*_draw(rng, 50_000, np.zeros(2)))
    errors: dict[str, list[float]] = {"precision": [], "recall": [], "f1": [], "roc_auc": []}
    for _ in range(15):
        score, y = _draw(rng, 10_000, rng.normal(0.0, 0.5, size=2))
        est = estimate_performance(calibrator, score, n_simulations=0).metrics
        prf = precision_recall_f1(y, score >= 0.5, positive_label=True)
        realised = {"precision": prf.precision, "recall": prf.recall, "f1": prf.f1}
        realised["roc_auc"] = roc_auc(y, score)
        for name, values in errors.items():
            values.append(abs(est[name].value - realised[name]))
    for name, values in errors.items():
        assert np.mean(values) < 0.008, name


def test_standard_errors_match_the_spread_of_realised_metrics():
    # Oracle: hold the window's rows fixed, redraw labels from the calibrated probabilities many
    # times, and measure how much each realised metric actually scatters.
    rng = np.random.default_rng(3)
    score = rng.beta(2, 2, size=4000)
    calibrator = IsotonicCalibrator(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    est = estimate_performance(calibrator, score, n_simulations=400, seed=9).metrics
    pred = score >= 0.5
    realised: dict[str, list[float]] = {
        name: [] for name in ("accuracy", "precision", "recall", "f1", "roc_auc")
    }
    for _ in range(1000):
        y = rng.random(4000) < score
        prf = precision_recall_f1(y, pred, positive_label=True)
        realised["accuracy"].append(accuracy(y, pred))
        realised["precision"].append(prf.precision)
        realised["recall"].append(prf.recall)
        realised["f1"].append(prf.f1)
        realised["roc_auc"].append(roc_auc(y, score, positive_label=True))
    for name, values in realised.items():
        assert est[name].standard_error == pytest.approx(np.std(values), rel=0.1), name
        assert est[name].value == pytest.approx(np.mean(values), abs=0.002), name


def test_a_change_of_p_y_given_x_is_invisible_to_the_estimate():
    # The documented limitation: label-free estimation assumes P(y | x) is fixed. When it moves,
    # the estimate keeps its covariate-shift answer and the realised accuracy falls out of the band.
    rng = np.random.default_rng(4)
    calibrator = fit_calibrator(*_draw(rng, 50_000, np.zeros(2)))
    score, y = _draw(rng, 10_000, np.zeros(2), concept_shift=-2.0)
    acc = estimate_performance(calibrator, score).metrics["accuracy"]
    assert not acc.low <= accuracy(y, score >= 0.5) <= acc.high


def test_empty_and_one_sided_windows_give_reasons():
    calibrator = IsotonicCalibrator(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    empty = estimate_performance(calibrator, [])
    assert {m.reason for m in empty.metrics.values()} == {"empty window"}
    no_positive_predictions = estimate_performance(calibrator, [0.1, 0.2, 0.3])
    assert no_positive_predictions.metrics["precision"].reason == "no positive predictions"
    assert no_positive_predictions.metrics["accuracy"].value == pytest.approx(0.8)
    certain = estimate_performance(IsotonicCalibrator(np.array([0.0]), np.array([1.0])), [0.7, 0.9])
    assert certain.metrics["roc_auc"].reason == "one class has no expected mass"
    with pytest.raises(ValueError):
        fit_calibrator([], [])


def test_predicted_labels_can_be_strings():
    calibrator = IsotonicCalibrator(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    scores = [0.9, 0.8, 0.4, 0.1]
    named = estimate_performance(calibrator, scores, ["fraud", "fraud", "ok", "ok"], positive_label="fraud")
    assert named.metrics["accuracy"].value == pytest.approx(
        estimate_performance(calibrator, scores).metrics["accuracy"].value
    )
