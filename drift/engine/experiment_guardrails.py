"""Guardrails of an experiment: is a challenger worse than control by more than its margin? Pure.

Each guardrail is a one-sided non-inferiority check (`drift.stats.sequential.non_inferiority`) with
always-valid bounds, since it is checked at every look and a breach stops the experiment. Margins:
``latency_p95`` relative (0.1: the challenger's p95 may be up to 10 % above control's);
``error_rate`` absolute share of failed requests (0.005 = half a point); ``fairness_ratio`` absolute
drop of the selection-rate ratio (lowest group / highest); ``calibration_error`` absolute rise of ECE.

Example:
    >>> sketch = {"bins": [0] * 50 + [100], "count": 100}  # every request in [28.2 ms, 31.6 ms)
    >>> share_above(sketch, 25.0), round(share_above(sketch, 30.0), 3)  # inside: by log distance
    (1.0, 0.458)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from drift.profiles import LATENCY_EDGES, latency_quantiles
from drift.stats import sequential
from drift.stats.bootstrap import bootstrap_distribution
from drift.stats.calibration import calibration_error

if TYPE_CHECKING:
    from drift.engine.experiments import ArmData

GUARDRAILS = {
    "latency_p95": "latency p95",
    "error_rate": "serving error rate",
    "fairness_ratio": "fairness ratio",
    "calibration_error": "calibration error",
}
QUANTILE = 0.95
MIN_GROUP = 30  # rows a sensitive group needs before its selection rate counts in the fairness ratio
BOOTSTRAP = 200  # resamples for the standard error of ECE and of the fairness ratio


@dataclass(frozen=True)
class Estimate:
    """A per-arm statistic with its standard error and the rows behind it."""

    value: float
    se: float
    n: int


def share_above(latency: Mapping[str, Any], threshold: float) -> float:
    """Share of a latency sketch above ``threshold``, interpolating inside the log-spaced bins."""
    counts = np.asarray(latency.get("bins", []), dtype=float)
    total = counts.sum()
    if total <= 0:
        return 0.0
    edges = np.asarray(LATENCY_EDGES)
    # bin_counts puts values below the first edge in bin 0 and above the last in the final bin.
    lows = np.concatenate([[0.0], edges])[: counts.size]
    highs = np.concatenate([edges, [math.inf]])[: counts.size]
    above = counts[lows >= threshold].sum()
    inside = (lows < threshold) & (highs > threshold) & np.isfinite(highs) & (lows > 0)
    for i in np.flatnonzero(inside):
        above += counts[i] * math.log(highs[i] / threshold) / math.log(highs[i] / lows[i])
    return float(min(1.0, above / total))


def calibration_estimate(
    labels: Sequence[Any], scores: Sequence[Any], positive_label: str, seed: int
) -> Estimate | None:
    """ECE of labelled rows with scores, with a seeded bootstrap standard error."""
    pairs = [
        (str(y) == positive_label, float(s)) for y, s in zip(labels, scores, strict=True) if s is not None
    ]
    if len(pairs) < MIN_GROUP:
        return None
    y = np.array([p[0] for p in pairs], dtype=float)
    s = np.clip(np.array([p[1] for p in pairs]), 0.0, 1.0)
    value = calibration_error(y, s, positive_label=1.0).ece
    edges = np.linspace(0.0, 1.0, 11)
    which = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, 9)

    def ece(yy: np.ndarray, ss: np.ndarray, bb: np.ndarray) -> np.ndarray:
        onehot = bb[..., None] == np.arange(10)
        counts = onehot.sum(axis=-2)
        gaps = np.abs((onehot * (yy - ss)[..., None]).sum(axis=-2))
        return gaps.sum(axis=-1) / counts.sum(axis=-1)

    reps = bootstrap_distribution(ece, y, s, which, n_resamples=BOOTSTRAP, seed=seed)
    return Estimate(float(value or 0.0), float(np.nanstd(reps)), len(pairs))


def fairness_estimate(
    groups: Sequence[Any], predictions: Sequence[Any], positive_label: str, seed: int
) -> Estimate | None:
    """Selection-rate ratio (lowest group rate / highest) over groups with enough rows, bootstrapped."""
    g = np.array(["" if v is None else str(v) for v in groups], dtype=object)
    sel = np.array([str(p) == positive_label for p in predictions], dtype=float)
    names, codes = np.unique(g, return_inverse=True)
    sizes = np.bincount(codes, minlength=names.size)
    kept = np.flatnonzero(sizes >= MIN_GROUP)
    if kept.size < 2:
        return None

    def ratio(cc: np.ndarray, ss: np.ndarray) -> np.ndarray:
        onehot = cc[..., None] == kept
        rates = (onehot * ss[..., None]).sum(axis=-2) / np.maximum(onehot.sum(axis=-2), 1)
        top = rates.max(axis=-1)
        return np.where(top > 0, rates.min(axis=-1) / np.where(top > 0, top, 1), 1.0)

    value = float(ratio(codes, sel))
    reps = bootstrap_distribution(ratio, codes, sel, n_resamples=BOOTSTRAP, seed=seed)
    return Estimate(value, float(np.nanstd(reps)), int(sizes[kept].sum()))


def guardrail_check(
    spec: Mapping[str, Any], control: ArmData, arm: ArmData, criteria: Mapping[str, Any]
) -> dict[str, Any]:
    metric, margin = spec["metric"], float(spec["margin"])
    out: dict[str, Any] = {
        "metric": metric,
        "label": GUARDRAILS[metric],
        "challenger": arm.version,
        "margin": margin,
    }
    seq = {"alpha": float(criteria["alpha_per_challenger"]), "rho": float(criteria["rho"])}
    check: sequential.NonInferiority | None = None
    if metric == "error_rate" and control.traffic and arm.traffic:
        ec, et = control.errors / control.traffic, arm.errors / arm.traffic
        vc, vt = max(ec * (1 - ec), 1e-12), max(et * (1 - et), 1e-12)
        se = math.sqrt(vc / control.traffic + vt / arm.traffic)
        check = sequential.non_inferiority(et - ec, se, margin=margin, n_eff=(vc + vt) / se**2, **seq)
        out.update(control_value=ec, challenger_value=et)
    elif metric == "latency_p95" and control.latency and arm.latency and arm.latency.get("count"):
        p95_c = latency_quantiles(control.latency, (QUANTILE,))["p95"]
        p95_t = latency_quantiles(arm.latency, (QUANTILE,))["p95"]
        if p95_c:
            # Is the challenger's p95 below (1 + margin) x control's? Equivalently: is its share of
            # requests slower than that limit below 5 %? A one-sample test of that share.
            n, tail = int(arm.latency["count"]), 1 - QUANTILE
            se = math.sqrt(tail * QUANTILE / n)
            share = share_above(arm.latency, p95_c * (1 + margin))
            check = sequential.non_inferiority(share - tail, se, margin=0.0, n_eff=n, **seq)
            out.update(control_value=p95_c, challenger_value=p95_t, limit=p95_c * (1 + margin))
    elif metric in ("calibration_error", "fairness_ratio"):
        ec, et = getattr(control, metric.split("_")[0]), getattr(arm, metric.split("_")[0])
        if ec is not None and et is not None and ec.se + et.se > 0:
            se = math.sqrt(ec.se**2 + et.se**2)
            harm = et.value - ec.value if metric == "calibration_error" else ec.value - et.value
            n_eff = 2 / (1 / max(ec.n, 1) + 1 / max(et.n, 1))
            check = sequential.non_inferiority(harm, se, margin=margin, n_eff=n_eff, **seq)
            out.update(control_value=ec.value, challenger_value=et.value)
    if check is None:
        return {**out, "status": "no_data"}
    return {
        **out,
        "harm": check.harm,
        "harm_lower": check.harm_lower,
        "harm_upper": check.harm_upper,
        "p_value": check.p_value,
        "status": check.status,
    }
