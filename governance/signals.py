"""Signals: what a policy rule reads from an analysis run's results. Pure (no Django).

A signal is a dotted path into the results that `drift.engine.run.analyse` stores per section. It
resolves to an `Observation`: `value`, the number a fixed rule compares (`"op": ">", "value": 0.2`);
`flag`, the engine's own verdict, which a learned rule (`"learned": true`) uses (its learned threshold,
its control limits, its "degraded" judgement); and `threshold`, the engine's comparison value when it
has one. A section that is not `ok` (no labels yet, not applicable, failed) gives `UNKNOWN`.

| signal | value | flag (learned) |
|---|---|---|
| data_drift.share_drifted | share of testable features drifted | any feature drifted |
| data_drift.feature.<name> | effect size | the feature's `drifted` |
| data_drift.multivariate[.pca / .domain_classifier] | AUC (or reconstruction error) | `drifted` |
| data_quality.late / refused / volume / alerts | share (count; number of alerts) | status `alert` |
| data_quality.missing / out_of_range / undeclared_category.<feature> | share | status `alert` |
| performance.<metric>, estimated_performance.<metric> | metric value | `degraded` |
| calibration.ece | expected calibration error | `worse` than the reference |
| fairness.<attribute>.<gap> | gap (or ratio) | a material gap clear of zero |
| concept_drift.adwin / ddm / page_hinkley | detections | any detection |
| concept_drift.drifted / error_rate / conditional.<feature> | 1 or 0 / rate / effect | `drifted` |
| operations.latency_p95 / latency_p99 | milliseconds | p95 slower than usual (p95 only) |
| operations.error_rate / queue_depth / volume | rate / deepest queue / rows | error-rate alert |

Example:
    >>> results = {"data_drift": {"status": "ok", "share_drifted": 0.25, "drifted_features": ["income"]}}
    >>> observe("data_drift.share_drifted", results)
    Observation(value=0.25, flag=True, threshold=None)
    >>> observe("performance.accuracy", {"performance": {"status": "no_data"}}) == UNKNOWN
    True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from drift.engine.calibration import MATERIAL_ECE_INCREASE
from drift.engine.fairness import MATERIAL_GAP
from drift.engine.operations import SLOWER

FOUR_FIFTHS = 0.8
QUALITY_CHECKS = ("late", "refused", "volume")
QUALITY_PROBLEMS = ("missing", "out_of_range", "undeclared_category")
DETECTORS = ("adwin", "ddm", "page_hinkley")
FAIRNESS_GAPS = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equal_opportunity_difference",
    "equalized_odds_difference",
    "calibration_gap",
)
_METRIC = re.compile(r"^[a-z][a-z0-9_]*$")

Results = Mapping[str, Any]


@dataclass(frozen=True)
class Observation:
    value: float | None
    flag: bool | None
    threshold: float | None


UNKNOWN = Observation(None, None, None)


@dataclass(frozen=True)
class Signal:
    """A parsed signal: `kind` names the resolver, `arg` its parameter (feature, metric, ...)."""

    text: str
    kind: str
    arg: str = ""
    sub: str = ""

    @property
    def section(self) -> str:
        return self.text.split(".", 1)[0]

    @property
    def learnable(self) -> bool:
        return self.kind not in NO_FLAG

    @property
    def feature(self) -> str | None:
        """The drift feature a `data_drift.feature.<name>` signal watches (false alarms adapt it)."""
        return self.arg if self.kind == "feature" else None


# Signals with no engine verdict: only fixed thresholds apply.
NO_FLAG = frozenset({"latency_p99", "queue_depth", "volume_ops", "concept_error_rate"})
_FIXED = {
    "data_drift.share_drifted": "share_drifted",
    "data_drift.multivariate": "multivariate",
    "data_quality.alerts": "quality_alerts",
    "calibration.ece": "ece",
    "concept_drift.drifted": "concept_drifted",
    "concept_drift.error_rate": "concept_error_rate",
    "operations.latency_p95": "latency_p95",
    "operations.latency_p99": "latency_p99",
    "operations.error_rate": "error_rate",
    "operations.queue_depth": "queue_depth",
    "operations.volume": "volume_ops",
}


def parse_signal(text: str) -> Signal:
    """The signal named by `text`; ValueError with a reason when it names none."""
    if not isinstance(text, str) or not text:
        raise ValueError("must be a non-empty string")
    if text in _FIXED:
        return Signal(text, _FIXED[text])
    head, _, rest = text.partition(".")
    if head == "data_drift" and rest.startswith("feature.") and len(rest) > len("feature."):
        return Signal(text, "feature", rest[len("feature.") :])
    if head == "data_drift" and rest in ("multivariate.pca", "multivariate.domain_classifier"):
        return Signal(text, "multivariate_method", rest.split(".", 1)[1])
    if head == "data_quality":
        if rest in QUALITY_CHECKS:
            return Signal(text, "quality_check", rest)
        problem, _, feature = rest.partition(".")
        if problem in QUALITY_PROBLEMS and feature:
            return Signal(text, "quality_feature", feature, problem)
    if head in ("performance", "estimated_performance") and _METRIC.match(rest):
        return Signal(text, "metric", rest)
    if head == "fairness" and "." in rest:
        attribute, _, gap = rest.rpartition(".")
        if gap in FAIRNESS_GAPS and attribute:
            return Signal(text, "fairness", attribute, gap)
        raise ValueError(f"the fairness measure must be one of {', '.join(FAIRNESS_GAPS)}")
    if head == "concept_drift":
        if rest in DETECTORS:
            return Signal(text, "detector", rest)
        if rest.startswith("conditional.") and len(rest) > len("conditional."):
            return Signal(text, "conditional", rest[len("conditional.") :])
    raise ValueError(f"unknown signal '{text[:100]}' (see the README's list of signals)")


def _ok(results: Results, name: str) -> Mapping[str, Any] | None:
    section = results.get(name)
    return section if isinstance(section, Mapping) and section.get("status") == "ok" else None


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    return float(value) if isinstance(value, int | float) else None


def _check(check: Mapping[str, Any] | None) -> Observation:
    """A control-limit check of data quality or operations: alert status, observed share, its limit."""
    if not isinstance(check, Mapping) or _num(check.get("observed")) is None:
        return UNKNOWN
    observed = _num(check["observed"])
    lower, upper = _num(check.get("lower")), _num(check.get("upper"))
    below = lower is not None and observed is not None and observed < lower
    return Observation(observed, check.get("status") == "alert", lower if below else upper)


def _share_drifted(s: Mapping[str, Any], sig: Signal) -> Observation:
    share = _num(s.get("share_drifted"))
    return Observation(share, bool(s.get("drifted_features")), None) if share is not None else UNKNOWN


def _feature(s: Mapping[str, Any], sig: Signal) -> Observation:
    for entry in s.get("features") or []:
        if entry.get("feature") == sig.arg:
            if not entry.get("testable", True) or _num(entry.get("effect_size")) is None:
                return UNKNOWN
            return Observation(
                _num(entry["effect_size"]), bool(entry.get("drifted")), _num(entry.get("threshold"))
            )
    return UNKNOWN


def _multivariate(s: Mapping[str, Any], sig: Signal) -> Observation:
    mv = s.get("multivariate") or {}
    if mv.get("status") != "ok":
        return UNKNOWN
    dc = mv.get("domain_classifier") or {}
    testable = dc.get("testable", True)
    value = _num(dc.get("statistic")) if testable else None
    return Observation(value, bool(mv.get("drifted")), _num(dc.get("threshold")) if testable else None)


def _multivariate_method(s: Mapping[str, Any], sig: Signal) -> Observation:
    mv = s.get("multivariate") or {}
    method = mv.get(sig.arg) if mv.get("status") == "ok" else None
    if not isinstance(method, Mapping) or not method.get("testable", False):
        return UNKNOWN
    return Observation(
        _num(method.get("statistic")), bool(method.get("drifted")), _num(method.get("threshold"))
    )


def _quality_check(s: Mapping[str, Any], sig: Signal) -> Observation:
    return _check(s.get(sig.arg))


def _quality_feature(s: Mapping[str, Any], sig: Signal) -> Observation:
    feature = (s.get("features") or {}).get(sig.arg)
    if not isinstance(feature, Mapping):
        return UNKNOWN
    check = feature.get(sig.sub)
    if check is None and sig.sub != "missing":
        # The section lists a value problem only once it has occurred: none so far is a share of 0.
        return Observation(0.0, False, None)
    return _check(check)


def _quality_alerts(s: Mapping[str, Any], sig: Signal) -> Observation:
    alerts = s.get("alerts")
    return Observation(float(len(alerts)), bool(alerts), None) if isinstance(alerts, list) else UNKNOWN


def _metric(s: Mapping[str, Any], sig: Signal) -> Observation:
    metric = (s.get("metrics") or {}).get(sig.arg)
    if not isinstance(metric, Mapping) or _num(metric.get("value")) is None:
        return UNKNOWN
    return Observation(_num(metric["value"]), bool(metric.get("degraded")), _num(metric.get("reference")))


def _ece(s: Mapping[str, Any], sig: Signal) -> Observation:
    ece, reference = _num(s.get("ece")), _num(s.get("reference_ece"))
    if ece is None:
        return UNKNOWN
    if reference is None:
        return Observation(ece, None, None)
    return Observation(ece, bool(s.get("worse")), reference + MATERIAL_ECE_INCREASE)


def _fairness(s: Mapping[str, Any], sig: Signal) -> Observation:
    for report in s.get("attributes") or []:
        if not isinstance(report, Mapping) or report.get("attribute") != sig.arg:
            continue
        gap = report.get(sig.sub) or {}
        value = _num(gap.get("value"))
        if value is None:
            return UNKNOWN
        if sig.sub == "demographic_parity_ratio":
            passed = report.get("four_fifths_passed")
            return Observation(value, None if passed is None else not passed, FOUR_FIFTHS)
        # The engine's flag (drift.engine.fairness._flags): material, and its interval clear of zero.
        ci = gap.get("ci") or {}
        low = _num(ci.get("low"))
        clear = low is None or low > 0
        return Observation(value, value >= MATERIAL_GAP and clear, MATERIAL_GAP)
    return UNKNOWN


def _detector(s: Mapping[str, Any], sig: Signal) -> Observation:
    detector = (s.get("detectors") or {}).get(sig.arg)
    drifts = _num(detector.get("drifts")) if isinstance(detector, Mapping) else None
    return Observation(drifts, drifts > 0, 0.0) if drifts is not None else UNKNOWN


def _concept_drifted(s: Mapping[str, Any], sig: Signal) -> Observation:
    drifted = s.get("drifted")
    return Observation(float(drifted), drifted, None) if isinstance(drifted, bool) else UNKNOWN


def _concept_error_rate(s: Mapping[str, Any], sig: Signal) -> Observation:
    rate = _num(s.get("error_rate"))
    return Observation(rate, None, _num(s.get("reference_error_rate"))) if rate is not None else UNKNOWN


def _conditional(s: Mapping[str, Any], sig: Signal) -> Observation:
    table = (s.get("conditional") or {}).get(sig.arg)
    if not isinstance(table, Mapping) or not isinstance(table.get("drifted"), bool):
        return UNKNOWN
    return Observation(_num(table.get("effect")), table["drifted"], None)


def _latency(s: Mapping[str, Any], sig: Signal) -> Observation:
    latency = s.get("latency_ms")
    key = "p95" if sig.kind == "latency_p95" else "p99"
    value = _num(latency.get(key)) if isinstance(latency, Mapping) else None
    if value is None:
        return UNKNOWN
    if key == "p95" and "slower" in latency:
        usual = _num(latency.get("usual_p95"))
        return Observation(value, bool(latency["slower"]), SLOWER * usual if usual is not None else None)
    return Observation(value, None, None)


def _error_rate(s: Mapping[str, Any], sig: Signal) -> Observation:
    rate = _num(s.get("error_rate"))
    if rate is None:
        return UNKNOWN
    errors = s.get("errors") or {}
    return Observation(rate, errors.get("status") == "alert", _num(errors.get("upper")))


def _queue_depth(s: Mapping[str, Any], sig: Signal) -> Observation:
    health = s.get("health") or {}
    depth = _num(health.get("queue_depth_max")) if health.get("samples") else None
    return Observation(depth, None, None) if depth is not None else UNKNOWN


def _volume(s: Mapping[str, Any], sig: Signal) -> Observation:
    volume = _num(s.get("volume"))
    return Observation(volume, None, None) if volume is not None else UNKNOWN


RESOLVERS: dict[str, Callable[[Mapping[str, Any], Signal], Observation]] = {
    "share_drifted": _share_drifted,
    "feature": _feature,
    "multivariate": _multivariate,
    "multivariate_method": _multivariate_method,
    "quality_check": _quality_check,
    "quality_feature": _quality_feature,
    "quality_alerts": _quality_alerts,
    "metric": _metric,
    "ece": _ece,
    "fairness": _fairness,
    "detector": _detector,
    "concept_drifted": _concept_drifted,
    "concept_error_rate": _concept_error_rate,
    "conditional": _conditional,
    "latency_p95": _latency,
    "latency_p99": _latency,
    "error_rate": _error_rate,
    "queue_depth": _queue_depth,
    "volume_ops": _volume,
}


def observe(signal: str | Signal, results: Results) -> Observation:
    """What `signal` reads in one run's results (`UNKNOWN` when its section did not compute it)."""
    sig = signal if isinstance(signal, Signal) else parse_signal(signal)
    section = _ok(results, sig.section)
    if section is None:
        return UNKNOWN
    return RESOLVERS[sig.kind](section, sig)
