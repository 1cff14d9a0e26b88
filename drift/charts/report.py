"""Figures of the weekly model-health report that the model page does not have. Pure.

Example:
    >>> fig = value_by_window([("2026-11-16T00:00:00+00:00", 1200.0, "realised"),
    ...                        ("2026-11-17T00:00:00+00:00", -300.0, "estimated")], currency="EUR")
    >>> [t["name"] for t in fig["data"]], fig["data"][0]["y"]
    (['From labelled outcomes', 'Estimated'], [1200.0, None])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drift.briefing import primary_metric
from drift.charts.base import BLUE, ORANGE, TIME_AXIS, Figure, empty_figure, figure, finite, layout
from drift.charts.drift import drift_heatmap
from drift.charts.operations import volume_and_errors
from drift.charts.pages import metric_points
from drift.charts.performance import metric_over_time


def value_by_window(per_window: Sequence[tuple[str, float, str]], *, currency: str) -> Figure:
    """The value of each window's decisions in money (`briefing.Impact.per_window`), realised or
    estimated."""
    if not per_window:
        return empty_figure(
            "No value yet: set the value of each outcome on the model, or wait for an analysis.",
            "Value of the decisions",
        )
    x = [w for w, _, _ in per_window]
    traces = []
    for basis, name, colour in (
        ("realised", "From labelled outcomes", BLUE),
        ("estimated", "Estimated", ORANGE),
    ):
        traces.append(
            {
                "type": "bar",
                "name": name,
                "x": x,
                "y": [finite(v) if b == basis else None for _, v, b in per_window],
                "marker": {"color": colour},
                "hovertemplate": "%{x}: %{y:,.0f} " + currency + f"<extra>{name}</extra>",
            }
        )
    lay = layout("Value of the decisions by window", TIME_AXIS, f"Value ({currency})")
    lay["barmode"] = "overlay"
    lay["yaxis"]["tickformat"] = ",.0f"
    lay["yaxis"]["zeroline"] = True
    return figure(traces, lay)


def words(code: str) -> str:
    """``credit_history_months`` -> ``credit history months`` (as the template filter says it)."""
    return code.replace("_", " ")


def report_figures(
    *,
    series: Sequence[Mapping[str, Any]],
    cells: Sequence[Mapping[str, Any]],
    windows: Sequence[str],
    per_window: Sequence[tuple[str, float, str]],
    events: Sequence[Mapping[str, Any]],
    task: str,
    currency: str,
) -> dict[str, Figure]:
    """The report's few charts, in plain words: the headline metric, the money, what changed, traffic."""
    key, name, higher = primary_metric(task)
    points, reference = metric_points(series, key)
    volume = [
        {
            "window": s["window_start"],
            "volume": (s.get("operations") or {}).get("volume"),
            "error_rate": (s.get("operations") or {}).get("error_rate"),
        }
        for s in series
    ]
    features = {str(c["feature"]) for c in cells}
    return {
        "performance": metric_over_time(
            points, metric=name, reference=reference, percent=higher, events=events
        ),
        "value": value_by_window(per_window, currency=currency),
        # Rows named as the chips above them name the features (the schema has no display label).
        "heatmap": drift_heatmap(windows, cells, technical=False, labels={f: words(f) for f in features}),
        "volume": volume_and_errors(volume, events=events),
    }
