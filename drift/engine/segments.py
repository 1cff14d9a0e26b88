"""Where a change comes from: the segment mix, or a change inside one segment. Pure.

For a drifted feature and a segment-role feature (``customer_segment``), two things move the feature:
the segments' shares (more new customers, who earn less) and the feature inside a segment. Both are
measured on the reservoirs:

* **Mix.** Segment shares, reference vs window (chi-square on the counts). The mix *moved* when that
  test is significant (p < `MIX_ALPHA`) and some segment's share moved by `MIN_MIX_CHANGE` or more.
  How much of the feature's change it explains: the reference, reweighted to the window's segment
  shares, is compared with the window; ``explained = 1 - effect(reweighted, window) /
  effect(reference, window)``.
* **Inside each segment** with `MIN_SEGMENT_ROWS` rows on both sides: the effect size (the kind the
  feature uses: Wasserstein in reference standard deviations for numbers, Jensen-Shannon distance
  for categories), a test (KS; chi-square for categories), Benjamini-Hochberg across the segments,
  and the segment's contribution to the overall change: its window share times its effect, so a
  small segment's noise weighs as little as the segment does.

The change *concentrates* in a segment when that segment's change is significant and passes the
feature's threshold, its contribution is at least `CONCENTRATION` times any other segment's, and the
mix explains less than half of the change.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> seg = np.array(["a"] * 300 + ["b"] * 300, dtype=object)
    >>> ref = rng.normal(0, 1, 600)
    >>> cur = np.r_[rng.normal(0, 1, 300), rng.normal(2, 1, 300)]
    >>> out = segment_effects("numeric", ref, seg, cur, seg, threshold=0.1)
    >>> out["concentrated_in"], [s["value"] for s in out["segments"]], out["mix"]["moved"]
    ('b', ['b', 'a'], False)
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from drift.engine.bins import category_test
from drift.stats import binning, thresholds, univariate

MIN_SEGMENT_ROWS = 100
MAX_SEGMENTS = 20
CONCENTRATION = 2.0
SEGMENT_ALPHA = 0.05  # false discovery rate across one feature's segments
MIX_ALPHA = 0.01
MIN_MIX_CHANGE = 0.05  # five points of share
#: The mix "explains" a change when reweighting the reference to the window's shares removes this much.
MIX_EXPLAINS = 0.5
MISSING = "(missing)"


def _labels(segments: NDArray[Any]) -> NDArray[Any]:
    return np.array([MISSING if v is None else str(v) for v in segments], dtype=object)


def _valid(values: NDArray[Any], numeric: bool) -> NDArray[np.bool_]:
    if numeric:
        return np.isfinite(np.asarray(values, dtype=float))
    return np.not_equal(values, None)


def _effect(
    numeric: bool, ref: NDArray[Any], cur: NDArray[Any], scale: float, weights: NDArray[Any] | None = None
) -> float:
    """The feature's effect size between two samples (the reference's rows optionally weighted)."""
    if ref.size == 0 or cur.size == 0 or (weights is not None and weights.sum() <= 0):
        return 0.0
    if numeric:
        dist = float(stats.wasserstein_distance(ref.astype(float), cur.astype(float), u_weights=weights))
        return dist / scale if scale > 0 else dist
    names = sorted(set(ref.tolist()) | set(cur.tolist()))
    index = {n: i for i, n in enumerate(names)}
    r = np.bincount([index[v] for v in ref], weights=weights, minlength=len(names))
    c = np.bincount([index[v] for v in cur], minlength=len(names)).astype(float)
    return univariate.jensen_shannon(r, c)


def _p_value(numeric: bool, ref: NDArray[Any], cur: NDArray[Any]) -> float:
    if numeric:
        return float(stats.ks_2samp(ref.astype(float), cur.astype(float)).pvalue)
    names = sorted(set(ref.tolist()) | set(cur.tolist()))
    r, c = Counter(ref.tolist()), Counter(cur.tolist())
    return category_test(np.array([r[n] for n in names], float), np.array([c[n] for n in names], float))[2]


def _mix(
    ref_seg: NDArray[Any],
    cur_seg: NDArray[Any],
    numeric: bool,
    ref: NDArray[Any],
    cur: NDArray[Any],
    scale: float,
) -> dict[str, Any]:
    """Did the segment shares move, and how much of the feature's change does that explain?

    ``ref``/``cur`` are the feature's valid values and ``ref_seg``/``cur_seg`` their rows' segments.
    """
    rc, cc = Counter(ref_seg.tolist()), Counter(cur_seg.tolist())
    names = sorted(set(rc) | set(cc))
    r = np.array([rc[n] for n in names], dtype=float)
    c = np.array([cc[n] for n in names], dtype=float)
    if r.sum() == 0 or c.sum() == 0 or len(names) < 2:
        return {"moved": False, "p_value": None, "explained": None}
    rs, cs = r / r.sum(), c / c.sum()
    top = int(np.argmax(np.abs(cs - rs)))
    p_value = category_test(r, c)[2]
    moved = bool(p_value < MIX_ALPHA and abs(cs[top] - rs[top]) >= MIN_MIX_CHANGE)
    full = _effect(numeric, ref, cur, scale)
    share = dict(zip(names, cs / np.where(rs > 0, rs, np.inf), strict=True))  # window / reference share
    weights = np.array([share[s] for s in ref_seg.tolist()], dtype=float)
    reweighted = _effect(numeric, ref, cur, scale, weights)
    explained = float(np.clip(1 - reweighted / full, 0.0, 1.0)) if full > 0 else None
    return {
        "moved": moved,
        "p_value": p_value,
        "value": names[top],
        "reference_share": float(rs[top]),
        "current_share": float(cs[top]),
        "explained": explained,
    }


def segment_effects(
    kind: str,
    ref_values: NDArray[Any],
    ref_segments: NDArray[Any],
    cur_values: NDArray[Any],
    cur_segments: NDArray[Any],
    *,
    threshold: float,
) -> dict[str, Any]:
    """Each segment's effect, test and contribution (largest contribution first), the segment mix, and
    the segment the change concentrates in (None unless one clearly does)."""
    numeric = kind == "numeric"
    ref_ok, cur_ok = _valid(ref_values, numeric), _valid(cur_values, numeric)
    ref, cur = ref_values[ref_ok], cur_values[cur_ok]
    ref_seg, cur_seg = _labels(ref_segments)[ref_ok], _labels(cur_segments)[cur_ok]
    scale = float(binning.finite(ref).std()) if numeric else 0.0
    n_ref, n_cur = len(ref_seg), len(cur_seg)
    out, too_small = [], []
    for value, rows in Counter(cur_seg.tolist()).most_common(MAX_SEGMENTS):
        in_ref, in_cur = ref_seg == value, cur_seg == value
        r, c = ref[in_ref], cur[in_cur]
        if len(r) < MIN_SEGMENT_ROWS or len(c) < MIN_SEGMENT_ROWS:
            too_small.append(value)
            continue
        effect = _effect(numeric, r, c, scale)
        entry = {
            "value": value,
            "share": rows / n_cur,
            "reference_share": len(r) / n_ref if n_ref else 0.0,
            "n_reference": len(r),
            "n_current": len(c),
            "effect": effect,
            "p_value": _p_value(numeric, r, c),
            "contribution": rows / n_cur * effect,
        }
        if numeric:
            entry.update(
                reference_mean=float(r.astype(float).mean()), current_mean=float(c.astype(float).mean())
            )
        out.append(entry)
    significant = thresholds.benjamini_hochberg([s["p_value"] for s in out], SEGMENT_ALPHA)
    for s, sig in zip(out, significant.tolist(), strict=True):
        s["significant"] = bool(sig)
    out.sort(key=lambda s: -s["contribution"])
    mix = _mix(ref_seg, cur_seg, numeric, ref, cur, scale)
    mix_explains = bool(mix["moved"] and (mix["explained"] or 0.0) >= MIX_EXPLAINS)
    concentrated = None
    if out and len(out) > 1 and not mix_explains:
        top, runner_up = out[0], out[1]["contribution"]
        if (
            top["significant"]
            and top["effect"] > threshold
            and top["contribution"] >= CONCENTRATION * runner_up
        ):
            concentrated = top["value"]
    return {
        "segments": out,
        "concentrated_in": concentrated,
        "mix": mix,
        "mix_explains": mix_explains,
        "too_small": too_small,
    }
