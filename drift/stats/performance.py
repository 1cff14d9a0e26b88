"""Realised model performance once labels have arrived.

Every metric kernel reduces over the last axis, so the same code gives the point estimate (1-D
input) and the bootstrap replicates (``(B, m)`` resampled rows, see ``bootstrap.py``). Undefined
metrics (empty window, one class only, no positive predictions, ...) are NaN in the scalar
functions and ``Metric(value=None, reason=...)`` in the reports; data never makes them raise.

Example:
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1])
    >>> s = np.array([0.1, 0.4, 0.35, 0.8])
    >>> roc_auc(y, s)
    0.75
    >>> report = binary_classification_performance(y, (s >= 0.5).astype(int), s, n_resamples=0)
    >>> report["accuracy"].value, report["recall"].value
    (0.75, 0.5)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drift.stats.bootstrap import DEFAULT_MAX_ROWS, DEFAULT_RESAMPLES, ConfidenceInterval, bootstrap_many

# Probabilities are clipped before the logarithm so a confident mistake costs ~34.5 nats, not inf.
_LOG_EPS = 1e-15
_EMPTY = "empty window"


@dataclass(frozen=True)
class Metric:
    """One metric for one window.

    ``value`` is None when the metric is undefined; ``reason`` then says why. A defined value may
    also carry a ``reason`` as a caveat (e.g. MAPE's excluded zero targets).
    """

    value: float | None
    reason: str | None = None
    ci: ConfidenceInterval | None = None


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts with rows = true label and columns = predicted label, both in ``labels`` order."""

    labels: tuple[object, ...]
    counts: tuple[tuple[int, ...], ...]

    @property
    def array(self) -> NDArray[np.int64]:
        k = len(self.labels)
        return np.array(self.counts, dtype=np.int64).reshape(k, k)


@dataclass(frozen=True)
class PrecisionRecallF1:
    precision: float
    recall: float
    f1: float


# --- vectorised kernels (reduce over the last axis) ------------------------------------------


def _ratio(num: NDArray[Any], den: NDArray[Any]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _finite_mean(stack: NDArray[Any], axis: int = 0) -> NDArray[np.float64]:
    """Mean over ``axis`` ignoring NaN, NaN where nothing is finite (nanmean without the warning)."""
    ok = np.isfinite(stack)
    return _ratio(np.where(ok, stack, 0.0).sum(axis=axis), ok.sum(axis=axis))


def _prf(t: NDArray[np.bool_], p: NDArray[np.bool_]) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    tp = (t & p).sum(axis=-1)
    fp = (~t & p).sum(axis=-1)
    fn = (t & ~p).sum(axis=-1)
    return _ratio(tp, tp + fp), _ratio(tp, tp + fn), _ratio(2 * tp, 2 * tp + fp + fn)


def _macro_prf(ti: NDArray[Any], pi: NDArray[Any], k: int) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    per_class = [_prf(ti == c, pi == c) for c in range(k)]
    prec, rec, f1 = (np.stack(v) for v in zip(*per_class, strict=True))
    return _finite_mean(prec), _finite_mean(rec), _finite_mean(f1)


def _auc_from_codes(
    codes: NDArray[np.intp], pos_w: NDArray[Any], neg_w: NDArray[Any], n_codes: int
) -> NDArray[np.float64]:
    """Mann-Whitney AUC from dense score ranks ``codes`` (0 = lowest score), last axis.

    ``pos_w``/``neg_w`` are each row's weight as a positive/negative: 0/1 labels for the realised
    AUC, calibrated p and 1 - p for the expected AUC in ``estimation.py``. Counting per distinct
    score (a bincount, not a sort) is what keeps hundreds of bootstrap replicates cheap.
    Ties count one half, the Mann-Whitney convention.
    """
    lead = codes.shape[:-1]
    rows = int(np.prod(lead, dtype=np.int64))
    flat = (np.arange(rows).reshape(*lead, 1) * n_codes + codes).ravel()
    size = rows * n_codes
    pos = np.bincount(flat, np.broadcast_to(pos_w, codes.shape).ravel(), size).reshape(rows, -1)
    neg = np.bincount(flat, np.broadcast_to(neg_w, codes.shape).ravel(), size).reshape(rows, -1)
    neg_below = np.cumsum(neg, axis=1) - neg
    wins = (pos * (neg_below + 0.5 * neg)).sum(axis=1)
    auc = _ratio(wins, pos.sum(axis=1) * neg.sum(axis=1))
    return auc.reshape(lead) if lead else auc[0]


def _auc_by_sorting(codes: NDArray[Any], y: NDArray[Any]) -> NDArray[np.float64]:
    """Mann-Whitney AUC of 0/1 labels ``y`` over the last axis, for many distinct scores.

    ``_auc_from_codes`` costs O(distinct scores) per resample; with a million distinct scores
    sorting each resample is cheaper. A tie between a positive and a negative counts 1/2, which
    equals the mean of the strict AUCs with ties broken for the positive and for the negative.
    """
    n = codes.shape[-1]
    n_pos = y.sum(axis=-1)
    positions = np.arange(1, n + 1, dtype=float)
    rank_sums = []
    for tie_break in (y, 1 - y):
        key = codes.astype(np.int64) * 2 + tie_break
        order = np.argsort(key, axis=-1)
        rank_sums.append(np.take_along_axis(y, order, axis=-1) @ positions)
    wins = (rank_sums[0] + rank_sums[1]) / 2 - n_pos * (n_pos + 1) / 2
    return _ratio(wins, n_pos * (n - n_pos))


def _logloss_binary(t: NDArray[Any], prob: NDArray[Any]) -> NDArray[np.float64]:
    q = np.clip(prob, _LOG_EPS, 1 - _LOG_EPS)
    return np.asarray(-np.mean(np.where(t, np.log(q), np.log1p(-q)), axis=-1), dtype=np.float64)


def _brier(t: NDArray[Any], prob: NDArray[Any]) -> NDArray[np.float64]:
    return np.asarray(np.mean((prob - t) ** 2, axis=-1), dtype=np.float64)


def _mean(terms: NDArray[Any]) -> NDArray[np.float64]:
    return np.asarray(np.mean(terms, axis=-1), dtype=np.float64)


def _negative_mean(terms: NDArray[Any]) -> NDArray[np.float64]:
    return np.asarray(-np.mean(terms, axis=-1), dtype=np.float64)


def _mean_equal(a: NDArray[Any], b: NDArray[Any]) -> NDArray[np.float64]:
    return np.asarray(np.mean(a == b, axis=-1), dtype=np.float64)


def encode(values: ArrayLike, labels: ArrayLike) -> NDArray[np.intp]:
    """Position of each value in ``labels`` (any order), -1 for values not listed.

    Example:
        >>> encode(["b", "z", "a"], ["b", "a"]).tolist()
        [0, -1, 1]
    """
    v, lab = np.asarray(values), np.asarray(labels)
    if len(lab) == 0:
        return np.full(len(v), -1, dtype=np.intp)
    order = np.argsort(lab, kind="stable")
    pos = np.clip(np.searchsorted(lab[order], v), 0, len(lab) - 1)
    return np.where(lab[order][pos] == v, order[pos], -1).astype(np.intp)


def _labels(t: NDArray[Any], p: NDArray[Any], labels: ArrayLike | None) -> NDArray[Any]:
    return np.unique(np.concatenate([t, p])) if labels is None else np.asarray(labels)


# --- public scalar metrics --------------------------------------------------------------------


def confusion_matrix(
    y_true: ArrayLike, y_pred: ArrayLike, labels: ArrayLike | None = None
) -> ConfusionMatrix:
    """Confusion matrix over ``labels`` (default: sorted union of both arrays).

    Rows whose label or prediction is not in ``labels`` are left out.

    Example:
        >>> confusion_matrix([0, 1, 1, 1], [0, 1, 0, 1]).counts
        ((1, 0), (1, 2))
    """
    t, p = np.asarray(y_true), np.asarray(y_pred)
    lab = _labels(t, p, labels)
    k = len(lab)
    ti, pi = encode(t, lab), encode(p, lab)
    keep = (ti >= 0) & (pi >= 0)
    counts = np.bincount(ti[keep] * k + pi[keep], minlength=k * k).reshape(k, k)
    return ConfusionMatrix(tuple(lab.tolist()), tuple(tuple(int(c) for c in row) for row in counts))


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Share of rows whose prediction equals the label; NaN for an empty window.

    Example:
        >>> accuracy([1, 0, 1, 1], [1, 0, 0, 1])
        0.75
    """
    t, p = np.asarray(y_true), np.asarray(y_pred)
    return float(_mean_equal(t, p)) if len(t) else float("nan")


def precision_recall_f1(
    y_true: ArrayLike, y_pred: ArrayLike, *, positive_label: object = 1, average: str = "binary"
) -> PrecisionRecallF1:
    """Precision, recall and F1; ``average`` is ``binary`` (for ``positive_label``) or ``macro``.

    Undefined ratios (no positive predictions, no positive labels) are NaN. The macro average runs
    over the classes present in either array and skips classes where the ratio is undefined
    (scikit-learn's ``zero_division=np.nan`` convention).

    Example:
        >>> r = precision_recall_f1([1, 1, 0, 0], [1, 0, 1, 0])
        >>> r.precision, r.recall, r.f1
        (0.5, 0.5, 0.5)
    """
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if average == "binary":
        values = _prf(t == positive_label, p == positive_label)
    elif average == "macro":
        lab = _labels(t, p, None)
        values = _macro_prf(encode(t, lab), encode(p, lab), len(lab))
    else:
        raise ValueError(f"unknown average {average!r}")
    return PrecisionRecallF1(*(float(v) for v in values))


def roc_auc(y_true: ArrayLike, score: ArrayLike, *, positive_label: object = 1) -> float:
    """Rank-based ROC AUC, U / (n_pos n_neg) with ties counting 1/2; NaN with one class only.

    Example:
        >>> roc_auc([0, 1, 0, 1], [0.2, 0.2, 0.1, 0.9])
        0.875
    """
    t, s = np.asarray(y_true) == positive_label, np.asarray(score, dtype=float)
    if len(s) == 0:
        return float("nan")
    values, codes = np.unique(s, return_inverse=True)
    return float(_auc_from_codes(codes, t.astype(float), (~t).astype(float), len(values)))


def log_loss(
    y_true: ArrayLike, proba: ArrayLike, *, positive_label: object = 1, labels: ArrayLike | None = None
) -> float:
    """Mean negative log-likelihood in nats.

    ``proba`` is the positive-class probability (1-D, binary) or an ``(n, k)`` matrix whose
    columns follow ``labels`` (default: sorted labels of ``y_true``). Probabilities are clipped
    to [1e-15, 1 - 1e-15]; a label missing from ``labels`` counts as probability 1e-15.

    Example:
        >>> round(log_loss([1, 0], [0.8, 0.4]), 4)
        0.367
    """
    t, q = np.asarray(y_true), np.asarray(proba, dtype=float)
    if len(t) == 0:
        return float("nan")
    if q.ndim == 1:
        return float(_logloss_binary(t == positive_label, q))
    col = encode(t, np.unique(t) if labels is None else labels)
    picked = np.where(col >= 0, q[np.arange(len(t)), np.maximum(col, 0)], 0.0)
    return float(-np.mean(np.log(np.clip(picked, _LOG_EPS, 1 - _LOG_EPS))))


def brier_score(y_true: ArrayLike, prob: ArrayLike, *, positive_label: object = 1) -> float:
    """Mean squared difference between the positive-class probability and the 0/1 outcome.

    Example:
        >>> brier_score([1, 0], [0.8, 0.4])
        0.1
    """
    t, q = np.asarray(y_true) == positive_label, np.asarray(prob, dtype=float)
    return float(_brier(t, q)) if len(q) else float("nan")


# --- reports with reasons and bootstrap intervals ---------------------------------------------

Kernel = Callable[..., NDArray[np.float64]]


def _report(
    specs: dict[str, tuple[Kernel, tuple[NDArray[Any], ...], str]], n_resamples: int, seed: int
) -> dict[str, Metric]:
    """Evaluate each ``name: (kernel, arrays, reason if undefined)``; bootstrap defined ones.

    All metrics share ``seed``, hence the same resampled rows: their intervals are coherent.
    """
    points: dict[str, float] = {}
    for name, (kernel, arrays, _) in specs.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            points[name] = float(kernel(*arrays))
    defined = {
        name: (kernel, arrays) for name, (kernel, arrays, _) in specs.items() if np.isfinite(points[name])
    }
    cis = bootstrap_many(defined, n_resamples=n_resamples, seed=seed) if n_resamples else {}
    return {
        name: Metric(points[name], None, cis.get(name)) if name in defined else Metric(None, why)
        for name, (_, _, why) in specs.items()
    }


def binary_classification_performance(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    score: ArrayLike | None = None,
    *,
    positive_label: object = 1,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> dict[str, Metric]:
    """Accuracy, precision, recall, F1 and, given scores, ROC AUC, log loss and Brier score.

    Each defined metric carries a seeded percentile bootstrap interval (``n_resamples=0`` skips
    them). Log loss and Brier need ``score`` to be a probability in [0, 1].

    Example:
        >>> binary_classification_performance([], [], n_resamples=0)["accuracy"]
        Metric(value=None, reason='empty window', ci=None)
    """
    t = np.asarray(y_true) == positive_label
    p = np.asarray(y_pred) == positive_label
    names = ["accuracy", "precision", "recall", "f1"]
    if len(t) == 0:
        names += ["roc_auc", "log_loss", "brier"] if score is not None else []
        return {name: Metric(None, _EMPTY) for name in names}
    specs: dict[str, tuple[Kernel, tuple[NDArray[Any], ...], str]] = {
        "accuracy": (_mean_equal, (t, p), _EMPTY),
        "precision": (lambda a, b: _prf(a, b)[0], (t, p), "no positive predictions"),
        "recall": (lambda a, b: _prf(a, b)[1], (t, p), "no positive labels"),
        "f1": (lambda a, b: _prf(a, b)[2], (t, p), "no positive labels or predictions"),
    }
    probabilistic = False
    if score is not None:
        s = np.asarray(score, dtype=float)
        values, codes = np.unique(s, return_inverse=True)
        tf = t.astype(float)
        resample_rows = min(len(s), DEFAULT_MAX_ROWS)
        auc_kernel: Kernel = (
            (lambda c, y: _auc_from_codes(c, y, 1 - y, len(values)))
            if len(values) <= resample_rows
            else _auc_by_sorting
        )
        specs["roc_auc"] = (auc_kernel, (codes, tf), "only one class present")
        probabilistic = bool(s.min() >= 0 and s.max() <= 1)
        if probabilistic:
            # Each row's term once, then only means per resample: the same numbers as evaluating the
            # logs and squares on every resample (500 x the rows), at a fraction of the cost.
            q = np.clip(s, _LOG_EPS, 1 - _LOG_EPS)
            log_terms = np.where(t, np.log(q), np.log1p(-q))
            specs["log_loss"] = (_negative_mean, (log_terms,), _EMPTY)
            specs["brier"] = (_mean, ((s - tf) ** 2,), _EMPTY)
    out = _report(specs, n_resamples, seed)
    if score is not None and not probabilistic:
        out["log_loss"] = out["brier"] = Metric(None, "scores are not probabilities in [0, 1]")
    return out


def multiclass_classification_performance(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    proba: ArrayLike | None = None,
    *,
    labels: ArrayLike | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> dict[str, Metric]:
    """Accuracy and macro precision/recall/F1; with ``proba`` (an ``(n, k)`` matrix whose columns
    follow ``labels``) also one-vs-rest macro ROC AUC and log loss, without intervals.

    Example:
        >>> r = multiclass_classification_performance(["a", "b", "c"], ["a", "b", "b"], n_resamples=0)
        >>> round(r["macro_f1"].value, 4)
        0.5556
    """
    t, p = np.asarray(y_true), np.asarray(y_pred)
    names = ("accuracy", "macro_precision", "macro_recall", "macro_f1")
    if len(t) == 0:
        return {n: Metric(None, _EMPTY) for n in names}
    lab = _labels(t, p, labels)
    k = len(lab)
    ti, pi = encode(t, lab), encode(p, lab)
    why = "no class has a defined value"
    specs: dict[str, tuple[Kernel, tuple[NDArray[Any], ...], str]] = {
        "accuracy": (_mean_equal, (t, p), _EMPTY),
        "macro_precision": (lambda a, b: _macro_prf(a, b, k)[0], (ti, pi), why),
        "macro_recall": (lambda a, b: _macro_prf(a, b, k)[1], (ti, pi), why),
        "macro_f1": (lambda a, b: _macro_prf(a, b, k)[2], (ti, pi), why),
    }
    out = _report(specs, n_resamples, seed)
    if proba is not None:
        q = np.asarray(proba, dtype=float)
        aucs = np.array([roc_auc(ti == c, q[:, c], positive_label=True) for c in range(k)])
        auc = float(_finite_mean(aucs))
        out["macro_roc_auc"] = Metric(auc) if np.isfinite(auc) else Metric(None, "one class only")
        out["log_loss"] = Metric(log_loss(t, q, labels=lab))
    return out
