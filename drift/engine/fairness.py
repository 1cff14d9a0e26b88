"""Fairness on sensitive-role features: group rates and gaps, with labels when they have arrived. Pure.

With labelled rows: selection rate, TPR / FPR gaps and per-group calibration. Without: selection
rates only, on the window's prediction reservoir. The four-fifths rule is applied only when the
model enables it (`MonitoredModel.fairness_four_fifths`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from drift.engine.context import (
    NOT_APPLICABLE,
    OK,
    WindowInput,
    column,
    positive_label,
    pretty,
    section,
    skipped,
)
from drift.engine.label_sketch import LABEL, PREDICTION, SCORE
from drift.engine.performance import BINARY
from drift.stats import fairness

N_RESAMPLES = 200
# A gap this large, with its interval clear of zero, is flagged even without the four-fifths rule.
MATERIAL_GAP = 0.1
MIN_LABELLED = 100


def _groups(sketch: Any, name: str) -> np.ndarray:
    return np.array(["(missing)" if v is None else v for v in column(sketch, name)], dtype=object)


def _flags(report: Any) -> list[str]:
    out = []
    for gap_name in (
        "demographic_parity_difference",
        "equal_opportunity_difference",
        "equalized_odds_difference",
    ):
        gap = getattr(report, gap_name)
        if gap.value is not None and gap.value >= MATERIAL_GAP and (gap.ci is None or gap.ci.low > 0):
            out.append(f"{pretty(report.attribute)}: {gap_name.replace('_', ' ')} {gap.value:.2f}")
    if report.four_fifths_passed is False:
        out.append(f"{pretty(report.attribute)}: selection-rate ratio below four fifths")
    return out


@section
def fairness_section(inp: WindowInput) -> dict[str, Any]:
    sensitive = inp.by_role("sensitive")
    if not sensitive:
        return skipped(
            NOT_APPLICABLE,
            "No feature has the sensitive role; mark one in the version's schema to check fairness.",
        )
    if inp.model.task != BINARY:
        return skipped(NOT_APPLICABLE, "Group fairness is computed for binary decisions only.")
    labelled = inp.labels if (inp.labels or {}).get("n", 0) >= MIN_LABELLED else None
    sketch = labelled or inp.current
    preds = column(sketch, PREDICTION)
    pos = positive_label(
        inp.model, [*(inp.labels or {}).get("labels", {}), *inp.reference_labels.get("labels", [])]
    )
    groups = {f.name: _groups(sketch, f.name) for f in sensitive}
    y_true = prob = None
    if labelled:
        y_true = column(sketch, LABEL)
        scores = column(sketch, SCORE, numeric=True)
        if len(scores) and np.isfinite(scores).all() and scores.min() >= 0 and scores.max() <= 1:
            prob = scores
    reports = fairness.fairness_report(
        preds,
        groups,
        y_true,
        prob,
        positive_label=pos,
        four_fifths=inp.model.four_fifths,
        n_resamples=N_RESAMPLES,
        seed=inp.seed,
    )
    flags = [flag for r in reports for flag in _flags(r)]
    return {
        "status": OK,
        "source": "labelled predictions" if labelled else "predictions (no labels yet: selection rates only)",
        "rows": len(preds),
        "four_fifths": inp.model.four_fifths,
        "attributes": list(reports),
        "flags": flags,
    }
