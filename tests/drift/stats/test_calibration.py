"""Reliability curves and calibration errors vs hand-computed values and scikit-learn."""

import numpy as np
import pytest
from sklearn.calibration import calibration_curve

from drift.stats.calibration import (
    bin_edges,
    calibration_by_segment,
    calibration_error,
    reliability_curve,
    top_label,
)


def test_ece_and_mce_match_a_hand_computed_example():
    # Ten top-label predictions in the style of Guo et al. (2017), 5 uniform bins of width 0.2:
    #   [0.2, 0.4): 0.25, 0.35            -> mean 0.30, accuracy 1/2, gap 0.20
    #   [0.6, 0.8): 0.65, 0.70, 0.75      -> mean 0.70, accuracy 2/3, gap 0.0333
    #   [0.8, 1.0]: 0.85, 0.9, 0.9, 0.95, 1.0 -> mean 0.92, accuracy 4/5, gap 0.12
    # ECE = (2 * 0.20 + 3 * 0.0333 + 5 * 0.12) / 10 = 0.11; MCE = 0.20.
    conf = [0.25, 0.35, 0.65, 0.70, 0.75, 0.85, 0.9, 0.9, 0.95, 1.0]
    correct = [1, 0, 1, 1, 0, 1, 1, 1, 0, 1]
    err = calibration_error(correct, conf, n_bins=5)
    assert err.ece == pytest.approx(0.11)
    assert err.mce == pytest.approx(0.20)
    assert err.n == 10


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_reliability_curve_matches_sklearn(strategy):
    rng = np.random.default_rng(12)
    p = rng.beta(2, 5, size=4000)
    y = (rng.random(4000) < p**0.8).astype(int)
    curve = reliability_curve(y, p, n_bins=10, strategy=strategy)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy=strategy)
    filled = np.array(curve.counts) > 0
    assert np.allclose(np.array(curve.observed_rate, dtype=float)[filled], prob_true)
    assert np.allclose(np.array(curve.mean_predicted, dtype=float)[filled], prob_pred)
    if strategy == "quantile":
        assert max(curve.counts) - min(curve.counts) <= 1


def test_ece_recovers_a_known_miscalibration():
    # Predictions q ~ U(0, 1) whose true rate is q^2: the gap q - q^2 is never negative, so the
    # binned ECE equals E[q - q^2] = 1/2 - 1/3 = 1/6 whatever the bins.
    rng = np.random.default_rng(0)
    q = rng.random(200_000)
    y = rng.random(200_000) < q**2
    assert calibration_error(y, q, positive_label=True).ece == pytest.approx(1 / 6, abs=0.005)
    calibrated = rng.random(200_000) < q
    assert calibration_error(calibrated, q, positive_label=True, strategy="quantile").ece < 0.01


def test_segments_share_bins_and_small_segments_are_not_judged():
    rng = np.random.default_rng(5)
    p = rng.random(3000)
    segment = rng.choice(["north", "south", "tiny"], size=3000, p=[0.6, 0.39, 0.01])
    # South's outcomes follow p^2 (miscalibrated), north's follow p (calibrated).
    y = np.where(segment == "south", rng.random(3000) < p**2, rng.random(3000) < p).astype(int)
    out = calibration_by_segment(y, p, segment, strategy="quantile", min_size=50)
    edges = bin_edges(p, strategy="quantile")
    north = segment == "north"
    assert out["north"] == calibration_error(y[north], p[north], edges=edges)
    assert out["south"].ece > out["north"].ece + 0.08
    assert out["tiny"].ece is None and out["tiny"].reason.startswith("too small to judge")


def test_top_label_gives_multiclass_confidence_and_correctness():
    labels = ["cat", "dog", "owl"]
    proba = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]])
    correct, conf = top_label(["cat", "dog", "dog"], proba, labels)
    assert correct.tolist() == [True, False, False]
    assert conf.tolist() == [0.6, 0.6, 0.5]
    err = calibration_error(correct, conf, n_bins=2, positive_label=True)
    assert err.ece == pytest.approx(abs(1 / 3 - (0.6 + 0.6 + 0.5) / 3))


def test_empty_input_gives_a_reason():
    assert calibration_error([], []).reason == "empty window"
    assert reliability_curve([], []).counts == (0,) * 10
