"""Drift figures: the feature x window heatmap, a feature's distribution and its change over time. Pure.

Example:
    >>> fig = drift_heatmap(["2026-11-20"], [{"feature": "income", "window": "2026-11-20", "ratio": 1.5,
    ...                                      "drifted": True}])
    >>> fig["data"][0]["type"], fig["data"][0]["z"]
    ('heatmap', [[1.5]])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

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

CellT = TypeVar("CellT", bound=Mapping[str, Any])

# Colour = effect ÷ the feature's learned threshold; 1 is the line, capped at 3 so one wild feature
# does not wash out the rest. Light below the line, amber at it, dark red well past it.
RATIO_CAP = 3.0
RATIO_SCALE = [
    [0.0, "#f4f6f8"],
    [0.2, "#c6dbef"],
    [1 / RATIO_CAP, "#fdd49e"],
    [0.6, "#fc8d59"],
    [1.0, "#990000"],
]


def drift_heatmap(
    windows: Sequence[str],
    cells: Sequence[Mapping[str, Any]],
    *,
    technical: bool = True,
    window_ids: Sequence[Any] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """Features (rows, most changed first) x windows (columns, oldest first); colour = effect relative
    to the learned threshold. `cells`: `{"feature", "window", "ratio", "drifted"}`; a cell whose ratio is
    None (not testable) stays blank, and a feature never compared (an identifier) gets no row at all.
    `window_ids` (e.g. run ids) ride along as `customdata` so a click can open the window. `labels` name
    the rows for readers (feature -> label; the name where missing); the model page leaves them out,
    as its click opens the feature named on the row."""
    if not windows or not cells:
        return empty_figure("No analysed windows yet: run an analysis to see which features change.")
    cells = compared_cells(cells)
    if not cells:
        return empty_figure("No feature could be compared with the reference in these windows.")
    grid: dict[str, dict[str, Mapping[str, Any]]] = {}
    for c in cells:
        grid.setdefault(str(c["feature"]), {})[str(c["window"])] = c
    peak = {f: max((finite(c.get("ratio")) or 0.0) for c in row.values()) for f, row in grid.items()}
    features = sorted(grid, key=lambda f: (-peak[f], f))
    z, text = [], []
    for f in features:
        zrow, trow = [], []
        for w in windows:
            cell = grid[f].get(w)
            ratio = finite(cell.get("ratio")) if cell else None
            zrow.append(None if ratio is None else min(ratio, RATIO_CAP))
            if ratio is None:
                trow.append("not compared")
            else:
                verdict = "changed" if cell and cell.get("drifted") else "within its usual range"
                trow.append(f"{ratio:.2f}x its threshold — {verdict}" if technical else verdict)
        z.append(zrow)
        text.append(trow)
    trace = {
        "type": "heatmap",
        "x": list(windows),
        "y": [(labels or {}).get(f) or f for f in features],
        "z": z,
        "text": text,
        "zmin": 0,
        "zmax": RATIO_CAP,
        "colorscale": RATIO_SCALE,
        "xgap": 1,
        "ygap": 1,
        "hoverongaps": False,
        "hovertemplate": "%{y} · %{x}<br>%{text}<extra></extra>",
        **({"customdata": [list(window_ids)] * len(features)} if window_ids else {}),
        "colorbar": {
            "title": {"text": "Effect ÷ threshold" if technical else "Change vs.<br>alarm level"},
            "tickvals": [0, 1, 2, 3],
            "ticktext": ["0", "1 (threshold)", "2", "≥3"] if technical else ["none", "at alarm", "2x", "≥3x"],
            "thickness": 12,
        },
    }
    lay = layout(
        "Change by feature and window",
        TIME_AXIS,
        "",
        margin={"l": 150, "r": 20, "t": 48, "b": 60},
    )
    lay["height"] = max(260, 110 + 22 * len(features))
    lay["yaxis"]["autorange"] = "reversed"
    lay["yaxis"]["type"] = "category"
    return figure([trace], lay)


def compared_cells(cells: Sequence[CellT]) -> list[CellT]:
    """The cells of features compared in at least one window: an identifier (no statistic anywhere)
    would only add an empty row.

    >>> len(compared_cells([{"feature": "id", "ratio": None}, {"feature": "age", "ratio": 0.4}]))
    1
    """
    compared = {str(c["feature"]) for c in cells if finite(c.get("ratio")) is not None}
    return [c for c in cells if str(c["feature"]) in compared]


def sparkline(
    values: Sequence[float | None], labels: Sequence[str], *, name: str, percent: bool = True
) -> Figure:
    """A tiny trend line with no axes (portfolio table)."""
    points = [(lab, finite(v)) for lab, v in zip(labels, values, strict=True)]
    if not any(v is not None for _, v in points):
        return empty_figure("no trend yet")
    fmt = ".0%" if percent else ".3g"
    trace = {
        "type": "scatter",
        "mode": "lines+markers",
        "name": name,
        "x": [lab for lab, _ in points],
        "y": [v for _, v in points],
        "line": {"color": BLUE, "width": 2},
        "marker": {"size": 4},
        "connectgaps": True,
        "hovertemplate": f"%{{x}}: %{{y:{fmt}}}<extra>{name}</extra>",
    }
    lay = {
        "margin": {"l": 2, "r": 2, "t": 2, "b": 2},
        "height": 40,
        "width": 140,
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "showlegend": False,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
    }
    return {"data": [trace], "layout": lay, "config": {"displayModeBar": False, "staticPlot": False}}


def distribution_overlay(
    labels: Sequence[str], reference: Sequence[float], current: Sequence[float], *, feature: str
) -> Figure:
    """Reference vs current shares per bin (bins from the reference profile)."""
    ref_total, cur_total = sum(reference), sum(current)
    if not labels or not cur_total:
        return empty_figure(f"No profiled values of {feature} in this window.")
    ref_share = [r / ref_total if ref_total else None for r in reference]
    cur_share = [c / cur_total for c in current]
    traces = [
        {
            "type": "bar",
            "name": "Reference",
            "x": list(labels),
            "y": ref_share,
            "marker": {"color": GREY, "opacity": 0.55},
            "hovertemplate": "%{x}: %{y:.1%}<extra>Reference</extra>",
        },
        {
            "type": "bar",
            "name": "This window",
            "x": list(labels),
            "y": cur_share,
            "marker": {"color": BLUE, "opacity": 0.8},
            "hovertemplate": "%{x}: %{y:.1%}<extra>This window</extra>",
        },
    ]
    lay = layout(f"Distribution of {feature}: reference vs this window", feature, "Share of rows")
    lay["barmode"] = "group"
    lay["yaxis"]["tickformat"] = ".0%"
    lay["xaxis"]["type"] = "category"
    return figure(traces, lay)


def statistic_over_time(
    points: Sequence[Mapping[str, Any]],
    *,
    feature: str,
    method: str,
    events: Sequence[Mapping[str, Any]] = (),
) -> Figure:
    """A feature's effect size per window against its learned threshold (which moves with window size).
    `points`: `{"window", "effect", "threshold", "drifted"}`."""
    points = [p for p in points if finite(p.get("effect")) is not None]
    if not points:
        return empty_figure(f"No comparisons of {feature} yet.")
    x = [p["window"] for p in points]
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": f"Effect ({method})",
            "x": x,
            "y": [finite(p["effect"]) for p in points],
            "line": {"color": BLUE, "width": 2},
            "marker": {
                "size": 8,
                "color": [RED if p.get("drifted") else BLUE for p in points],
                "symbol": ["diamond" if p.get("drifted") else "circle" for p in points],
            },
            "hovertemplate": "%{x}: %{y:.3g}<extra>effect</extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Learned threshold",
            "x": x,
            "y": [finite(p.get("threshold")) for p in points],
            "line": {"color": ORANGE, "width": 2, "dash": "dash", "shape": "hv"},
            "hovertemplate": "%{x}: %{y:.3g}<extra>threshold</extra>",
        },
    ]
    lay = layout(f"{feature}: change against the reference over time", TIME_AXIS, f"Effect size ({method})")
    lay["yaxis"]["rangemode"] = "tozero"
    return event_markers(figure(traces, lay), events)


QUALITY_SERIES = (
    ("missing", "Missing values", BLUE),
    ("out_of_range", "Out of declared range", ORANGE),
    ("undeclared_category", "Undeclared category", RED),
    ("late", "Arrived late", ORANGE),
    ("refused", "Refused at ingestion", RED),
)


def quality_over_time(
    points: Sequence[Mapping[str, Any]],
    *,
    title: str = "Data quality over time",
    events: Sequence[Mapping[str, Any]] = (),
) -> Figure:
    """Shares of problem values per window. `points`: `{"window", "missing": share, "late": share, …}`;
    a series appears only when some window has a value for it."""
    traces = []
    for key, name, colour in QUALITY_SERIES:
        ys = [finite(p.get(key)) for p in points]
        if any(v is not None for v in ys):
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": name,
                    "x": [p["window"] for p in points],
                    "y": ys,
                    "line": {"color": colour, "width": 2},
                    "hovertemplate": f"%{{x}}: %{{y:.2%}}<extra>{name}</extra>",
                }
            )
    if not traces:
        return empty_figure("No data-quality checks recorded yet.", title)
    lay = layout(title, TIME_AXIS, "Share of rows")
    # Whole percents like the rest of the app; one decimal only when every share is under 5 %, where
    # whole-percent ticks would repeat ("0%, 1%, 1%").
    top = max((v for t in traces for v in t["y"] if v is not None), default=0.0)
    lay["yaxis"]["tickformat"] = ".0%" if top >= 0.05 else ".1%"
    lay["yaxis"]["rangemode"] = "tozero"
    return event_markers(figure(traces, lay), events)
