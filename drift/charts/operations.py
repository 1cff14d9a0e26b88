"""Operations figures: latency percentiles, volume and error rate, queue depth over windows. Pure.

Example:
    >>> fig = latency_over_time([{"window": "2026-11-20", "p50": 40.0, "p95": 90.0, "p99": 120.0}])
    >>> [t["name"] for t in fig["data"]]
    ['p50', 'p95', 'p99']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drift.charts.base import (
    BLUE,
    GREY,
    ORANGE,
    RED,
    SKY,
    TIME_AXIS,
    Figure,
    axis,
    empty_figure,
    event_markers,
    figure,
    finite,
    layout,
)


def latency_over_time(
    points: Sequence[Mapping[str, Any]], *, events: Sequence[Mapping[str, Any]] = ()
) -> Figure:
    """p50 / p95 / p99 response time per window (ms). `points`: `{"window", "p50", "p95", "p99"}`."""
    x = [p["window"] for p in points]
    traces = []
    for key, colour, dash in (("p50", BLUE, "solid"), ("p95", ORANGE, "solid"), ("p99", RED, "dot")):
        ys = [finite(p.get(key)) for p in points]
        if any(v is not None for v in ys):
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": key,
                    "x": x,
                    "y": ys,
                    "line": {"color": colour, "width": 2, "dash": dash},
                    "hovertemplate": f"%{{x}}: %{{y:.0f}} ms<extra>{key}</extra>",
                }
            )
    if not traces:
        return empty_figure("No latency reported yet.", "Response time")
    lay = layout("Response time", TIME_AXIS, "Milliseconds")
    lay["yaxis"]["rangemode"] = "tozero"
    return event_markers(figure(traces, lay), events)


def volume_and_errors(
    points: Sequence[Mapping[str, Any]], *, events: Sequence[Mapping[str, Any]] = ()
) -> Figure:
    """Predictions per window (bars) and the share that failed (line, right axis)."""
    x = [p["window"] for p in points]
    volume = [finite(p.get("volume")) for p in points]
    errors = [finite(p.get("error_rate")) for p in points]
    if not any(v for v in volume if v):
        return empty_figure("No predictions analysed yet.", "Volume and errors")
    traces = [
        {
            "type": "bar",
            "name": "Predictions",
            "x": x,
            "y": volume,
            "marker": {"color": SKY},
            "hovertemplate": "%{x}: %{y:,.0f} predictions<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Error rate",
            "x": x,
            "y": errors,
            "yaxis": "y2",
            "line": {"color": RED, "width": 2},
            "hovertemplate": "%{x}: %{y:.2%} failed<extra></extra>",
        },
    ]
    lay = layout("Volume and errors", TIME_AXIS, "Predictions")
    lay["yaxis2"] = axis(
        "Error rate", overlaying="y", side="right", tickformat=".1%", rangemode="tozero", showgrid=False
    )
    return event_markers(figure(traces, lay), events)


def queue_over_time(
    points: Sequence[Mapping[str, Any]], *, events: Sequence[Mapping[str, Any]] = ()
) -> Figure:
    """Average and peak queue depth per window, from the integration's health samples."""
    x = [p["window"] for p in points]
    avg = [finite(p.get("avg")) for p in points]
    peak = [finite(p.get("max")) for p in points]
    if not any(v is not None for v in avg + peak):
        return empty_figure("No health samples with a queue depth yet.", "Queue depth")
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Average",
            "x": x,
            "y": avg,
            "line": {"color": BLUE, "width": 2},
            "hovertemplate": "%{x}: %{y:,.0f}<extra>average</extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Peak",
            "x": x,
            "y": peak,
            "line": {"color": GREY, "width": 1.5, "dash": "dot"},
            "hovertemplate": "%{x}: %{y:,.0f}<extra>peak</extra>",
        },
    ]
    lay = layout("Queue depth", TIME_AXIS, "Requests waiting")
    lay["yaxis"]["rangemode"] = "tozero"
    return event_markers(figure(traces, lay), events)
