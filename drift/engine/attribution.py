"""Feature importance against the reference, and how confident the scores are. Pure.

Fragments carry no per-record attributions yet, so importance is the surrogate: mutual information
between each feature and the prediction, on the window's and the reference's reservoirs, with
numeric features cut at the reference's deciles and categories on the profile's bins. The rankings
are compared with `compare_rankings`; `confidence_summary` describes the scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from drift.engine.bins import bin_codes
from drift.engine.context import NOT_APPLICABLE, OK, WindowInput, section, skipped
from drift.engine.label_sketch import PREDICTION, SCORE
from drift.engine.performance import BINARY, REGRESSION
from drift.stats import attribution

# Below this Spearman correlation with the reference's ranking, the drivers of the model changed.
RANKING_CHANGED = 0.5


def _importance(inp: WindowInput, sketch: Any, edges: dict[str, Any]) -> attribution.FeatureImportance:
    bins = {b.name: b for b in inp.spec.features}
    columns: dict[str, Any] = {}
    coded = []
    for info in inp.features:
        if info.name not in bins:
            continue
        if info.kind == "numeric":
            columns[info.name] = inp.column(sketch, info.name, numeric=True)
        else:
            # Profile bin codes are categories already: no round trip through text.
            columns[info.name] = bin_codes(inp.column(sketch, info.name), bins[info.name])
            coded.append(info.name)
    pred = inp.column(sketch, PREDICTION)
    target: Any = np.array([float(v) for v in pred]) if inp.model.task == REGRESSION else pred
    return attribution.surrogate_importance(columns, target, edges=edges, coded=coded)


def _confidence(inp: WindowInput) -> dict[str, Any]:
    if inp.model.task != BINARY:
        return skipped(NOT_APPLICABLE, "The confidence summary reads binary scores.")
    cur = inp.column(inp.current, SCORE, numeric=True)
    if not np.isfinite(cur).any():
        return skipped(NOT_APPLICABLE, "The predictions carry no scores.")
    ref = inp.column(inp.reference, SCORE, numeric=True)
    window = attribution.confidence_summary(cur)
    reference = attribution.confidence_summary(ref) if np.isfinite(ref).any() else None
    return {"status": OK, "window": window, "reference": reference}


@section
def attribution_section(inp: WindowInput) -> dict[str, Any]:
    names = [f.name for f in inp.features]
    if len(names) < 2:
        return skipped(
            NOT_APPLICABLE, "Ranking features needs at least two features.", confidence=_confidence(inp)
        )
    edges = {}
    for info in inp.features:
        if info.kind == "numeric":
            ref = inp.column(inp.reference, info.name, numeric=True)
            ref = ref[np.isfinite(ref)]
            if ref.size:
                edges[info.name] = np.unique(np.quantile(ref, np.linspace(0, 1, 11)[1:-1]))
    reference = _importance(inp, inp.reference, edges)
    window = _importance(inp, inp.current, edges)
    comparison = attribution.compare_rankings(reference, window)
    return {
        "status": OK,
        "method": "surrogate: mutual information between each feature and the prediction",
        "reference": reference.as_dict(),
        "window": window.as_dict(),
        "reference_ranking": list(reference.ranking),
        "window_ranking": list(window.ranking),
        "comparison": comparison,
        "changed": bool(comparison.spearman is not None and comparison.spearman < RANKING_CHANGED),
        "confidence": _confidence(inp),
    }
