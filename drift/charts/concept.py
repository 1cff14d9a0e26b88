"""Concept drift over windows: has the link between inputs and outcomes changed? Pure.

Two measures from each window's concept-drift section (`drift.engine.concept`), both shares of
labelled predictions: the error rate against the reference's, and the change in the outcome rate at
the same model score (``conditional.score.effect``) against its materiality threshold — drift needs
that change to pass the threshold *and* stay significant. Windows where the engine judged concept
drift are marked.

Example:
    >>> points = [{"window": "2026-11-18", "error_rate": 0.14, "reference_error_rate": 0.13,
    ...            "effect": 0.01, "drifted": False, "labelled": 400},
    ...           {"window": "2026-11-19", "error_rate": 0.18, "reference_error_rate": 0.13,
    ...            "effect": 0.17, "drifted": True, "labelled": 475}]
    >>> fig = concept_over_time(points, threshold=0.02)
    >>> [t["name"] for t in fig["data"]]
    ['Error rate', 'Reference error rate', 'Outcome change at the same score', 'Threshold', 'Concept drift']
    >>> fig["data"][-1]["x"]
    ['2026-11-19']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drift.charts.base import (
    BLUE,
    GREY,
    ORANGE,
    RED,
    TIME_AXIS,
    Figure,
    empty_figure,
    event_markers,
    figure,
    finite,
    layout,
)
from drift.engine.concept import MIN_EFFECT

# For results stored before the engine recorded its threshold (`min_effect`) with them.
DEFAULT_THRESHOLD = MIN_EFFECT


def concept_points(series: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per charted window (run summaries, oldest first): the concept-drift figures the chart needs."""
    out = []
    for s in series:
        part = s.get("concept_drift") or {}
        ok = part.get("status") == "ok"
        out.append(
            {
                "window": s["window_start"],
                "error_rate": finite(part.get("error_rate")) if ok else None,
                "reference_error_rate": finite(part.get("reference_error_rate")) if ok else None,
                "effect": finite(part.get("conditional_score_effect")) if ok else None,
                "drifted": bool(part.get("drifted")) if ok else False,
                "labelled": part.get("rows") if ok else None,
                "features": list(part.get("drifted_features") or []) if ok else [],
                "detections": part.get("detectors_adwin_drifts") if ok else None,
                "threshold": finite(part.get("min_effect")) if ok else None,
                "tests_fired": list(part.get("tests_fired") or []) if ok else [],
                "moved_bands": list(part.get("conditional_score_moved") or []) if ok else [],
            }
        )
    return out


def concept_over_time(
    points: Sequence[Mapping[str, Any]],
    *,
    threshold: float | None = DEFAULT_THRESHOLD,
    events: Sequence[Mapping[str, Any]] = (),
) -> Figure:
    """Error rate and the outcome change at the same score per window, with the reference's error rate,
    the materiality threshold, and a marker on each window judged to have concept drift."""
    x = [p["window"] for p in points]
    errors = [finite(p.get("error_rate")) for p in points]
    if not any(e is not None for e in errors):
        return empty_figure(
            "No labelled outcomes yet: concept drift is judged once outcomes arrive.", "Concept drift"
        )
    effects = [finite(p.get("effect")) for p in points]
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Error rate",
            "x": x,
            "y": errors,
            "customdata": [p.get("labelled") for p in points],
            "line": {"color": BLUE, "width": 2},
            "hovertemplate": "%{x}: %{y:.1%} wrong of %{customdata:,} labelled<extra>Error rate</extra>",
        }
    ]
    refs = [finite(p.get("reference_error_rate")) for p in points]
    known = [r for r in refs if r is not None]
    if known:
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Reference error rate",
                "x": x,
                "y": [known[-1]] * len(x) if len(set(known)) == 1 else refs,
                "line": {"color": GREY, "width": 1.5, "dash": "dot"},
                "hovertemplate": "reference: %{y:.1%}<extra></extra>",
            }
        )
    if any(e is not None for e in effects):
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "Outcome change at the same score",
                "x": x,
                "y": effects,
                "line": {"color": ORANGE, "width": 2, "dash": "dash"},
                "hovertemplate": "%{x}: outcome rate moved %{y:.1%} at the same score<extra></extra>",
            }
        )
        limit = finite(threshold)
        if limit is not None:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": "Threshold",
                    "x": [x[0], x[-1]],
                    "y": [limit, limit],
                    "line": {"color": RED, "width": 1.5, "dash": "dash"},
                    "hovertemplate": f"threshold: {limit:.0%}<extra></extra>",
                }
            )
    fired = [(p["window"], e) for p, e in zip(points, errors, strict=True) if p.get("drifted")]
    if fired:
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Concept drift",
                "x": [w for w, _ in fired],
                "y": [e for _, e in fired],
                "marker": {"symbol": "x", "size": 12, "color": RED, "line": {"width": 2, "color": RED}},
                "hovertemplate": "%{x}: concept drift detected<extra></extra>",
            }
        )
    lay = layout("Concept drift over time", TIME_AXIS, "Share of labelled predictions")
    lay["yaxis"]["tickformat"] = ".0%"
    lay["yaxis"]["rangemode"] = "tozero"
    if not any(e is not None for e in effects):
        lay["annotations"] = [
            {
                "text": "Outcome rates at the same score are compared once score bands have enough outcomes.",
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": 1.02,
                "xanchor": "left",
                "yanchor": "bottom",
                "font": {"size": 11, "color": GREY},
            }
        ]
    # Event markers sit just above the highest line, not at 100%, which would flatten the rates.
    top = max([v for t in traces for v in t["y"] if isinstance(v, float)] or [0.1])
    return event_markers(figure(traces, lay), events, y=min(1.0, top * 1.15))
