"""Which figures each page shows, built from run summaries and one run's results. Pure.

Example:
    >>> figs = model_figures(series=[], cells=[], windows=[], results={}, events=[],
    ...                      task="binary_classification", values={}, currency="EUR", technical=False)
    >>> sorted(figs)
    ['outcomes', 'performance']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drift.briefing import MIN_LABELLED
from drift.charts.annotations import annotation_markers
from drift.charts.base import is_empty
from drift.charts.drift import distribution_overlay, drift_heatmap, quality_over_time, statistic_over_time
from drift.charts.operations import latency_over_time, queue_over_time, volume_and_errors
from drift.charts.performance import (
    attribution_ranking,
    business_outcomes,
    calibration_curve,
    confidence_histogram,
    fairness_groups,
    metric_over_time,
)

Figures = dict[str, dict[str, Any]]
TIME_CHARTS = ("performance", "quality", "latency", "volume", "queue", "statistic")


def with_flags(figs: Figures, flags: Sequence[Mapping[str, Any]]) -> Figures:
    """Frontline flags on every time chart that has data (an empty chart keeps saying why it is empty)."""
    for name in TIME_CHARTS:
        if name in figs and not is_empty(figs[name]):
            annotation_markers(figs[name], flags)
    return figs


def _primary(task: str) -> tuple[str, str, bool]:
    return ("mae", "Mean absolute error", False) if task == "regression" else ("accuracy", "Accuracy", True)


def metric_points(series: Sequence[Mapping[str, Any]], key: str) -> tuple[list[dict[str, Any]], float | None]:
    """Per window: realised and estimated `{value, low, high}` of metric `key`; and its reference value.
    A realised value needs `MIN_LABELLED` labelled outcomes (fewer is noise; the estimate stays)."""
    points, reference = [], None
    for s in series:
        point: dict[str, Any] = {"window": s["window_start"]}
        for section, slot in (("performance", "realised"), ("estimated_performance", "estimated")):
            part = s.get(section) or {}
            enough = section != "performance" or (part.get("labelled") or 0) >= MIN_LABELLED
            m = ((part.get("metrics") or {}).get(key) or {}) if part.get("status") == "ok" and enough else {}
            if m.get("value") is not None:
                point[slot] = m
                reference = m.get("reference", reference) if m.get("reference") is not None else reference
        points.append(point)
    return points, reference


def outcome_counts(results: Mapping[str, Any]) -> tuple[dict[str, float] | None, bool]:
    """(tp/fp/tn/fn counts, estimated?) of one run: realised when labels exist, else expected."""
    business = (results.get("performance") or {}).get("business") or {}
    if (results.get("performance") or {}).get("status") == "ok" and business.get("counts"):
        return business["counts"], False
    est = results.get("estimated_performance") or {}
    if est.get("status") == "ok" and est.get("expected_confusion"):
        return est["expected_confusion"], True
    return None, True


def _ops(series: Sequence[Mapping[str, Any]]) -> tuple[list[dict], list[dict], list[dict]]:
    latency, volume, queue = [], [], []
    for s in series:
        ops = s.get("operations") or {}
        w = s["window_start"]
        lat = ops.get("latency_ms") or {}
        latency.append({"window": w, "p50": lat.get("p50"), "p95": lat.get("p95"), "p99": lat.get("p99")})
        volume.append({"window": w, "volume": ops.get("volume"), "error_rate": ops.get("error_rate")})
        queue.append(
            {"window": w, "avg": ops.get("health_queue_depth_avg"), "max": ops.get("health_queue_depth_max")}
        )
    return latency, volume, queue


def quality_points(series: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "window": s["window_start"],
            "late": (s.get("data_quality") or {}).get("late_observed"),
            "refused": (s.get("data_quality") or {}).get("refused_observed"),
        }
        for s in series
    ]


def model_figures(
    *,
    series: Sequence[Mapping[str, Any]],
    cells: Sequence[Mapping[str, Any]],
    windows: Sequence[str],
    results: Mapping[str, Any],
    window_ids: Sequence[Any] | None = None,
    events: Sequence[Mapping[str, Any]],
    task: str,
    values: Mapping[str, float | None],
    currency: str,
    four_fifths: bool = False,
    technical: bool = True,
    flags: Sequence[Mapping[str, Any]] = (),
) -> Figures:
    """The model page's figures: two in the executive view, all of them in the technical view."""
    key, name, higher = _primary(task)
    points, reference = metric_points(series, key)
    counts, estimated = outcome_counts(results)
    figs: Figures = {
        "performance": metric_over_time(
            points, metric=name, reference=reference, percent=higher, events=events
        ),
        "outcomes": business_outcomes(counts, values, currency=currency, estimated=estimated),
    }
    if not technical:
        return with_flags(figs, flags)
    latency, volume, queue = _ops(series)
    attribution = results.get("attribution") or {}
    confidence = attribution.get("confidence") or {}
    figs.update(
        heatmap=drift_heatmap(windows, cells, window_ids=window_ids),
        calibration=calibration_curve((results.get("calibration") or {}).get("reliability")),
        quality=quality_over_time(quality_points(series), title="Late and refused records", events=events),
        latency=latency_over_time(latency, events=events),
        volume=volume_and_errors(volume, events=events),
        queue=queue_over_time(queue, events=events),
        confidence=confidence_histogram(
            (confidence.get("window") or {}).get("histogram"),
            (confidence.get("reference") or {}).get("histogram"),
        ),
        attribution=attribution_ranking(attribution.get("reference"), attribution.get("window")),
    )
    for i, attr in enumerate((results.get("fairness") or {}).get("attributes") or []):
        figs[f"fairness_{i}"] = fairness_groups(
            str(attr.get("attribute")).replace("_", " "), attr.get("groups") or [], four_fifths=four_fifths
        )
    return with_flags(figs, flags)


def feature_figures(
    *,
    name: str,
    distribution: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    quality: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    flags: Sequence[Mapping[str, Any]] = (),
) -> Figures:
    method = next((h.get("method") for h in reversed(history) if h.get("method")), "effect")
    figs = {
        "distribution": distribution_overlay(
            distribution.get("labels") or [],
            distribution.get("reference") or [],
            distribution.get("current") or [],
            feature=name,
        ),
        "statistic": statistic_over_time(history, feature=name, method=str(method), events=events),
        "quality": quality_over_time(quality, title=f"Data quality of {name}", events=events),
    }
    return with_flags(figs, flags)
