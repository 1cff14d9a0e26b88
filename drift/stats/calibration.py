"""Calibration: does a predicted probability of 0.8 come true 80 % of the time?

Rows are binned by predicted probability, either on uniform edges (0, 0.1, ..., 1) or on
quantile edges (equal-count bins, steadier when scores bunch up). Per bin the reliability curve
compares the mean prediction with the observed positive rate. The expected calibration error
(ECE, Naeini et al. 2015; Guo et al. 2017) is the count-weighted mean gap,
ECE = sum_b (n_b / n) |observed_b - predicted_b|, and the maximum calibration error (MCE) is the
largest gap over non-empty bins. Bin membership follows scikit-learn's ``calibration_curve``:
bins are [e_b, e_b+1) except the last, which is closed.

For multiclass models, ``top_label`` turns (label, probability matrix) into (was the top class
right, its probability) and the same functions give the top-label ECE of Guo et al.

Example:
    >>> y = [0, 0, 1, 1, 1]
    >>> p = [0.1, 0.3, 0.7, 0.9, 0.9]
    >>> err = calibration_error(y, p, n_bins=2)
    >>> # bin [0, 0.5): mean 0.2 vs rate 0, gap 0.2; bin [0.5, 1]: mean 0.8333 vs 1, gap 0.1667
    >>> round(err.ece, 4), round(err.mce, 4)  # (2 * 0.2 + 3 * 0.1667) / 5 = 0.18
    (0.18, 0.2)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drift.stats.performance import encode

#: Segments smaller than this get no calibration numbers: with ~3 rows per bin the ECE is noise.
DEFAULT_MIN_SEGMENT_SIZE = 30


@dataclass(frozen=True)
class ReliabilityCurve:
    """Per bin: edges, row count, mean predicted probability and observed rate (None if empty)."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    mean_predicted: tuple[float | None, ...]
    observed_rate: tuple[float | None, ...]


@dataclass(frozen=True)
class CalibrationError:
    """ECE and MCE over ``n`` rows; both None when ``reason`` says the sample cannot be judged."""

    ece: float | None
    mce: float | None
    n: int
    reason: str | None = None


def bin_edges(prob: ArrayLike, *, n_bins: int = 10, strategy: str = "uniform") -> NDArray[np.float64]:
    """``n_bins + 1`` edges: uniform on [0, 1] or quantiles of ``prob``.

    Example:
        >>> bin_edges([0.2, 0.4, 0.6, 0.8], n_bins=2, strategy="quantile").tolist()
        [0.2, 0.5, 0.8]
    """
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    if strategy == "quantile":
        p = np.asarray(prob, dtype=float)
        return np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1)) if len(p) else np.linspace(0, 1, n_bins + 1)
    raise ValueError(f"unknown strategy {strategy!r}")


def _binned(
    y_true: ArrayLike, prob: ArrayLike, edges: NDArray[Any], positive_label: object
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    """Per-bin row counts, sums of predictions and sums of outcomes."""
    y = (np.asarray(y_true) == positive_label).astype(float)
    p = np.asarray(prob, dtype=float)
    k = len(edges) - 1
    idx = np.searchsorted(edges[1:-1], p, side="right")
    return (
        np.bincount(idx, minlength=k),
        np.bincount(idx, weights=p, minlength=k),
        np.bincount(idx, weights=y, minlength=k),
    )


def reliability_curve(
    y_true: ArrayLike,
    prob: ArrayLike,
    *,
    n_bins: int = 10,
    strategy: str = "uniform",
    edges: ArrayLike | None = None,
    positive_label: object = 1,
) -> ReliabilityCurve:
    """Reliability diagram data; pass ``edges`` to reuse the reference's (or overall) bins.

    Example:
        >>> curve = reliability_curve([0, 1, 1, 1], [0.2, 0.4, 0.8, 0.9], n_bins=2)
        >>> curve.observed_rate, curve.counts
        ((0.5, 1.0), (2, 2))
    """
    e = bin_edges(prob, n_bins=n_bins, strategy=strategy) if edges is None else np.asarray(edges, float)
    counts, sum_p, sum_y = _binned(y_true, prob, e, positive_label)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_p, rate = sum_p / counts, sum_y / counts
    return ReliabilityCurve(
        edges=tuple(float(v) for v in e),
        counts=tuple(int(c) for c in counts),
        mean_predicted=tuple(float(v) if c else None for v, c in zip(mean_p, counts, strict=True)),
        observed_rate=tuple(float(v) if c else None for v, c in zip(rate, counts, strict=True)),
    )


def calibration_error(
    y_true: ArrayLike,
    prob: ArrayLike,
    *,
    n_bins: int = 10,
    strategy: str = "uniform",
    edges: ArrayLike | None = None,
    positive_label: object = 1,
) -> CalibrationError:
    """Expected and maximum calibration error of positive-class probabilities.

    Example:
        >>> calibration_error([1, 0], [0.5, 0.5], n_bins=2)
        CalibrationError(ece=0.0, mce=0.0, n=2, reason=None)
    """
    e = bin_edges(prob, n_bins=n_bins, strategy=strategy) if edges is None else np.asarray(edges, float)
    counts, sum_p, sum_y = _binned(y_true, prob, e, positive_label)
    n = int(counts.sum())
    if n == 0:
        return CalibrationError(None, None, 0, "empty window")
    filled = counts > 0
    gaps = np.abs(sum_y[filled] - sum_p[filled]) / counts[filled]
    return CalibrationError(float(np.sum(counts[filled] * gaps) / n), float(gaps.max()), n)


def calibration_by_segment(
    y_true: ArrayLike,
    prob: ArrayLike,
    segments: ArrayLike,
    *,
    n_bins: int = 10,
    strategy: str = "uniform",
    min_size: int = DEFAULT_MIN_SEGMENT_SIZE,
    positive_label: object = 1,
) -> dict[str, CalibrationError]:
    """Calibration error per segment value, on bins shared by all segments.

    Quantile edges come from all rows, so every segment is measured on the same bins. Segments
    with fewer than ``min_size`` rows are reported as too small rather than given numbers.

    Example:
        >>> seg = ["a"] * 40 + ["b"] * 5
        >>> out = calibration_by_segment([1] * 45, [0.9] * 45, seg)
        >>> round(out["a"].ece, 4), out["b"].reason
        (0.1, 'too small to judge (5 < 30 rows)')
    """
    y, p, s = np.asarray(y_true), np.asarray(prob, dtype=float), np.asarray(segments)
    edges = bin_edges(p, n_bins=n_bins, strategy=strategy)
    out: dict[str, CalibrationError] = {}
    for value in np.unique(s):
        rows = s == value
        size = int(rows.sum())
        if size < min_size:
            out[str(value)] = CalibrationError(
                None, None, size, f"too small to judge ({size} < {min_size} rows)"
            )
        else:
            out[str(value)] = calibration_error(y[rows], p[rows], edges=edges, positive_label=positive_label)
    return out


def top_label(
    y_true: ArrayLike, proba: ArrayLike, labels: ArrayLike
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """(top class is the label, top-class probability) for an ``(n, k)`` probability matrix
    whose columns follow ``labels``; feed them to the functions above with
    ``positive_label=True``.

    Example:
        >>> correct, confidence = top_label(["a", "b"], [[0.7, 0.3], [0.6, 0.4]], ["a", "b"])
        >>> correct.tolist(), confidence.tolist()
        ([True, False], [0.7, 0.6])
    """
    q = np.asarray(proba, dtype=float)
    top = np.argmax(q, axis=1)
    return encode(y_true, labels) == top, q[np.arange(len(q)), top]
