"""Calibration with labels: reliability curve and calibration error, overall and per segment. Pure.

Binary classifiers: P(positive) against the positive rate. Multiclass: the top-label view (is the
predicted class right, against its score). Compared with the reference's calibration error.
"""

from __future__ import annotations

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
from drift.engine.performance import BINARY, REGRESSION
from drift.stats import calibration

# A calibration error this much above the reference's is reported as worse (absolute, in probability).
MATERIAL_ECE_INCREASE = 0.05


@section
def calibration_section(inp: WindowInput) -> dict[str, Any]:
    if inp.model.task == REGRESSION:
        return skipped(NOT_APPLICABLE, "Calibration applies to classifiers' probabilities, not regression.")
    sketch = inp.labels or {}
    if not sketch.get("n"):
        return skipped(NO_DATA, "No outcomes have arrived yet for predictions in this window.")
    scores = column(sketch, SCORE, numeric=True)
    labels, preds = column(sketch, LABEL), column(sketch, PREDICTION)
    ok = np.isfinite(scores)
    if not ok.any():
        return skipped(NO_DATA, "The labelled predictions carry no scores.")
    p = scores[ok]
    if p.min() < 0 or p.max() > 1:
        return skipped(NOT_APPLICABLE, "The scores are not probabilities in [0, 1].")
    if inp.model.task == BINARY:
        pos = positive_label(inp.model, [*sketch.get("labels", {})])
        y = labels[ok] == pos
        view = "positive class"
    else:
        y = preds[ok] == labels[ok]
        view = "top label"
    err = calibration.calibration_error(y, p, positive_label=True)
    curve = calibration.reliability_curve(y, p, positive_label=True)
    reference = (inp.reference_labels.get("calibration") or {}).get("ece")
    out: dict[str, Any] = {
        "status": OK,
        "view": view,
        "rows": int(ok.sum()),
        "ece": err.ece,
        "mce": err.mce,
        "reference_ece": reference,
        "reliability": curve,
        "worse": bool(
            err.ece is not None and reference is not None and err.ece > reference + MATERIAL_ECE_INCREASE
        ),
    }
    by_segment = {}
    for info in [*inp.by_role("segment"), *inp.by_role("sensitive")]:
        groups = column(sketch, info.name)[ok]
        groups = np.array(["(missing)" if g is None else g for g in groups], dtype=object)
        by_segment[info.name] = calibration.calibration_by_segment(y, p, groups, positive_label=True)
    if by_segment:
        out["by_segment"] = by_segment
    return out
