"""Experiment figures: the lift with its confidence sequence, the traffic split, each arm's metric. Pure.

The inputs are what `drift.selectors_experiments.experiment_results` returns: `lift` (one point per
look and challenger: estimate, lower, upper of challenger minus control), `allocation.history`
(`{"from": ISO time, "shares": {version: share}}`, appended on change) and `daily` (cumulative
per-arm count and mean by prediction day). Rates are drawn in percentage points, money in its currency.

Example:
    >>> points = [{"at": "2026-11-20T10:00:00+00:00", "challenger": "v2", "estimate": 0.03,
    ...            "lower": -0.01, "upper": 0.07, "stop_reason": ""}]
    >>> fig = lift_over_time(points, metric="accuracy", kind="proportion", mde=0.02)
    >>> [t["name"] for t in fig["data"]]
    ['Lift of v2 range upper', 'Lift of v2 range', 'Lift of v2']
    >>> fig["data"][2]["y"], [s["y0"] for s in fig["layout"]["shapes"]]
    ([3.0], [0, 2.0])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from drift.charts.base import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    PURPLE,
    RED,
    SKY,
    Figure,
    empty_figure,
    figure,
    finite,
    layout,
    wilson,
)

# Arms in order: the control first, then each challenger (Okabe-Ito, colour-vision safe).
ARM_COLOURS = (GREY, BLUE, ORANGE, GREEN, PURPLE, SKY)
BANDS = ("rgba(0,114,178,0.18)", "rgba(230,159,0,0.2)", "rgba(0,158,115,0.18)", "rgba(204,121,167,0.2)")


def _scale(kind: str) -> float:
    """Rates are plotted in percentage points (0.031 → 3.1), anything else as it is."""
    return 100.0 if kind == "proportion" else 1.0


def _unit(kind: str, metric: str, currency: str) -> str:
    if kind == "proportion":
        return "percentage points"
    return f"{currency} per prediction".strip() if metric == "business_value" else "metric units"


def _scaled(value: Any, factor: float) -> float | None:
    x = finite(value)
    return None if x is None else x * factor


def _padded(lay: dict[str, Any], x: Sequence[str]) -> dict[str, Any]:
    """A single moment on a time axis would zoom to milliseconds: show the day around it instead."""
    moments = set(x)
    if len(moments) != 1:
        return lay
    try:
        at = datetime.fromisoformat(next(iter(moments)))
    except ValueError:
        return lay
    half = timedelta(hours=12)
    lay["xaxis"] = {**lay["xaxis"], "range": [(at - half).isoformat(), (at + half).isoformat()]}
    return lay


def _hline(y: float, colour: str, dash: str) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "y0": y,
        "y1": y,
        "line": {"color": colour, "width": 1.5, "dash": dash},
    }


def lift_over_time(
    points: Sequence[Mapping[str, Any]],
    *,
    metric: str,
    kind: str,
    higher_is_better: bool = True,
    mde: float | None = None,
    currency: str = "",
) -> Figure:
    """Each challenger's difference from the control at every look, with its always-valid range (the
    confidence sequence: valid at every look at once), the zero line, and the minimum effect worth
    detecting on the better side. A look that stopped the experiment is marked."""
    factor = _scale(kind)
    challengers = list(
        dict.fromkeys(p["challenger"] for p in points if finite(p.get("estimate")) is not None)
    )
    if not challengers:
        return empty_figure(
            "No look with labelled outcomes yet: the lift appears once both arms have some.",
            "Lift over time",
        )
    traces: list[dict[str, Any]] = []
    for k, name in enumerate(challengers):
        mine = [p for p in points if p["challenger"] == name and finite(p.get("estimate")) is not None]
        x = [p["at"] for p in mine]
        label = f"Lift of {name}"
        edge = {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "line": {"width": 0},
            "hoverinfo": "skip",
            "showlegend": False,
            "legendgroup": label,
        }
        traces.append(
            {**edge, "name": f"{label} range upper", "y": [_scaled(p["upper"], factor) for p in mine]}
        )
        traces.append(
            {
                **edge,
                "name": f"{label} range",
                "y": [_scaled(p["lower"], factor) for p in mine],
                "fill": "tonexty",
                "fillcolor": BANDS[k % len(BANDS)],
            }
        )
        line: dict[str, Any] = {
            "type": "scatter",
            "mode": "lines+markers",
            "name": label,
            "legendgroup": label,
            "x": x,
            "y": [_scaled(p["estimate"], factor) for p in mine],
            "line": {"color": ARM_COLOURS[1 + k % (len(ARM_COLOURS) - 1)], "width": 2},
            "marker": {"size": 6},
            "customdata": [
                [_scaled(p["lower"], factor), _scaled(p["upper"], factor), p.get("verdict") or ""]
                for p in mine
            ],
            "hovertemplate": "%{y:.3g} (range %{customdata[0]:.3g} to %{customdata[1]:.3g})"
            "<br>%{customdata[2]}<extra>" + label + "</extra>",
        }
        if len(mine) == 1:  # one look draws no band: show its range as a bar
            y, lo, hi = line["y"][0], line["customdata"][0][0], line["customdata"][0][1]
            if None not in (y, lo, hi):
                line["error_y"] = {
                    "type": "data",
                    "symmetric": False,
                    "array": [hi - y],
                    "arrayminus": [y - lo],
                }
        traces.append(line)
    shapes = [_hline(0, GREY, "solid")]
    if finite(mde):
        better = 1.0 if higher_is_better else -1.0
        shapes.append(_hline(better * float(mde) * factor, GREEN, "dot"))
    stops = [p["at"] for p in points if p.get("stop_reason")]
    if stops:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": stops[-1],
                "x1": stops[-1],
                "y0": 0,
                "y1": 1,
                "line": {"color": RED, "width": 1.5, "dash": "dash"},
            }
        )
    direction = "higher is better" if higher_is_better else "lower is better"
    lay = layout(
        f"Lift over time: challenger minus control ({direction})",
        "Time of the look (UTC)",
        _unit(kind, metric, currency),
        shapes=shapes,
    )
    return figure(traces, _padded(lay, [p["at"] for p in points]))


def allocation_over_time(history: Sequence[Mapping[str, Any]], *, until: str | None = None) -> Figure:
    """The share of traffic routed to each arm, as it changed (a step per change), up to `until`."""
    entries = [h for h in history if h.get("from") and isinstance(h.get("shares"), Mapping)]
    if not entries:
        return empty_figure(
            "No allocation yet: traffic is split once the experiment starts.", "Traffic split"
        )
    arms = list(dict.fromkeys(v for h in entries for v in h["shares"]))
    x = [h["from"] for h in entries]
    end = until if until and until > x[-1] else None
    traces = []
    for k, arm in enumerate(arms):
        y = [finite(h["shares"].get(arm)) or 0.0 for h in entries]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": arm,
                "x": x + ([end] if end else []),
                "y": y + ([y[-1]] if end else []),
                "line": {"shape": "hv", "width": 1, "color": ARM_COLOURS[k % len(ARM_COLOURS)]},
                "stackgroup": "shares",
                "hovertemplate": "%{y:.0%}<extra>" + arm + "</extra>",
            }
        )
    lay = layout("Traffic split over time", "Time (UTC)", "Share of traffic")
    lay["yaxis"] = {**lay["yaxis"], "tickformat": ".0%", "range": [0, 1]}
    return figure(traces, lay)


def arm_metric_over_time(
    daily: Sequence[Mapping[str, Any]],
    *,
    metric: str,
    label: str,
    kind: str,
    currency: str = "",
) -> Figure:
    """Each arm's metric on all its labelled predictions so far, by prediction day; rates with their
    95 % Wilson range."""
    arms = list(dict.fromkeys(v for d in daily for v in d.get("arms", {})))
    if not arms:
        return empty_figure("No labelled outcomes yet for either arm.", f"{label.capitalize()} by arm")
    factor = _scale(kind)
    x = [d["day"] for d in daily]
    traces: list[dict[str, Any]] = []
    for k, arm in enumerate(arms):
        cells = [d.get("arms", {}).get(arm) or {} for d in daily]
        colour = ARM_COLOURS[k % len(ARM_COLOURS)]
        y = [_scaled(c.get("mean"), factor) for c in cells]
        n = [int(c.get("n") or 0) for c in cells]
        trace: dict[str, Any] = {
            "type": "scatter",
            "mode": "lines+markers",
            "name": arm,
            "x": x,
            "y": y,
            "customdata": n,
            "line": {"color": colour, "width": 2},
            "hovertemplate": "%{y:.3g} over %{customdata:,} labelled<extra>" + arm + "</extra>",
        }
        if kind == "proportion":
            ranges = [wilson(c.get("mean"), c.get("n")) for c in cells]
            trace["error_y"] = {
                "type": "data",
                "symmetric": False,
                "array": [
                    None if hi is None or v is None else hi * factor - v
                    for (_, hi), v in zip(ranges, y, strict=True)
                ],
                "arrayminus": [
                    None if lo is None or v is None else v - lo * factor
                    for (lo, _), v in zip(ranges, y, strict=True)
                ],
                "color": colour,
                "thickness": 1,
            }
        traces.append(trace)
    if kind == "proportion":
        y_title = f"{label.capitalize()} (%)"
    else:
        y_title = f"{currency} per prediction".strip() if metric == "business_value" else label.capitalize()
    lay = layout(
        f"{label.capitalize()} by arm, all labelled outcomes so far", "Prediction day (UTC)", y_title
    )
    return figure(traces, _padded(lay, x))


__all__ = ["allocation_over_time", "arm_metric_over_time", "lift_over_time"]
