"""Drill telemetry: the model's own reference rows, resampled, with one known change. Pure (numpy only).

A drill replays what the model normally sees (its reference) and injects one of the changes of
`drift.scenarios` (same kinds, same meaning of `magnitude`) into the model's own features and labels:

- ``mean_shift`` / ``variance_change``: the first numeric input feature moves by `magnitude` reference
  standard deviations / spreads `magnitude` times around its mean;
- ``category_reweighting``: `magnitude` of all rows leave the first categorical feature's most common
  value for the others; ``new_category``: `magnitude` of the rows take a value never seen (``"drill-new"``);
- ``missing_burst``: the first nullable numeric (else categorical) feature is missing in `magnitude` of rows;
- ``concept_shift``: where the first numeric feature is above its median, `magnitude` of labels flip;
- ``calibration_shift``: labels are redrawn from ``sigmoid(logit(score) + magnitude)``;
- ``fairness_gap``: in the sensitive feature's smallest group, ``magnitude / 2`` of positive labels
  turn negative; ``correlation_change``: `magnitude` of rows get each numeric feature from another row
  (marginals intact, correlations broken); ``stationary``: nothing changes.

Rows are stored values (PII already processed), so ingestion must not hash them again.

Example:
    >>> ref = [{"features": {"x": float(i), "c": "a" if i % 3 else "b"}, "prediction": i % 2,
    ...         "score": 0.5, "label": i % 2} for i in range(100)]
    >>> schema = [{"name": "x", "type": "numeric", "role": "input", "pii": "keep", "nullable": True},
    ...           {"name": "c", "type": "categorical", "role": "input", "pii": "keep", "nullable": True}]
    >>> out = drill_rows(ref, schema, "mean_shift", magnitude=1.0, n=50, seed=1)
    >>> out.changed, len(out.rows), round(sum(r["features"]["x"] for r in out.rows) / 50 - 49.5 > 20)
    ('x', 50, 1)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from drift.formatting import number
from drift.scenarios import KINDS, MAGNITUDES  # the scenario kinds and their default sizes

NEW_CATEGORY = "drill-new"
Row = dict[str, Any]


@dataclass(frozen=True)
class DrillRows:
    rows: list[Row]  # {"features", "prediction", "score", "label"} with the change applied
    changed: str | None  # the feature (or "labels") the change was injected into; None: nothing
    note: str  # what was done, in words


def _first(
    schema: Sequence[Mapping[str, Any]], *, kind: str, role: str = "input", nullable: bool = False
) -> str | None:
    for f in schema:
        if f["type"] == kind and f["role"] == role and f["pii"] == "keep" and (f["nullable"] or not nullable):
            return f["name"]
    return None


def _numbers(rows: list[Row], name: str) -> np.ndarray:
    return np.array([r["features"].get(name) for r in rows], dtype=object)


def _finite(values: np.ndarray) -> np.ndarray:
    return np.array([float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)])


def _set(rows: list[Row], name: str, values: Sequence[Any], where: np.ndarray) -> None:
    for i in np.flatnonzero(where):
        rows[i]["features"][name] = values[i]


def _shift(rows: list[Row], name: str, kind: str, m: float) -> str:
    values = _numbers(rows, name)
    known = _finite(values)
    mean, std = (float(known.mean()), float(known.std()) or 1.0) if known.size else (0.0, 1.0)
    ok = np.array([isinstance(v, int | float) and not isinstance(v, bool) for v in values])
    if kind == "mean_shift":
        moved = [float(v) + m * std if o else v for v, o in zip(values, ok, strict=True)]
        # In the feature's own units, as people read them: "(13,500)", not "(1.348e+04)".
        note = f"'{name}' shifted by {m:g} reference standard deviations ({number(m * std)})"
    else:
        moved = [mean + m * (float(v) - mean) if o else v for v, o in zip(values, ok, strict=True)]
        note = f"'{name}' spread {m:g} times around its mean"
    _set(rows, name, moved, ok)
    return note


def _categories(rows: list[Row], name: str, kind: str, m: float, rng: np.random.Generator) -> str:
    values = [r["features"].get(name) for r in rows]
    counts = Counter(v for v in values if v is not None)
    if kind == "new_category":
        hit = rng.random(len(rows)) < m
        _set(rows, name, [NEW_CATEGORY] * len(rows), hit & np.array([v is not None for v in values]))
        return f"{m:.0%} of rows of '{name}' take the unseen value '{NEW_CATEGORY}'"
    if len(counts) < 2:
        return f"'{name}' has a single value: nothing to reweight"
    top, n_top = counts.most_common(1)[0]
    others = [v for v in counts if v != top]
    weights = np.array([counts[v] for v in others], dtype=float)
    leave = min(1.0, m * len(rows) / n_top)
    moving = np.array([v == top for v in values]) & (rng.random(len(rows)) < leave)
    picks = rng.choice(len(others), size=len(rows), p=weights / weights.sum())
    _set(rows, name, [others[p] for p in picks], moving)
    return f"{m:.0%} of all rows moved from '{name}' = '{top}' to its other values"


def _is(label: Any, positive: Any) -> bool:
    return str(label) == str(positive)


def _concept(
    rows: list[Row], m: float, rng: np.random.Generator, schema, positive: Any, negative: Any
) -> str:
    name = _first(schema, kind="numeric")
    if name is None:
        return "the schema has no numeric input feature to condition the flip on"
    values = _numbers(rows, name)
    known = _finite(values)
    median = float(np.median(known)) if known.size else 0.0
    high = np.array([isinstance(v, int | float) and float(v) > median for v in values])
    for i in np.flatnonzero(high & (rng.random(len(rows)) < m)):
        if rows[i]["label"] is not None:
            rows[i]["label"] = negative if _is(rows[i]["label"], positive) else positive
    return f"{m:.0%} of labels flipped where '{name}' is above its median"


def _calibration(rows: list[Row], m: float, rng: np.random.Generator, positive: Any, negative: Any) -> str:
    scores = np.array([np.nan if r.get("score") is None else r["score"] for r in rows], dtype=float)
    p = np.clip(np.nan_to_num(scores, nan=0.5), 1e-6, 1 - 1e-6)
    redrawn = rng.random(len(rows)) < 1 / (1 + np.exp(-(np.log(p / (1 - p)) + m)))
    for i, row in enumerate(rows):
        if row["label"] is not None:
            row["label"] = positive if redrawn[i] else negative
    return f"labels redrawn from the scores' log-odds plus {m:g}"


def _fairness(
    rows: list[Row], m: float, rng: np.random.Generator, schema, positive: Any, negative: Any
) -> str:
    sensitive = next((f["name"] for f in schema if f["role"] == "sensitive" and f["pii"] == "keep"), None)
    if sensitive is None:
        return "the schema has no sensitive feature, so no group could be treated worse"
    groups = Counter(r["features"].get(sensitive) for r in rows if r["features"].get(sensitive) is not None)
    if not groups:
        return f"'{sensitive}' has no values"
    small = min(groups, key=lambda g: groups[g])
    for i in np.flatnonzero(rng.random(len(rows)) < m / 2):
        row = rows[i]
        if (
            row["features"].get(sensitive) == small
            and row["label"] is not None
            and _is(row["label"], positive)
        ):
            row["label"] = negative
    return f"{m / 2:.0%} of positive labels turned negative where '{sensitive}' = '{small}'"


def _labels(rows: list[Row], kind: str, m: float, rng: np.random.Generator, schema, positive: Any) -> str:
    labels = [r["label"] for r in rows if r.get("label") is not None]
    if not labels:
        return "the reference has no labels, so the labels could not change"
    negative = next((lab for lab in labels if not _is(lab, positive)), 0)
    if kind == "concept_shift":
        return _concept(rows, m, rng, schema, positive, negative)
    if kind == "calibration_shift":
        return _calibration(rows, m, rng, positive, negative)
    return _fairness(rows, m, rng, schema, positive, negative)


def _decorrelate(rows: list[Row], schema, m: float, rng: np.random.Generator) -> str:
    names = [f["name"] for f in schema if f["type"] == "numeric" and f["pii"] == "keep"]
    hit = rng.random(len(rows)) < m
    for name in names:
        values = [r["features"].get(name) for r in rows]
        order = rng.permutation(len(rows))
        _set(rows, name, [values[j] for j in order], hit)
    return f"{m:.0%} of rows took each of {len(names)} numeric features from another row"


def drill_rows(
    reference: Sequence[Mapping[str, Any]],
    schema: Sequence[Mapping[str, Any]],
    kind: str,
    *,
    n: int,
    seed: int,
    magnitude: float | None = None,
    positive_label: Any = 1,
) -> DrillRows:
    """`n` reference rows drawn with replacement, with the `kind` of change of size `magnitude`."""
    if kind not in KINDS:
        raise ValueError(f"unknown scenario {kind!r}; choose from {', '.join(KINDS)}")
    if not reference:
        raise ValueError("the reference has no rows to replay")
    m = float(MAGNITUDES.get(kind, 0.0) if magnitude is None else magnitude)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(reference), size=n)
    rows = [
        {
            "features": dict(reference[i]["features"]),
            "prediction": reference[i]["prediction"],
            "score": reference[i].get("score"),
            "label": reference[i].get("label"),
        }
        for i in picks
    ]
    if kind == "stationary":
        return DrillRows(rows, None, "the reference replayed as it is")
    if kind in ("mean_shift", "variance_change", "missing_burst"):
        nullable = kind == "missing_burst"
        name = _first(schema, kind="numeric", nullable=nullable) or (
            _first(schema, kind="categorical", nullable=True) if nullable else None
        )
        if name is None:
            return DrillRows(rows, None, "the schema has no numeric input feature to change")
        if kind == "missing_burst":
            gone = rng.random(n) < m
            _set(rows, name, [None] * n, gone)
            return DrillRows(rows, name, f"'{name}' missing in {m:.0%} of rows")
        return DrillRows(rows, name, _shift(rows, name, kind, m))
    if kind in ("category_reweighting", "new_category"):
        name = _first(schema, kind="categorical")
        if name is None:
            return DrillRows(rows, None, "the schema has no categorical input feature to change")
        return DrillRows(rows, name, _categories(rows, name, kind, m, rng))
    if kind == "correlation_change":
        return DrillRows(rows, "correlation", _decorrelate(rows, schema, m, rng))
    return DrillRows(rows, "labels", _labels(rows, kind, m, rng, schema, positive_label))


def placeholder(feature: Mapping[str, Any]) -> Any:
    """A value for a feature the reference does not keep (`pii: drop`) but the schema requires."""
    if feature["type"] == "numeric":
        return feature.get("min") if feature.get("min") is not None else 0
    if feature["type"] == "boolean":
        return False
    categories = feature.get("categories") or []
    return categories[0] if categories else "drill"
