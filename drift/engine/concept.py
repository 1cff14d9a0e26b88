"""Concept drift over labelled rows: stream detectors in time order, conditional target drift. Pure.

The error stream (1 when a prediction was wrong; for regression, when its absolute error exceeds the
reference's median) goes through ADWIN, DDM and Page-Hinkley in prediction-time order.
`conditional_target_drift` compares the target rate per score decile with the reference's, and per
(feature bin, score decile) cell for each feature: a pure change of the inputs leaves the target rate
given the score alone (the model still knows what it knew), so a change there is a change of
P(y | x), and the feature whose cells moved is where it happened. Tests are Bonferroni-corrected.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from drift.engine.bins import bin_codes, bin_count
from drift.engine.context import NO_DATA, OK, WindowInput, column, positive_label, section, skipped
from drift.engine.label_sketch import LABEL, PREDICTION, SCORE, TS
from drift.engine.performance import BINARY, REGRESSION
from drift.engine.reference import crossed, score_codes
from drift.stats import concept

MIN_STREAM = 30
ALPHA = 0.01


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _detections(errors: np.ndarray, times: np.ndarray) -> dict[str, Any]:
    out = {}
    for name, run in (("adwin", concept.adwin), ("ddm", concept.ddm), ("page_hinkley", concept.page_hinkley)):
        found = run(errors)
        out[name] = {
            "drifts": len(found.drift_indices),
            "first_drift_at": _when(times[found.first_drift]) if found.first_drift is not None else None,
        }
    return out


def _reference_rows(table: dict[str, list[float]]) -> tuple[np.ndarray, np.ndarray]:
    n = np.asarray(table["n"], dtype=np.int64)
    pos = np.rint(np.asarray(table["pos"], dtype=float)).astype(np.int64)
    codes = np.repeat(np.arange(len(n)), n)
    y = np.concatenate(
        [np.r_[np.ones(p, dtype=int), np.zeros(k - p, dtype=int)] for k, p in zip(n, pos, strict=True)]
    )
    return codes, y


@section
def concept_section(inp: WindowInput) -> dict[str, Any]:
    sketch = inp.labels or {}
    if not sketch.get("n"):
        return skipped(NO_DATA, "No outcomes have arrived yet for predictions in this window.")
    times = column(sketch, TS, numeric=True)
    order = np.argsort(times, kind="stable")
    labels, preds = column(sketch, LABEL)[order], column(sketch, PREDICTION)[order]
    times = times[order]
    basis = column(sketch, SCORE, numeric=True)[order]
    if inp.model.task == REGRESSION:
        y = np.array([float(v) for v in labels])
        p = np.array([float(v) for v in preds])
        basis = p
        err = np.abs(y - p)
        cut = inp.reference_labels.get("error_cut")
        cut = float(np.nanmedian(err)) if cut is None else float(cut)
        errors = np.nan_to_num(err, nan=0.0) > cut
        target = errors
    else:
        errors = preds != labels
        pos = positive_label(inp.model, [*sketch.get("labels", {})])
        target = labels == pos if inp.model.task == BINARY else errors
    out: dict[str, Any] = {
        "status": OK,
        "rows": len(errors),
        "error_rate": float(errors.mean()),
        "reference_error_rate": inp.reference_labels.get("error_rate"),
    }
    if len(errors) >= MIN_STREAM:
        out["detectors"] = _detections(errors.astype(float), times)
    else:
        out["detectors"] = {
            "reason": f"too few labelled rows ({len(errors)} < {MIN_STREAM}) for the detectors"
        }
    tables = inp.reference_labels.get("conditional", {})
    edges = inp.reference_labels.get("score_edges", [])
    bins = {b.name: b for b in inp.spec.features}
    conditional = {}
    alpha = ALPHA / max(len(tables), 1)
    for name, table in tables.items():
        if name == "score":
            win_codes, k = score_codes(basis, edges), len(edges) + 2
        elif name in bins:
            values = column(sketch, name, numeric=bins[name].kind == "numeric")[order]
            win_codes = crossed(bin_codes(values.tolist(), bins[name]), basis, edges)
            k = bin_count(bins[name]) * (len(edges) + 2)
        else:
            continue
        if len(table["n"]) != k:  # a table from other bins (the reference changed): not comparable
            continue
        ref_codes, ref_y = _reference_rows(table)
        result = concept.conditional_target_drift(
            ref_codes, ref_y, win_codes, target.astype(int), n_bins=k, alpha=alpha
        )
        conditional[name] = {
            "drifted": result.drifted,
            "p_value": result.p_value,
            "effect": result.effect,
            "bins_tested": result.dof,
            "reason": result.reason,
        }
    out["conditional"] = conditional
    out["drifted_features"] = [name for name, c in conditional.items() if c["drifted"] and name != "score"]
    out["given_score_drifted"] = bool(conditional.get("score", {}).get("drifted"))
    if not tables:
        out["note"] = "The reference has no labels, so conditional target drift is not computed."
    adwin_hits = (out["detectors"].get("adwin") or {}).get("drifts", 0)
    out["drifted"] = bool(out["drifted_features"] or out["given_score_drifted"] or adwin_hits)
    return out
