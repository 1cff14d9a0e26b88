"""Shared pieces of every figure: palette, layout, empty figures, event markers. Pure (no Django).

A figure is a plain dict `{"data": [...], "layout": {...}}` that `json.dumps` accepts and
`Plotly.newPlot(el, fig.data, fig.layout, fig.config)` draws.

Example:
    >>> fig = empty_figure("No analysis yet.")
    >>> fig["data"], fig["layout"]["annotations"][0]["text"]
    ([], 'No analysis yet.')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
RED = "#D55E00"
SKY = "#56B4E9"
PURPLE = "#CC79A7"
GREY = "#6b6b6b"
INK = "#1f2328"
GRID = "#e3e6ea"

FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13, "color": INK}
CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
TIME_AXIS = "Window start (UTC)"

Figure = dict[str, Any]


def finite(x: Any) -> float | None:
    """A float, or None for missing, NaN and infinity (JSON has no NaN)."""
    if x is None or isinstance(x, bool):
        return None
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def axis(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title}, "gridcolor": GRID, "zeroline": False, "automargin": True, **extra}


def layout(title: str, x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    base = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        "font": FONT,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 60, "r": 20, "t": 48, "b": 96},
        "height": 340,
        "xaxis": axis(x_title),
        "yaxis": axis(y_title),
        # Anchored to the bottom of the whole figure, so it never sits on the x-axis title.
        "legend": {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0},
        "hoverlabel": {"font": {"size": 12}},
    }
    base.update(extra)
    return base


def figure(data: list[dict[str, Any]], lay: dict[str, Any]) -> Figure:
    return {"data": data, "layout": lay, "config": CONFIG}


def empty_figure(message: str, title: str = "") -> Figure:
    """A figure with no traces that says why, so the page still shows where the chart would be."""
    lay = layout(title, "", "", height=220)
    lay["xaxis"] = {"visible": False}
    lay["yaxis"] = {"visible": False}
    lay["annotations"] = [
        {
            "text": message,
            "showarrow": False,
            "xref": "paper",
            "yref": "paper",
            "x": 0.5,
            "y": 0.5,
            "font": {"size": 14, "color": GREY},
        }
    ]
    return {"data": [], "layout": lay, "config": CONFIG, "meta": {"empty": True}}


def is_empty(fig: Mapping[str, Any]) -> bool:
    return bool(fig.get("meta", {}).get("empty"))


def event_markers(fig: Figure, events: Sequence[Mapping[str, Any]], *, y: float = 1.0) -> Figure:
    """Draw each event (`{"at": ISO time, "title": str}`) as a dashed vertical line with a hover marker."""
    events = [e for e in events if e.get("at")]
    if not events:
        return fig
    shapes = fig["layout"].setdefault("shapes", [])
    for e in events:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": e["at"],
                "x1": e["at"],
                "y0": 0,
                "y1": 1,
                "line": {"color": PURPLE, "width": 1.5, "dash": "dot"},
            }
        )
    fig["data"].append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": "Events",
            "x": [e["at"] for e in events],
            "y": [y] * len(events),
            "yaxis": "y",
            "marker": {"symbol": "triangle-down", "size": 11, "color": PURPLE},
            "text": [str(e.get("title", "")) for e in events],
            "hovertemplate": "%{text}<extra>Event</extra>",
            "cliponaxis": False,
        }
    )
    return fig


def wilson(rate: float | None, n: int | None, z: float = 1.96) -> tuple[float | None, float | None]:
    """95 % Wilson interval of a proportion observed as `rate` over `n` rows.

    Example:
        >>> tuple(round(v, 3) for v in wilson(0.5, 100))
        (0.404, 0.596)
    """
    p = finite(rate)
    if p is None or not n:
        return None, None
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)
