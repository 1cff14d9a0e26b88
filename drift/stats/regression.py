"""Realised performance of regression models once targets have arrived.

Same conventions as ``performance.py``: kernels reduce over the last axis (so they bootstrap),
undefined values are NaN in the scalar functions and ``Metric(None, reason)`` in the report.

Example:
    >>> r = regression_performance([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], n_resamples=0)
    >>> round(r["rmse"].value, 4), r["r2"].value
    (0.5774, 0.5)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drift.stats.bootstrap import DEFAULT_RESAMPLES
from drift.stats.performance import _EMPTY, Metric, _ratio, _report


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error; NaN for an empty window.

    Example:
        >>> mae([1, 2], [2, 4])
        1.5
    """
    t, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    return float(np.mean(np.abs(t - p), axis=-1)) if t.size else float("nan")


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error; NaN for an empty window.

    Example:
        >>> round(rmse([0, 0], [3, 4]), 4)  # sqrt((9 + 16) / 2)
        3.5355
    """
    t, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    return float(np.sqrt(np.mean((t - p) ** 2, axis=-1))) if t.size else float("nan")


def _mape(t: NDArray[Any], p: NDArray[Any]) -> NDArray[np.float64]:
    nz = t != 0
    err = np.abs(t - p) / np.where(nz, np.abs(t), 1.0)
    return _ratio(np.where(nz, err, 0.0).sum(axis=-1), nz.sum(axis=-1))


def mape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute percentage error as a fraction (0.1 = 10 %), over rows with a non-zero target.

    Rows whose target is exactly zero have no defined percentage error and are excluded (rather
    than scikit-learn's division by machine epsilon, which lets one zero target dominate); NaN
    when every target is zero. The report counts the excluded rows.

    Example:
        >>> mape([0.0, 2.0, 4.0], [1.0, 1.0, 5.0])
        0.375
    """
    return float(_mape(np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)))


def _r2(t: NDArray[Any], p: NDArray[Any]) -> NDArray[np.float64]:
    ss_res = ((t - p) ** 2).sum(axis=-1)
    ss_tot = ((t - t.mean(axis=-1, keepdims=True)) ** 2).sum(axis=-1)
    return 1.0 - _ratio(ss_res, ss_tot)


def r2(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Coefficient of determination 1 - SS_res / SS_tot; NaN for a constant target.

    Example:
        >>> r2([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
        0.5
    """
    return float(_r2(np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)))


def regression_performance(
    y_true: ArrayLike, y_pred: ArrayLike, *, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> dict[str, Metric]:
    """MAE, RMSE, MAPE (zero targets excluded and counted in its ``reason``) and R².

    Example:
        >>> r = regression_performance([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], n_resamples=0)
        >>> round(r["mae"].value, 4), r["r2"].value
        (0.3333, 0.5)
    """
    t, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if len(t) == 0:
        return {n: Metric(None, _EMPTY) for n in ("mae", "rmse", "mape", "r2")}
    out = _report(
        {
            "mae": (lambda a, b: np.mean(np.abs(a - b), axis=-1), (t, p), _EMPTY),
            "rmse": (lambda a, b: np.sqrt(np.mean((a - b) ** 2, axis=-1)), (t, p), _EMPTY),
            "mape": (_mape, (t, p), "all targets are zero"),
            "r2": (_r2, (t, p), "constant target"),
        },
        n_resamples,
        seed,
    )
    zeros = int((t == 0).sum())
    if zeros and out["mape"].value is not None:
        out["mape"] = Metric(out["mape"].value, f"{zeros} zero targets excluded", out["mape"].ci)
    return out
