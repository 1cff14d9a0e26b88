"""One look at an experiment: per-arm sufficient statistics in, lift, guardrails, SRM and a verdict out. Pure.

The service aggregates, per arm and per prediction day, the count, sum and sum of squares of the
primary metric's per-prediction value (0/1 for rates, money for business value, |error| for MAE);
`evaluate` turns them into the always-valid lift of each challenger (`drift.stats.sequential`), the
guardrail checks, the sample-ratio check, the bandit allocation (`drift.stats.bandits`) and the
first stopping rule that fires, in this order: sample-ratio mismatch (the data cannot be trusted),
guardrail breach, success, futility, planned duration.

Example:
    >>> arm = lambda v, c, x: ArmData(v, c, 0.5, 2_000, {"2026-11-20": Moments(2_000, x, x)})
    >>> criteria = {"metric": "accuracy", "mde": 0.02, "alpha_per_challenger": 0.05, "rho": 500.0,
    ...             "mode": "ab", "guardrails": [], "min_labelled": 200}
    >>> out = evaluate(criteria, [arm("v1", True, 1_500), arm("v2", False, 1_640)])
    >>> c = out["comparisons"][0]
    >>> round(c["estimate"], 3), c["verdict"], out["stop"]["reason"]
    (0.07, 'better', 'success')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from drift.engine.experiment_guardrails import Estimate, guardrail_check
from drift.stats import bandits, sequential


@dataclass(frozen=True)
class MetricSpec:
    label: str
    kind: str  # proportion | mean
    higher_is_better: bool
    tasks: tuple[str, ...]


BINARY, MULTI, REG = "binary_classification", "multiclass_classification", "regression"
METRICS: dict[str, MetricSpec] = {
    "accuracy": MetricSpec("accuracy", "proportion", True, (BINARY, MULTI)),
    "error_rate": MetricSpec("error rate", "proportion", False, (BINARY, MULTI)),
    "true_positive_rate": MetricSpec("true positive rate", "proportion", True, (BINARY,)),
    "true_negative_rate": MetricSpec("true negative rate", "proportion", True, (BINARY,)),
    "precision": MetricSpec("precision", "proportion", True, (BINARY,)),
    "business_value": MetricSpec("business value per prediction", "mean", True, (BINARY, REG)),
    "mean_absolute_error": MetricSpec("mean absolute error", "mean", False, (REG,)),
}


@dataclass(frozen=True)
class Moments:
    """Count, sum and sum of squares of a per-prediction value: everything a difference of means needs."""

    n: float = 0.0
    total: float = 0.0
    sumsq: float = 0.0

    def __add__(self, other: Moments) -> Moments:
        return Moments(self.n + other.n, self.total + other.total, self.sumsq + other.sumsq)

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None


@dataclass(frozen=True)
class ArmData:
    version: str
    is_control: bool
    planned_share: float
    traffic: int  # predictions served in the data window (labelled or not)
    daily: Mapping[str, Moments]  # ISO day of the prediction -> moments of its labelled predictions
    errors: int = 0
    latency: Mapping[str, Any] | None = None  # a profile latency sketch {count, bins, max, ...}
    calibration: Estimate | None = None
    fairness: Estimate | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def metric_moments(
    metric: str,
    *,
    confusion: Mapping[str, Mapping[str, int]] | None = None,
    errors: Mapping[str, float] | None = None,
    positive_label: str = "1",
    values: Mapping[str, float] | None = None,
    cost_per_unit_error: float | None = None,
) -> Moments:
    """The metric's moments from a label sketch's confusion counts (classifiers) or error sums (regression).

    Example:
        >>> confusion = {"1": {"1": 30, "0": 10}, "0": {"0": 50, "1": 10}}  # prediction -> label -> count
        >>> metric_moments("accuracy", confusion=confusion)
        Moments(n=100.0, total=80.0, sumsq=80.0)
        >>> value = {"tp": 0, "fp": -5, "tn": 1, "fn": -2}
        >>> metric_moments("business_value", confusion=confusion, values=value)
        Moments(n=100.0, total=-20.0, sumsq=340.0)
    """
    if errors is not None:
        n, abs_sum, sq_sum = (
            float(errors.get("count", 0)),
            errors.get("abs_sum", 0.0),
            errors.get("sq_sum", 0.0),
        )
        if metric == "mean_absolute_error":
            return Moments(n, abs_sum, sq_sum)
        c = float(cost_per_unit_error or 0.0)
        return Moments(n, -c * abs_sum, c * c * sq_sum)  # business value = -cost * |error|
    m = Moments()
    for pred, row in (confusion or {}).items():
        for label, count in row.items():
            m = m + _cell(
                metric, pred == label, pred == positive_label, label == positive_label, count, values
            )
    return m


def _cell(
    metric: str,
    right: bool,
    pred_pos: bool,
    label_pos: bool,
    count: float,
    values: Mapping[str, float] | None,
) -> Moments:
    if metric in ("accuracy", "error_rate"):
        hit = float(right if metric == "accuracy" else not right)
        return Moments(count, hit * count, hit * count)
    if metric == "true_positive_rate":
        return Moments(count, count * pred_pos, count * pred_pos) if label_pos else Moments()
    if metric == "true_negative_rate":
        return Moments(count, count * (not pred_pos), count * (not pred_pos)) if not label_pos else Moments()
    if metric == "precision":
        return Moments(count, count * label_pos, count * label_pos) if pred_pos else Moments()
    cell = ("t" if pred_pos == label_pos else "f") + ("p" if pred_pos else "n")
    v = float((values or {}).get(cell) or 0.0)
    return Moments(count, v * count, v * v * count)


def _comparison(control: Moments, arm: Moments, criteria: Mapping[str, Any]) -> dict[str, Any]:
    d = sequential.difference_of_means(
        int(control.n),
        control.total,
        control.sumsq,
        int(arm.n),
        arm.total,
        arm.sumsq,
        rho=float(criteria["rho"]),
        alpha=float(criteria["alpha_per_challenger"]),
    )
    sign = 1.0 if METRICS[criteria["metric"]].higher_is_better else -1.0
    finite = math.isfinite(d.estimate)
    return {
        "estimate": d.estimate if finite else None,
        "lower": d.lower if finite else None,
        "upper": d.upper if finite else None,
        "p_value": d.p_value,
        "control_mean": d.control_mean if finite else control.mean,
        "challenger_mean": d.treatment_mean if finite else arm.mean,
        "relative": d.estimate / d.control_mean if finite and d.control_mean else None,
        "n_control": int(control.n),
        "n_challenger": int(arm.n),
        # The gain in the better direction: for "lower is better" metrics a drop is a gain.
        "gain": sign * d.estimate if finite else None,
        "gain_lower": min(sign * d.lower, sign * d.upper) if finite else None,
        "gain_upper": max(sign * d.lower, sign * d.upper) if finite else None,
    }


def _verdict(c: dict[str, Any], mde: float, min_n: int) -> str:
    if c["gain"] is None or min(c["n_control"], c["n_challenger"]) < min_n:
        return "too_early"
    if c["gain_lower"] > 0:
        return "better"
    if c["gain_upper"] < 0:
        return "worse"
    return "smaller_than_mde" if c["gain_upper"] < mde else "inconclusive"


def _srm(
    arms: Sequence[ArmData], criteria: Mapping[str, Any], expected: Sequence[float] | None
) -> dict[str, Any]:
    shares = expected if expected is not None else [a.planned_share for a in arms]
    check = sequential.sample_ratio_mismatch(
        [a.traffic for a in arms],
        shares,
        threshold=float(criteria.get("srm_threshold", sequential.SRM_THRESHOLD)),
    )
    enough = sum(a.traffic for a in arms) >= int(criteria.get("min_traffic_srm", 1_000))
    return {
        "chi2": check.chi2,
        "p_value": check.p_value,
        "mismatch": check.mismatch and enough,
        "observed": {a.version: a.traffic for a in arms},
        "expected_shares": {a.version: s for a, s in zip(arms, check.expected_shares, strict=True)},
        # Bandit shares move with the data and serving systems adopt them with a delay: reported only.
        "enforced": criteria["mode"] == "ab",
    }


def _allocation(
    arms: Sequence[ArmData], totals: Sequence[Moments], criteria: Mapping[str, Any], seed: int
) -> tuple[dict[str, float], dict[str, float] | None]:
    if METRICS[criteria["metric"]].kind != "proportion":
        return {a.version: a.planned_share for a in arms}, None
    better_is_one = METRICS[criteria["metric"]].higher_is_better
    wins = [m.total if better_is_one else m.n - m.total for m in totals]
    losses = [m.n - w for m, w in zip(totals, wins, strict=True)]
    best = bandits.prob_best(wins, losses, seed=seed)
    prob = {a.version: p for a, p in zip(arms, best, strict=True)}
    if criteria["mode"] != "bandit":
        return {a.version: a.planned_share for a in arms}, prob
    shares = bandits.allocation(wins, losses, floor=float(criteria.get("bandit_floor", 0.05)), seed=seed)
    return {a.version: s for a, s in zip(arms, shares, strict=True)}, prob


def _daily(arms: Sequence[ArmData], criteria: Mapping[str, Any]) -> list[dict[str, Any]]:
    days = sorted({day for a in arms for day in a.daily})
    running = [Moments() for _ in arms]
    out = []
    for day in days:
        running = [r + a.daily.get(day, Moments()) for r, a in zip(running, arms, strict=True)]
        point: dict[str, Any] = {
            "day": day,
            "arms": {a.version: {"n": int(r.n), "mean": r.mean} for a, r in zip(arms, running, strict=True)},
        }
        point["comparisons"] = {
            a.version: {k: c[k] for k in ("estimate", "lower", "upper")}
            for a, r in zip(arms[1:], running[1:], strict=True)
            for c in [_comparison(running[0], r, criteria)]
        }
        out.append(point)
    return out


def _stop(results: dict[str, Any], criteria: Mapping[str, Any], due: bool) -> dict[str, str] | None:
    if results["srm"]["mismatch"] and results["srm"]["enforced"]:
        return {
            "reason": "sample_ratio_mismatch",
            "detail": f"traffic split p = {results['srm']['p_value']:.2g}",
        }
    breached = [g for g in results["guardrails"] if g["status"] == "breach"]
    if breached:
        g = breached[0]
        return {"reason": "guardrail", "detail": f"{g['label']} of {g['challenger']} breached its margin"}
    verdicts = [c["verdict"] for c in results["comparisons"]]
    if "better" in verdicts:
        return {
            "reason": "success",
            "detail": f"{results['comparisons'][verdicts.index('better')]['challenger']} is better",
        }
    if verdicts and all(v in ("worse", "smaller_than_mde") for v in verdicts):
        worse = [c["challenger"] for c in results["comparisons"] if c["verdict"] == "worse"]
        detail = f"{', '.join(worse)} worse than the control; " if worse else ""
        return {
            "reason": "futility",
            "detail": detail + "no challenger can reach the minimum detectable effect",
        }
    if due:
        return {"reason": "planned_duration", "detail": "the planned duration is over"}
    return None


def evaluate(
    criteria: Mapping[str, Any],
    arms: Sequence[ArmData],
    *,
    due: bool = False,
    expected_shares: Sequence[float] | None = None,
    seed: int = 0,
    previous_p: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Everything one look knows. ``arms[0]`` is the control; ``criteria`` as locked at start.

    ``previous_p`` holds each challenger's always-valid p-value so far: the sequence is the running
    minimum of the per-look values (``drift.stats.sequential.always_valid_p_values``).
    """
    spec = METRICS[criteria["metric"]]
    totals = [sum(a.daily.values(), Moments()) for a in arms]
    min_n = int(criteria.get("min_labelled", 200))
    comparisons = []
    for arm, total in zip(arms[1:], totals[1:], strict=True):
        c = {"challenger": arm.version, "control": arms[0].version, **_comparison(totals[0], total, criteria)}
        c["always_valid_p"] = min(c["p_value"], (previous_p or {}).get(arm.version, 1.0))
        c["verdict"] = _verdict(c, float(criteria["mde"]), min_n)
        comparisons.append(c)
    allocation, prob_best = _allocation(arms, totals, criteria, seed)
    results: dict[str, Any] = {
        "metric": {
            "name": criteria["metric"],
            "label": spec.label,
            "kind": spec.kind,
            "higher_is_better": spec.higher_is_better,
        },
        "alpha": float(criteria["alpha_per_challenger"]),
        "arms": [
            {
                "version": a.version,
                "role": "control" if a.is_control else "challenger",
                "planned_share": a.planned_share,
                "traffic": a.traffic,
                "labelled": int(t.n),
                "mean": t.mean,
            }
            for a, t in zip(arms, totals, strict=True)
        ],
        "comparisons": comparisons,
        "daily": _daily(arms, criteria),
        "guardrails": [
            guardrail_check(g, arms[0], a, criteria) for g in criteria.get("guardrails", []) for a in arms[1:]
        ],
        "srm": _srm(arms, criteria, expected_shares),
        "allocation": allocation,
        "prob_best": prob_best,
    }
    results["stop"] = _stop(results, criteria, due)
    return results
