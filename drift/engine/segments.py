"""Where a change concentrates: per-segment effect sizes on the reservoirs. Pure.

For a drifted feature and a segment-role feature (``region``), each segment value with enough rows
on both sides gets its own effect size (the same kind as the feature's: Wasserstein in reference
standard deviations for numbers, Jensen-Shannon distance for categories). The change "concentrates"
in a segment when that segment's effect passes the feature's threshold and is at least twice the
next largest.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> seg = np.array(["a"] * 300 + ["b"] * 300, dtype=object)
    >>> ref = rng.normal(0, 1, 600)
    >>> cur = np.r_[rng.normal(0, 1, 300), rng.normal(2, 1, 300)]
    >>> out = segment_effects("numeric", ref, seg, cur, seg, threshold=0.1)
    >>> out["concentrated_in"], [s["value"] for s in out["segments"]]
    ('b', ['b', 'a'])
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from drift.stats import binning, univariate

MIN_SEGMENT_ROWS = 30
MAX_SEGMENTS = 20
CONCENTRATION = 2.0


def _numeric_effect(ref: NDArray[Any], cur: NDArray[Any], scale: float) -> tuple[float, dict[str, Any]]:
    r, c = binning.finite(ref), binning.finite(cur)
    dist = univariate.wasserstein_samples(r, c, normalise=False)
    extra = {"reference_mean": float(r.mean()), "current_mean": float(c.mean())}
    return (dist / scale if scale > 0 else dist), extra


def _categorical_effect(ref: NDArray[Any], cur: NDArray[Any]) -> tuple[float, dict[str, Any]]:
    rc = Counter(v for v in ref if v is not None)
    cc = Counter(v for v in cur if v is not None)
    names = sorted(set(rc) | set(cc))
    if not names:
        return 0.0, {}
    r = np.array([rc[n] for n in names], dtype=float)
    c = np.array([cc[n] for n in names], dtype=float)
    if r.sum() == 0 or c.sum() == 0:
        return 0.0, {}
    return univariate.jensen_shannon(r, c), {}


def segment_effects(
    kind: str,
    ref_values: NDArray[Any],
    ref_segments: NDArray[Any],
    cur_values: NDArray[Any],
    cur_segments: NDArray[Any],
    *,
    threshold: float,
) -> dict[str, Any]:
    """Effect size per segment value (largest first) and the segment the change concentrates in."""
    numeric = kind == "numeric"
    scale = float(binning.finite(ref_values).std()) if numeric else 0.0
    total = len(cur_segments)
    counts = Counter(v for v in cur_segments if v is not None)
    out = []
    for value, n_cur in counts.most_common(MAX_SEGMENTS):
        in_ref, in_cur = ref_segments == value, cur_segments == value
        ref, cur = ref_values[in_ref], cur_values[in_cur]
        if numeric:
            ref, cur = binning.finite(ref), binning.finite(cur)
        else:
            ref, cur = ref[np.not_equal(ref, None)], cur[np.not_equal(cur, None)]
        if len(ref) < MIN_SEGMENT_ROWS or len(cur) < MIN_SEGMENT_ROWS:
            continue
        effect, extra = _numeric_effect(ref, cur, scale) if numeric else _categorical_effect(ref, cur)
        out.append({"value": str(value), "share": n_cur / total if total else 0.0, "effect": effect, **extra})
    out.sort(key=lambda s: -s["effect"])
    concentrated = None
    if out and out[0]["effect"] > threshold:
        runner_up = out[1]["effect"] if len(out) > 1 else 0.0
        if len(out) > 1 and out[0]["effect"] >= CONCENTRATION * runner_up:
            concentrated = out[0]["value"]
    return {"segments": out, "concentrated_in": concentrated}
