"""Concept drift over labelled rows: stream detectors in time order, conditional target drift. Pure.

The error stream (1 when a prediction was wrong; for regression, when its absolute error exceeds the
reference's median) goes through ADWIN, DDM and Page-Hinkley in prediction-time order.
`conditional_target_drift` compares the target rate per score decile with the reference's, and per
(feature bin, score decile) cell for each feature: a pure change of the inputs leaves the target rate
given the score alone (the model still knows what it knew), so a change there is a change of
P(y | x), and the feature whose cells moved is where it happened. Tests are Bonferroni-corrected
across tables; within a table, the summed test and the per-bin test each get half of the table's level
(`drift.stats.target_rule`), and the bins the per-bin test flags are kept with their rates on each
side (`drift.engine.concept_moves`), so the pages can say which score band moved and by how much.
Identifier-like features (customer ids, hashed e-mails) are never compared, nor are tables the window
cannot be put on; `not_compared` says why for each.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np

from drift.engine.bins import bin_codes, bin_count, bin_names, is_identifier
from drift.engine.concept_moves import moved_cells
from drift.engine.context import NO_DATA, OK, WindowInput, column, positive_label, pretty, section, skipped
from drift.engine.label_sketch import LABEL, PREDICTION, SCORE, TS
from drift.engine.performance import BINARY, REGRESSION
from drift.engine.reference import crossed, score_codes
from drift.profiles import FeatureBins
from drift.stats import concept
from drift.stats.target_rule import target_rate_drift

MIN_STREAM = 30
ALPHA = 0.01
# Rows a (feature bin, score decile) cell needs on each side to be tested, and in the reference to
# stand for itself. The test's per-cell chi-square needs ~5 expected positives: at the 7 % target rate
# of a low-risk decile that is ~75 rows. With the test's default of 10, a 244-row window's sparse
# cells flagged three features on a quiet day of the demo (and 50 still left 3 in 45 quiet days).
MIN_CELL = 75
# How far the outcome rate at the same score (or feature bin) must move, besides being significant:
# large windows make tiny changes significant. Stored with each result: the pages draw it as the line.
MIN_EFFECT = 0.02


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


def _with_score_rates(table: Mapping[str, Any], score: Mapping[str, Any]) -> dict[str, list[float]]:
    """A feature's table where the reference can't speak for a cell (fewer than `MIN_CELL` rows:
    a category it never saw, a far tail), that cell takes the reference's counts for the same score
    decile: rows the reference never had should still default as often as their score says.
    Without this, a new category (a new partner channel) is never compared at all."""
    n = np.asarray(table["n"], dtype=float)
    pos = np.asarray(table["pos"], dtype=float)
    decile = np.arange(n.size) % len(score["n"])  # cells are (feature bin, score decile), decile last
    sparse = n < MIN_CELL
    return {
        "n": np.where(sparse, np.asarray(score["n"], dtype=float)[decile], n).tolist(),
        "pos": np.where(sparse, np.asarray(score["pos"], dtype=float)[decile], pos).tolist(),
    }


def _reference_counts(table: Mapping[str, Any], k: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, positives) per cell of a reference table, as whole counts over `k` cells. The test takes
    counts: expanding the tables into one row per reference row only for it to count them again cost
    more than the test (a cell per bin and score decile, for every feature)."""
    n = np.rint(np.asarray(table["n"], dtype=float)).astype(np.int64)
    pos = np.clip(np.rint(np.asarray(table["pos"], dtype=float)).astype(np.int64), 0, n)  # as rows: 0..n
    rows, positives = np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64)
    m = min(k, n.size)
    rows[:m], positives[:m] = n[:m], pos[:m]
    return rows, positives


def _comparable_tables(
    inp: WindowInput, tables: Mapping[str, Any], cells: int
) -> tuple[dict[str, tuple[Mapping[str, Any], FeatureBins | None]], dict[str, str]]:
    """The reference tables the window can be compared on (with their bins; None for the score alone),
    and why each of the others is left out.

    A table is left out when its feature is identifier-like (the data-drift rule: its bins hold a row
    or two each), no longer in the profile, absent from the labelled rows (hashed or dropped before
    outcomes were joined), or made on other bins (the reference changed since).
    """
    bins = {b.name: b for b in inp.spec.features}
    held = ((inp.labels or {}).get("reservoir") or {}).get("rows") or {}
    ref_counts = inp.reference.get("features") or {}
    usable: dict[str, tuple[Mapping[str, Any], FeatureBins | None]] = {}
    left_out: dict[str, str] = {}
    for name, table in tables.items():
        if name == "score":
            usable[name] = (table, None)
            continue
        b = bins.get(name)
        if b is None:
            left_out[name] = f"{pretty(name)} is no longer in the profile"
        elif is_identifier(b, int((ref_counts.get(name) or {}).get("count", 0))):
            left_out[name] = f"{pretty(name)} looks like an identifier: its values are not compared"
        elif name not in held:
            left_out[name] = f"the labelled rows carry no {pretty(name)} values (hashed or dropped)"
        elif len(table.get("n", ())) != bin_count(b) * cells:
            left_out[name] = f"the reference's table for {pretty(name)} was made on other bins"
        else:
            usable[name] = (table, b)
    return usable, left_out


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
        target, kind = errors, {"target": "large_error"}
    elif inp.model.task == BINARY:
        errors = preds != labels
        pos = positive_label(inp.model, [*sketch.get("labels", {})])
        target, kind = labels == pos, {"target": "positive", "positive_label": pos}
    else:
        errors = preds != labels
        target, kind = errors, {"target": "error"}
    out: dict[str, Any] = {
        "status": OK,
        "rows": len(errors),
        "error_rate": float(errors.mean()),
        "reference_error_rate": inp.reference_labels.get("error_rate"),
        **kind,  # what the per-bin rates are rates of, for sentences about the moved bins
    }
    if len(errors) >= MIN_STREAM:
        out["detectors"] = _detections(errors.astype(float), times)
    else:
        out["detectors"] = {
            "reason": f"too few labelled rows ({len(errors)} < {MIN_STREAM}) for the detectors"
        }
    tables = inp.reference_labels.get("conditional", {})
    edges = inp.reference_labels.get("score_edges", [])
    usable, not_compared = _comparable_tables(inp, tables, len(edges) + 2)
    conditional = {}
    alpha = ALPHA / max(len(usable), 1)  # Bonferroni over the tables actually tested
    win_target = target.astype(float)
    for name, (table, bins) in usable.items():
        if bins is None:
            win_codes, k = score_codes(basis, edges), len(edges) + 2
        else:
            values = column(sketch, name, numeric=bins.kind == "numeric")[order]
            win_codes = crossed(bin_codes(values, bins), basis, edges)
            k = bin_count(bins) * (len(edges) + 2)
        if bins is not None and "score" in tables:
            table = _with_score_rates(table, tables["score"])
        ref_n, ref_pos = _reference_counts(table, k)
        win_n = np.bincount(win_codes, minlength=k)[:k]
        win_pos = np.bincount(win_codes, win_target, minlength=k)[:k]
        result = target_rate_drift(
            ref_n, ref_pos, win_n, win_pos, alpha=alpha, min_count=MIN_CELL, min_effect=MIN_EFFECT
        )
        summed = result.summed
        conditional[name] = {
            "drifted": result.drifted,
            "fired": list(result.fired),
            "p_value": summed.p_value,
            "per_bin_p_value": result.per_bin.p_value,
            "effect": summed.effect,
            "bins_tested": summed.dof,
            "reason": summed.reason,
            "moved": moved_cells(
                result.per_bin.flagged_bins,
                ref_n.tolist(),
                ref_pos.tolist(),
                win_n.tolist(),
                win_pos.tolist(),
                edges=edges,
                feature_bins=None if bins is None else bin_names(bins),
            ),
        }
    out["conditional"] = conditional
    out["min_effect"] = MIN_EFFECT
    if not_compared:
        out["not_compared"] = not_compared
    out["drifted_features"] = [name for name, c in conditional.items() if c["drifted"] and name != "score"]
    out["given_score_drifted"] = bool(conditional.get("score", {}).get("drifted"))
    # Which tests fired on any table, for the pages' per-window table (read without the tables).
    out["tests_fired"] = sorted({f for c in conditional.values() for f in c["fired"]})
    if not tables:
        out["note"] = "The reference has no labels, so conditional target drift is not computed."
    adwin_hits = (out["detectors"].get("adwin") or {}).get("drifts", 0)
    out["drifted"] = bool(out["drifted_features"] or out["given_score_drifted"] or adwin_hits)
    return out
