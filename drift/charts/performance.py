"""Performance figures: a metric over time with bands, calibration, outcomes in money, confidence,
what drives the predictions, and fairness by group. Pure.

Example:
    >>> fig = calibration_curve({"edges": [0, 0.5, 1], "counts": [10, 5],
    ...                          "mean_predicted": [0.2, 0.7], "observed_rate": [0.25, 0.6]})
    >>> [t["name"] for t in fig["data"]]
    ['Perfect calibration', 'This window']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drift.charts.base import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    RED,
    SKY,
    TIME_AXIS,
    Figure,
    empty_figure,
    event_markers,
    figure,
    finite,
    layout,
    wilson,
)


def _band(
    x: list[str], low: list[float | None], high: list[float | None], colour: str, name: str
) -> list[dict]:
    """A shaded band between `low` and `high` (two traces: the upper edge, then the lower filled to it)."""
    edge = {
        "type": "scatter",
        "mode": "lines",
        "x": x,
        "line": {"width": 0},
        "hoverinfo": "skip",
        "showlegend": False,
        "legendgroup": name,
    }
    return [
        {**edge, "y": high, "name": f"{name} upper"},
        {**edge, "y": low, "name": f"{name} range", "fill": "tonexty", "fillcolor": colour},
    ]


def metric_over_time(
    points: Sequence[Mapping[str, Any]],
    *,
    metric: str,
    reference: float | None = None,
    percent: bool = True,
    events: Sequence[Mapping[str, Any]] = (),
) -> Figure:
    """Realised (from labels) and estimated (before labels) values of one metric per window, each with
    its likely range. `points`: `{"window", "realised": {value, low, high} | None, "estimated": …}`."""
    x = [p["window"] for p in points]
    traces: list[dict[str, Any]] = []
    fmt = ".1%" if percent else ".3g"
    series = (
        ("estimated", f"Estimated {metric.lower()} (before labels)", ORANGE, "rgba(230,159,0,0.18)", "dash"),
        ("realised", f"{metric} from labelled outcomes", BLUE, "rgba(0,114,178,0.18)", "solid"),
    )
    for key, name, colour, fill, dash in series:
        vals = [(p.get(key) or {}) for p in points]
        ys = [finite(v.get("value")) for v in vals]
        if not any(y is not None for y in ys):
            continue
        traces += _band(
            x, [finite(v.get("low")) for v in vals], [finite(v.get("high")) for v in vals], fill, name
        )
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "legendgroup": name,
                "x": x,
                "y": ys,
                "line": {"color": colour, "width": 2, "dash": dash},
                "hovertemplate": f"%{{x}}: %{{y:{fmt}}}<extra>{name}</extra>",
            }
        )
    if not traces:
        return empty_figure(f"No {metric.lower()} yet: it appears once windows are analysed.", metric)
    ref = finite(reference)
    if ref is not None:
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Reference",
                "x": [x[0], x[-1]],
                "y": [ref, ref],
                "line": {"color": GREY, "width": 1.5, "dash": "dot"},
                "hovertemplate": f"reference: %{{y:{fmt}}}<extra></extra>",
            }
        )
    lay = layout(f"{metric} over time", TIME_AXIS, metric)
    if percent:
        lay["yaxis"]["tickformat"] = ".0%"
    return event_markers(figure(traces, lay), events)


def calibration_curve(reliability: Mapping[str, Any] | None, *, reference_ece: float | None = None) -> Figure:
    """Observed outcome rate against the mean predicted probability, per score bin, with the diagonal."""
    rel = reliability or {}
    pairs = [
        (finite(mp), finite(obs), n)
        for mp, obs, n in zip(
            rel.get("mean_predicted", []), rel.get("observed_rate", []), rel.get("counts", []), strict=False
        )
    ]
    pairs = [(mp, obs, n) for mp, obs, n in pairs if mp is not None and obs is not None and n]
    if not pairs:
        return empty_figure(
            "No labelled outcomes with scores in this window yet: choose an earlier window.", "Calibration"
        )
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Perfect calibration",
            "x": [0, 1],
            "y": [0, 1],
            "line": {"color": GREY, "dash": "dot", "width": 1.5},
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "This window",
            "x": [p[0] for p in pairs],
            "y": [p[1] for p in pairs],
            "text": [str(p[2]) for p in pairs],
            "marker": {"size": [min(18, 6 + p[2] ** 0.5) for p in pairs], "color": BLUE},
            "line": {"color": BLUE, "width": 2},
            "hovertemplate": "predicted %{x:.1%} → observed %{y:.1%} (%{text} rows)<extra></extra>",
        },
    ]
    lay = layout("Calibration: predicted vs observed", "Mean predicted probability", "Observed rate")
    lay["xaxis"].update(range=[0, 1], tickformat=".0%")
    lay["yaxis"].update(range=[0, 1], tickformat=".0%")
    return figure(traces, lay)


OUTCOME_NAMES = {
    "tp": "Correctly flagged",
    "fp": "Flagged in error",
    "tn": "Correctly cleared",
    "fn": "Missed",
}


def business_outcomes(
    counts: Mapping[str, float] | None, values: Mapping[str, float | None], *, currency: str, estimated: bool
) -> Figure:
    """Money per outcome (count x value of that outcome): gains above zero, costs below."""
    keys = [k for k in ("tp", "fp", "tn", "fn") if values.get(k) is not None]
    if not counts or not keys:
        return empty_figure("No outcome values set for this model, or no outcomes yet.", "Business outcomes")
    amounts = [float(counts.get(k) or 0) * float(values[k] or 0) for k in keys]
    trace = {
        "type": "bar",
        "x": [OUTCOME_NAMES[k] for k in keys],
        "y": amounts,
        "text": [f"{counts.get(k, 0):,.0f} x {values[k]:,.0f}" for k in keys],
        # Inside the bar when it fits, above it otherwise; never clipped at the plot's top edge.
        "textposition": "auto",
        "cliponaxis": False,
        "marker": {"color": [GREEN if a >= 0 else RED for a in amounts]},
        "hovertemplate": "%{x}: %{text} = %{y:,.0f} " + currency + "<extra></extra>",
        "name": "Value",
    }
    basis = "estimated outcomes" if estimated else "labelled outcomes"
    lay = layout(
        f"What this window's decisions are worth ({basis})", "", f"Value ({currency})", showlegend=False
    )
    lay["yaxis"]["tickformat"] = ",.0f"
    lay["yaxis"]["zeroline"] = True
    return figure([trace], lay)


def confidence_histogram(
    window: Sequence[int] | None, reference: Sequence[int] | None = None, *, edges: int = 10
) -> Figure:
    """Share of predictions per score band (10 bands over 0-1), this window against the reference."""
    if not window or not sum(window):
        return empty_figure("No scores in this window.", "Score distribution")
    labels = [f"{i / edges:.0%}-{(i + 1) / edges:.0%}" for i in range(edges)]
    traces = []
    for name, counts, colour in (("Reference", reference, GREY), ("This window", window, BLUE)):
        if counts and sum(counts):
            total = sum(counts)
            traces.append(
                {
                    "type": "bar",
                    "name": name,
                    "x": labels,
                    "y": [c / total for c in counts],
                    "marker": {"color": colour, "opacity": 0.55 if name == "Reference" else 0.85},
                    "hovertemplate": f"%{{x}}: %{{y:.1%}}<extra>{name}</extra>",
                }
            )
    lay = layout("Predicted probability distribution", "Predicted probability", "Share of predictions")
    lay["barmode"] = "group"
    lay["yaxis"]["tickformat"] = ".0%"
    return figure(traces, lay)


def attribution_ranking(
    reference: Mapping[str, float] | None, window: Mapping[str, float] | None, *, top: int = 10
) -> Figure:
    """Importance of the top features in this window next to the reference's, most important first."""
    if not window:
        return empty_figure("No feature importance computed for this window.", "What drives the predictions")
    ref = reference or {}
    names = sorted(window, key=lambda f: -(finite(window[f]) or 0.0))[:top]
    names.reverse()  # horizontal bars draw bottom-up
    traces = [
        {
            "type": "bar",
            "orientation": "h",
            "name": name,
            "y": names,
            "x": [finite(src.get(f)) for f in names],
            "marker": {"color": colour},
            "hovertemplate": f"%{{y}}: %{{x:.3g}}<extra>{name}</extra>",
        }
        for name, src, colour in (("Reference", ref, GREY), ("This window", window, SKY))
        if src
    ]
    lay = layout(
        "What drives the predictions",
        "Importance",
        "",
        height=max(280, 80 + 26 * len(names)),
        margin={"l": 150, "r": 20, "t": 48, "b": 60},
    )
    lay["barmode"] = "group"
    return figure(traces, lay)


def fairness_groups(
    attribute: str, groups: Sequence[Mapping[str, Any]], *, four_fifths: bool = False
) -> Figure:
    """Selection rate per group with 95 % intervals; with the four-fifths rule on, the band below four
    fifths of the highest rate is shaded."""
    rows = [(str(g["group"]), finite(g.get("selection_rate")), int(g.get("n") or 0)) for g in groups]
    rows = [r for r in rows if r[1] is not None]
    if not rows:
        return empty_figure(
            f"No {attribute} group is large enough to judge yet.", f"Positive decisions by {attribute}"
        )
    intervals = [wilson(rate, n) for _, rate, n in rows]
    trace = {
        "type": "bar",
        "name": "Positive-decision rate",
        "x": [r[0] for r in rows],
        "y": [r[1] for r in rows],
        "customdata": [r[2] for r in rows],
        "error_y": {
            "type": "data",
            "symmetric": False,
            "array": [(hi or r[1]) - r[1] for r, (_, hi) in zip(rows, intervals, strict=True)],
            "arrayminus": [r[1] - (lo or r[1]) for r, (lo, _) in zip(rows, intervals, strict=True)],
            "color": GREY,
        },
        "marker": {"color": BLUE},
        "hovertemplate": "%{x}: %{y:.1%} of %{customdata} rows<extra></extra>",
    }
    lay = layout(
        f"Positive decisions by {attribute} (95% intervals)",
        attribute,
        "Positive-decision rate",
        showlegend=False,
    )
    lay["yaxis"]["tickformat"] = ".0%"
    lay["yaxis"]["rangemode"] = "tozero"
    lay["xaxis"]["type"] = "category"
    if four_fifths:
        line = 0.8 * max(r[1] for r in rows)
        lay["shapes"] = [
            {
                "type": "rect",
                "xref": "paper",
                "yref": "y",
                "x0": 0,
                "x1": 1,
                "y0": 0,
                "y1": line,
                "fillcolor": "rgba(213,94,0,0.10)",
                "line": {"width": 0},
                "layer": "below",
            },
            {
                "type": "line",
                "xref": "paper",
                "yref": "y",
                "x0": 0,
                "x1": 1,
                "y0": line,
                "y1": line,
                "line": {"color": ORANGE, "dash": "dash", "width": 1.5},
            },
        ]
        lay["annotations"] = [
            {
                "text": "four fifths of the highest rate",
                "xref": "paper",
                "yref": "y",
                "x": 1,
                "y": line,
                "xanchor": "right",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11, "color": ORANGE},
            }
        ]
    return figure([trace], lay)
