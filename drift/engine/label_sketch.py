"""Mergeable sketches of labelled predictions (the content of a `LabelFragment`). Pure.

Exact counts (labels, confusion for classifiers; error sums for regression) plus a bounded uniform
reservoir of labelled rows: time, prediction, label, score and the raw feature values. Raw values
rather than bin codes, so a new reference (new bins) never makes label fragments stale.

Example:
    >>> a = sketch_labels(task="binary_classification", timestamps=[1.0, 2.0], predictions=[1, 0],
    ...                   labels=[1, 1], scores=[0.9, 0.2], features={"x": [3.0, None]}, seed=1)
    >>> b = sketch_labels(task="binary_classification", timestamps=[3.0], predictions=[0],
    ...                   labels=[0], scores=[0.1], features={"x": [1.0]}, seed=2)
    >>> m = merge_label_sketches([a, b])
    >>> m["n"], m["labels"], m["confusion"]
    (3, {'1': 2, '0': 1}, {'1': {'1': 1}, '0': {'1': 1, '0': 1}})
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from drift.profiles import merge_sketches

FRAGMENT_RESERVOIR = 200
# Labelled rows an analysis keeps for bootstrap intervals, calibration, fairness and the detectors.
WINDOW_SAMPLE = 5_000
TS, PREDICTION, LABEL, SCORE = "__ts__", "__prediction__", "__label__", "__score__"


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def sketch_labels(
    *,
    task: str,
    timestamps: Sequence[float],
    predictions: Sequence[Any],
    labels: Sequence[Any],
    scores: Sequence[Any],
    features: Mapping[str, Sequence[Any]],
    reservoir_size: int = FRAGMENT_RESERVOIR,
    seed: int = 0,
) -> dict[str, Any]:
    """Sketch one set of labelled predictions (typically one prediction hour of one outcome batch)."""
    n = len(labels)
    out: dict[str, Any] = {"n": n}
    if task == "regression":
        pred: list[Any] = [_number(p) for p in predictions]
        lab: list[Any] = [_number(v) for v in labels]
        pairs = [(p, y) for p, y in zip(pred, lab, strict=True) if p is not None and y is not None]
        out["errors"] = {
            "count": len(pairs),
            "abs_sum": float(sum(abs(y - p) for p, y in pairs)),
            "sq_sum": float(sum((y - p) ** 2 for p, y in pairs)),
        }
    else:
        pred = [str(p) for p in predictions]
        lab = [str(v) for v in labels]
        out["labels"] = dict(Counter(lab))
        confusion: dict[str, dict[str, int]] = {}
        for p, y in zip(pred, lab, strict=True):
            confusion.setdefault(p, {}).setdefault(y, 0)
            confusion[p][y] += 1
        out["confusion"] = confusion
    columns: dict[str, Sequence[Any]] = {
        TS: [float(t) for t in timestamps],
        PREDICTION: pred,
        LABEL: lab,
        SCORE: [_number(s) for s in scores],
        **features,
    }
    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(n, size=reservoir_size, replace=False)) if n > reservoir_size else range(n)
    rows = {name: [_clean(values[i]) for i in take] for name, values in columns.items()}
    out["reservoir"] = {"seen": n, "rows": rows}
    return out


def merge_label_sketches(
    sketches: Sequence[Mapping[str, Any]], *, reservoir_size: int = WINDOW_SAMPLE, seed: int = 0
) -> dict[str, Any]:
    """Counts add; the reservoirs merge into one uniform sample (`drift.profiles.merge_sketches`)."""
    out: dict[str, Any] = {"n": 0}
    labels: Counter[str] = Counter()
    confusion: dict[str, Counter[str]] = {}
    errors: dict[str, float] = {}
    for s in sketches:
        out["n"] += int(s.get("n", 0))
        labels.update(s.get("labels", {}))
        for p, row in s.get("confusion", {}).items():
            confusion.setdefault(p, Counter()).update(row)
        for key, value in s.get("errors", {}).items():
            errors[key] = errors.get(key, 0) + value
    if labels or confusion:
        out["labels"] = dict(labels)
        out["confusion"] = {p: dict(row) for p, row in confusion.items()}
    if errors:
        out["errors"] = errors
    reservoirs = [{"reservoir": s["reservoir"]} for s in sketches if s.get("reservoir")]
    out["reservoir"] = merge_sketches(reservoirs, reservoir_size=reservoir_size, seed=seed)["reservoir"]
    return out
