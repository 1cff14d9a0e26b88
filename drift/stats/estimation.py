"""Label-free performance estimation for binary classifiers (confidence-based, like CBPE).

Labels often arrive days after predictions. If the model's scores, once calibrated, are right
about P(y = 1 | score), and only P(x) drifts (covariate shift, P(y | x) fixed), then a window's
confusion matrix can be estimated before its labels exist:

1. On the reference (scores with labels) fit a monotone map score -> P(y = 1) by isotonic
   regression (``fit_calibrator``; SciPy's pool-adjacent-violators ``isotonic_regression``).
2. On a window, calibrated p_i and predicted labels give the expected confusion matrix:
   E[TP] = sum of p_i over predicted positives, E[FP] = sum of (1 - p_i) over them, and so on.
   Accuracy, precision, recall and F1 follow from those expected counts; the expected ROC AUC
   weighs every (row i, row j) pair by p_i (1 - p_j).

Sampling error: given the window's rows, the realised labels are independent Bernoulli(p_i), so
the realised metric scatters around the estimate even when the estimate is perfect. With
A = TP and B = FN (independent sums), V_A = sum over predicted positives of p (1 - p), V_B the
same over predicted negatives, and PP the number of predicted positives:

    SE(accuracy)  = sqrt(V_A + V_B) / n                          (exact)
    SE(precision) = sqrt(V_A) / PP                               (exact)
    SE(recall)    = sqrt(B^2 V_A + A^2 V_B) / (A + B)^2          (delta method)
    SE(F1)        = 2 sqrt((B + PP)^2 V_A + A^2 V_B) / (A + B + PP)^2   (delta method)
    SE(ROC AUC)   = spread of the AUC over seeded Bernoulli(p_i) label draws (Monte Carlo)

The band is the estimate +- ``z`` SE (default 3, the CBPE convention, so a realised value outside
it is rarely noise). It does not include the calibrator's own error, which shrinks with the
reference size, nor any change of P(y | x): that is concept drift, which only labels can show.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref_scores = rng.random(20_000)
    >>> ref_labels = (rng.random(20_000) < ref_scores).astype(int)  # calibrated scores
    >>> calibrator = fit_calibrator(ref_scores, ref_labels)
    >>> window = rng.random(5_000) ** 0.5  # covariate shift towards high scores
    >>> est = estimate_performance(calibrator, window)
    >>> round(est.metrics["accuracy"].value, 2)  # E[max(s, 1 - s)] for density 2s is 0.75
    0.75
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import isotonic_regression
from scipy.stats import rankdata

# Simulated labels held in memory at once (float32 cells) when estimating the AUC's error.
_SIM_CELLS = 4_000_000


@dataclass(frozen=True, eq=False)
class IsotonicCalibrator:
    """Monotone map from score to P(y = 1): linear interpolation between ``x`` -> ``y`` knots,
    constant beyond the ends (scikit-learn's ``out_of_bounds="clip"``)."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]

    def predict(self, scores: ArrayLike) -> NDArray[np.float64]:
        """Calibrated probabilities for ``scores``."""
        return np.asarray(np.interp(np.asarray(scores, dtype=float), self.x, self.y), dtype=np.float64)

    def as_dict(self) -> dict[str, list[float]]:
        """JSON-ready form, to store with the reference profile."""
        return {"x": self.x.tolist(), "y": self.y.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, list[float]]) -> IsotonicCalibrator:
        return cls(np.asarray(data["x"], dtype=float), np.asarray(data["y"], dtype=float))


@dataclass(frozen=True)
class ExpectedConfusion:
    tp: float
    fp: float
    fn: float
    tn: float


@dataclass(frozen=True)
class EstimatedMetric:
    """An estimated metric: ``value`` +- ``z`` * ``standard_error``, clipped to [0, 1]."""

    value: float | None
    standard_error: float | None = None
    low: float | None = None
    high: float | None = None
    reason: str | None = None


@dataclass(frozen=True)
class EstimatedPerformance:
    n: int
    confusion: ExpectedConfusion
    metrics: dict[str, EstimatedMetric]


def fit_calibrator(scores: ArrayLike, labels: ArrayLike, *, positive_label: object = 1) -> IsotonicCalibrator:
    """Fit an increasing isotonic regression of the 0/1 outcome on the score.

    Tied scores are pooled first (their mean label, weighted by count), as scikit-learn does.
    Only the ends of each constant block are kept as knots: interpolation is unchanged and a
    100k-row reference compresses to a few hundred knots.

    Example:
        >>> cal = fit_calibrator([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1])
        >>> cal.predict([0.1, 0.25, 0.4]).tolist()
        [0.0, 0.5, 1.0]
    """
    s = np.asarray(scores, dtype=float)
    y = (np.asarray(labels) == positive_label).astype(float)
    if len(s) == 0:
        raise ValueError("cannot calibrate on an empty reference")
    values, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    means = np.bincount(inverse, weights=y) / counts
    fitted = isotonic_regression(means, weights=counts.astype(float), increasing=True).x
    changes = np.diff(fitted) != 0
    keep = np.ones(len(values), dtype=bool)
    keep[1:-1] = changes[:-1] | changes[1:]
    return IsotonicCalibrator(values[keep], fitted[keep])


def expected_confusion(probs: ArrayLike, y_pred: ArrayLike) -> ExpectedConfusion:
    """Expected confusion counts from calibrated probabilities and predicted 0/1 labels.

    Example:
        >>> cm = expected_confusion([0.75, 0.25, 0.5], [1, 0, 0])
        >>> cm.tp, cm.fp, cm.fn, cm.tn
        (0.75, 0.25, 0.75, 1.25)
    """
    p, pos = np.asarray(probs, dtype=float), np.asarray(y_pred).astype(bool)
    return ExpectedConfusion(
        tp=float(p[pos].sum()),
        fp=float((1 - p[pos]).sum()),
        fn=float(p[~pos].sum()),
        tn=float((1 - p[~pos]).sum()),
    )


def expected_roc_auc(probs: ArrayLike, scores: ArrayLike) -> float:
    """ROC AUC expected when each row is positive with probability p_i, independently.

    Ratio of expectations: sum over pairs i != j of p_i (1 - p_j) [s_i > s_j] (ties count 1/2),
    over sum over pairs i != j of p_i (1 - p_j). NaN when either class has zero expected mass.

    Example:
        >>> expected_roc_auc([1.0, 0.0, 1.0, 0.0], [0.9, 0.1, 0.8, 0.2])  # certain labels
        1.0
    """
    p, s = np.asarray(probs, dtype=float), np.asarray(scores, dtype=float)
    values, codes = np.unique(s, return_inverse=True)
    k = len(values)
    pos = np.bincount(codes, weights=p, minlength=k)
    neg = np.bincount(codes, weights=1 - p, minlength=k)
    # A row cannot pair with itself: drop its p(1 - p) from the ties and from the pair count.
    self_pairs = float(np.sum(p * (1 - p)))
    wins = float(np.sum(pos * (np.cumsum(neg) - neg + 0.5 * neg))) - 0.5 * self_pairs
    pairs = float(pos.sum() * neg.sum()) - self_pairs
    return wins / pairs if pairs > 0 else float("nan")


def _metric(value: float, se: float, z: float, why: str) -> EstimatedMetric:
    if not np.isfinite(value):
        return EstimatedMetric(None, reason=why)
    if not np.isfinite(se):
        return EstimatedMetric(value)
    return EstimatedMetric(value, se, max(0.0, value - z * se), min(1.0, value + z * se))


def _auc_standard_error(probs: NDArray[Any], scores: NDArray[Any], n_simulations: int, seed: int) -> float:
    # Scores are fixed within the window, so their mid-ranks are too: each simulated labelling's
    # AUC is the Mann-Whitney (sum of positive ranks - P(P + 1)/2) / (P N), one matrix product.
    n = len(probs)
    ranks = rankdata(scores).astype(np.float32)
    rng = np.random.default_rng(seed)
    batch = max(1, _SIM_CELLS // n)  # bounds memory on million-row windows
    n_pos, rank_sums = [], []
    for start in range(0, n_simulations, batch):
        size = min(batch, n_simulations - start)
        labels = (rng.random((size, n), dtype=np.float32) < probs).astype(np.float32)
        n_pos.append(labels.sum(axis=1, dtype=np.float64))
        rank_sums.append(labels @ ranks)
    pos, sums = np.concatenate(n_pos), np.concatenate(rank_sums)
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = (sums - pos * (pos + 1) / 2) / (pos * (n - pos))
    draws = draws[np.isfinite(draws)]
    return float(np.std(draws, ddof=1)) if len(draws) > 1 else float("nan")


def estimate_performance(
    calibrator: IsotonicCalibrator,
    scores: ArrayLike,
    y_pred: ArrayLike | None = None,
    *,
    threshold: float = 0.5,
    positive_label: object = 1,
    z: float = 3.0,
    n_simulations: int = 200,
    seed: int = 0,
) -> EstimatedPerformance:
    """Estimate accuracy, precision, recall, F1 and ROC AUC of a window without labels.

    ``y_pred`` are the model's predicted labels (positive when equal to ``positive_label``);
    without them, ``scores >= threshold``.
    ``n_simulations`` label draws give the AUC's standard error (0 skips it).

    Example:
        >>> cal = IsotonicCalibrator(np.array([0.0, 1.0]), np.array([0.0, 1.0]))  # identity
        >>> est = estimate_performance(cal, [0.9, 0.8, 0.4, 0.1])
        >>> round(est.metrics["accuracy"].value, 4), round(est.metrics["precision"].value, 4)
        (0.8, 0.85)
    """
    s = np.asarray(scores, dtype=float)
    pred = (s >= threshold) if y_pred is None else np.asarray(y_pred) == positive_label
    n = len(s)
    if n == 0:
        empty = EstimatedMetric(None, reason="empty window")
        names = ("accuracy", "precision", "recall", "f1", "roc_auc")
        return EstimatedPerformance(0, ExpectedConfusion(0, 0, 0, 0), dict.fromkeys(names, empty))
    p = calibrator.predict(s)
    cm = expected_confusion(p, pred)
    var = p * (1 - p)
    va, vb = float(var[pred].sum()), float(var[~pred].sum())
    a, b, pp = cm.tp, cm.fn, float(pred.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        d = a + b + pp
        metrics = {
            "accuracy": _metric((cm.tp + cm.tn) / n, np.sqrt(va + vb) / n, z, ""),
            "precision": _metric(
                a / pp if pp else np.nan, np.sqrt(va) / pp if pp else np.nan, z, "no positive predictions"
            ),
            "recall": _metric(
                a / (a + b) if a + b else np.nan,
                np.sqrt(b * b * va + a * a * vb) / (a + b) ** 2 if a + b else np.nan,
                z,
                "no expected positives",
            ),
            "f1": _metric(
                2 * a / d if d else np.nan,
                2 * np.sqrt((b + pp) ** 2 * va + a * a * vb) / d**2 if d else np.nan,
                z,
                "no expected positives and no positive predictions",
            ),
        }
    auc = expected_roc_auc(p, s)
    auc_se = _auc_standard_error(p, s, n_simulations, seed) if n_simulations and np.isfinite(auc) else np.nan
    metrics["roc_auc"] = _metric(auc, auc_se, z, "one class has no expected mass")
    return EstimatedPerformance(n, cm, metrics)
