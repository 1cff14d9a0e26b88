"""Realised performance with labels and estimated performance without them. Pure.

Realised: `drift.stats.performance` (or `regression`) on the window's labelled reservoir, with
bootstrap intervals narrowed to the whole window's labelled count, and exact values where the label
fragments' counts give them (accuracy, precision, recall, F1; MAE, RMSE); a metric "degraded" when its
whole interval is worse than the reference's value.
Estimated (binary classifiers): the reference's isotonic calibrator applied to the window's scores
(`drift.stats.estimation`), compared with the reference's realised values the same way.
Business value (from the model's value of tp / fp / tn / fn) comes from the exact confusion counts.

Example:
    >>> out = business_value({"tp": 10.0, "fp": -5.0}, "EUR", {"1": {"1": 3, "0": 1}, "0": {"0": 4}}, "1")
    >>> out["per_prediction"], out["counts"]
    (3.125, {'tp': 3, 'fp': 1, 'tn': 4, 'fn': 0})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from drift.engine.context import (
    NO_DATA,
    NOT_APPLICABLE,
    OK,
    WindowInput,
    column,
    positive_label,
    section,
    skipped,
)
from drift.engine.label_sketch import LABEL, PREDICTION, SCORE
from drift.stats import estimation, performance, regression

N_RESAMPLES = 200
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "mae", "rmse", "mape"})
# A rate (accuracy, AUC, ...) must move 2 points, an error metric 5 % of its reference value.
MATERIAL_ABSOLUTE = 0.02
MATERIAL_RELATIVE = 0.05
BINARY, MULTICLASS, REGRESSION = "binary_classification", "multiclass_classification", "regression"


def confusion_counts(confusion: Mapping[str, Mapping[str, int]], pos: str) -> dict[str, int]:
    """tp / fp / tn / fn from ``{prediction: {label: count}}``."""
    out = {"tp": 0, "fp": 0, "tn": 0, "fn": 0}
    for pred, row in confusion.items():
        for label, count in row.items():
            key = ("t" if (pred == pos) == (label == pos) else "f") + ("p" if pred == pos else "n")
            out[key] += int(count)
    return out


def business_value(
    values: Mapping[str, float | None], currency: str, confusion: Mapping[str, Mapping[str, int]], pos: str
) -> dict[str, Any] | None:
    """Value of the window's decisions in money, when the model has values for the outcomes."""
    if not any(values.get(k) is not None for k in ("tp", "fp", "tn", "fn")):
        return None
    counts = confusion_counts(confusion, pos)
    n = sum(counts.values())
    total = float(sum(counts[k] * (values.get(k) or 0.0) for k in counts))
    return {
        "currency": currency,
        "per_prediction": total / n if n else None,
        "total": total,
        "counts": counts,
    }


def _metric(
    name: str,
    value: float | None,
    low: float | None,
    high: float | None,
    reason: str | None,
    reference: float | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"value": value, "low": low, "high": high, "reason": reason, "reference": reference}
    degraded = False
    if value is not None and reference is not None:
        out["change"] = value - reference
        worse_bound = low if name in LOWER_IS_BETTER else high
        if worse_bound is not None:
            clear = worse_bound > reference if name in LOWER_IS_BETTER else worse_bound < reference
            degraded = clear and abs(value - reference) >= material_change(name, reference)
    out["degraded"] = degraded
    return out


def material_change(name: str, reference: float) -> float:
    """The smallest change worth reporting: large windows make any change significant."""
    if name in ("mae", "rmse", "mape", "log_loss", "brier"):
        return MATERIAL_RELATIVE * abs(reference)
    return MATERIAL_ABSOLUTE


def realised_metrics(
    task: str,
    labels: np.ndarray,
    preds: np.ndarray,
    scores: np.ndarray,
    pos: str,
    *,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> dict[str, performance.Metric]:
    """The task's metrics on labelled rows (labels and predictions as text; numbers for regression)."""
    if task == REGRESSION:
        y = np.array([float(v) for v in labels], dtype=float)
        p = np.array([float(v) for v in preds], dtype=float)
        ok = np.isfinite(y) & np.isfinite(p)
        return regression.regression_performance(y[ok], p[ok], n_resamples=n_resamples, seed=seed)
    if task == MULTICLASS:
        return performance.multiclass_classification_performance(
            labels, preds, n_resamples=n_resamples, seed=seed
        )
    has_scores = bool(len(scores)) and bool(np.isfinite(scores).all())
    return performance.binary_classification_performance(
        labels, preds, scores if has_scores else None, positive_label=pos, n_resamples=n_resamples, seed=seed
    )


def exact_metrics(task: str, sketch: Mapping[str, Any], pos: str) -> dict[str, float]:
    """Metrics that the fragments' exact counts give for every labelled row, not just the sample."""
    if task == REGRESSION:
        e = sketch.get("errors") or {}
        n = e.get("count", 0)
        return {"mae": e["abs_sum"] / n, "rmse": float(np.sqrt(e["sq_sum"] / n))} if n else {}
    confusion = sketch.get("confusion") or {}
    n = sum(sum(row.values()) for row in confusion.values())
    if not n:
        return {}
    if task == MULTICLASS:
        return {"accuracy": sum(row.get(p, 0) for p, row in confusion.items()) / n}
    c = confusion_counts(confusion, pos)
    out = {"accuracy": (c["tp"] + c["tn"]) / n}
    if c["tp"] + c["fp"]:
        out["precision"] = c["tp"] / (c["tp"] + c["fp"])
    if c["tp"] + c["fn"]:
        out["recall"] = c["tp"] / (c["tp"] + c["fn"])
    if 2 * c["tp"] + c["fp"] + c["fn"]:
        out["f1"] = 2 * c["tp"] / (2 * c["tp"] + c["fp"] + c["fn"])
    return out


def _whole_window(
    task: str, metrics: dict[str, performance.Metric], exact: Mapping[str, float], sample: int, total: int
) -> dict[str, tuple[float | None, float | None, float | None]]:
    """(value, low, high) for the whole window: exact values where the counts give them, and the sample's
    bootstrap interval narrowed by sqrt(sample / total) (an m-out-of-n bootstrap of the labelled rows)."""
    scale = float(np.sqrt(sample / total)) if total > sample > 0 else 1.0
    out = {}
    for name, m in metrics.items():
        value = exact.get(name, m.value)
        if m.value is None or m.ci is None or value is None:
            out[name] = (value, None, None)
            continue
        low, high = value - (m.value - m.ci.low) * scale, value + (m.ci.high - m.value) * scale
        if task != REGRESSION:
            low, high = max(low, 0.0), min(high, 1.0)
        elif name in LOWER_IS_BETTER:
            low = max(low, 0.0)
        out[name] = (value, low, high)
    return out


@section
def performance_section(inp: WindowInput) -> dict[str, Any]:
    sketch = inp.labels or {}
    n = int(sketch.get("n", 0))
    if n == 0:
        return skipped(
            NO_DATA, "No outcomes have arrived yet for predictions in this window.", labelled=0, coverage=0.0
        )
    task = inp.model.task
    labels, preds = column(sketch, LABEL), column(sketch, PREDICTION)
    scores = column(sketch, SCORE, numeric=True)
    pos = positive_label(inp.model, [*sketch.get("labels", {}), *inp.reference_labels.get("labels", [])])
    metrics = realised_metrics(task, labels, preds, scores, pos, seed=inp.seed)
    whole = _whole_window(task, metrics, exact_metrics(task, sketch, pos), len(labels), n)
    reference = inp.reference_labels.get("performance", {})
    out_metrics = {
        name: _metric(name, *whole[name], metrics[name].reason, reference.get(name)) for name in metrics
    }
    rows = int(inp.current.get("n", 0))
    out: dict[str, Any] = {
        "status": OK,
        "labelled": n,
        "sample": len(labels),
        "coverage": n / rows if rows else None,
        "metrics": out_metrics,
        "degraded": [name for name, m in out_metrics.items() if m["degraded"]],
    }
    if task != REGRESSION:
        out["confusion"] = sketch.get("confusion", {})
        out["label_counts"] = sketch.get("labels", {})
    if task == BINARY:
        out["positive_label"] = pos
        value = business_value(inp.model.values, inp.model.currency, out["confusion"], pos)
        if value:
            value["reference_per_prediction"] = (inp.reference_labels.get("business") or {}).get(
                "per_prediction"
            )
            out["business"] = value
    elif task == REGRESSION and inp.model.cost_per_unit_error is not None and out_metrics["mae"]["value"]:
        out["business"] = {
            "currency": inp.model.currency,
            "cost_per_prediction": out_metrics["mae"]["value"] * inp.model.cost_per_unit_error,
        }
    if not reference:
        out["note"] = "The reference has no labels, so these numbers are not compared with it."
    return out


@section
def estimated_performance(inp: WindowInput) -> dict[str, Any]:
    if inp.model.task != BINARY:
        return skipped(NOT_APPLICABLE, "Label-free estimation covers binary classifiers only.")
    knots = inp.reference_labels.get("calibrator")
    if not knots:
        return skipped(
            NOT_APPLICABLE,
            "The reference has no scores with labels to calibrate on; upload a "
            "reference with `score` and `label` to estimate performance without labels.",
        )
    scores = column(inp.current, SCORE, numeric=True)
    preds = column(inp.current, PREDICTION)
    ok = np.isfinite(scores)
    if not ok.any():
        return skipped(NO_DATA, "The window's predictions carry no scores to estimate from.")
    pos = positive_label(inp.model, inp.reference_labels.get("labels", []))
    est = estimation.estimate_performance(
        estimation.IsotonicCalibrator.from_dict(knots),
        scores[ok],
        preds[ok],
        positive_label=pos,
        n_simulations=100,
        seed=inp.seed,
    )
    reference = inp.reference_labels.get("performance", {})
    metrics = {
        name: {
            **_metric(name, m.value, m.low, m.high, m.reason, reference.get(name)),
            "standard_error": m.standard_error,
        }
        for name, m in est.metrics.items()
    }
    return {
        "status": OK,
        "method": "confidence-based (isotonic calibrator fitted on the reference)",
        "sample": int(ok.sum()),
        "metrics": metrics,
        "degraded": [name for name, m in metrics.items() if m["degraded"]],
        "expected_confusion": est.confusion,
    }
