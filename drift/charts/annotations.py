"""Frontline flags (annotations) drawn on the time charts. Pure (no Django).

A flagged time range is a shaded band; every flag also gets a star marker whose hover shows its
category, status, author and note. Notes are user text and Plotly renders hover text as a small HTML
subset, so `&`, `<` and `>` are escaped here: a note reads exactly as it was typed, never as markup.

Example:
    >>> fig = {"data": [{"type": "scatter", "x": ["2026-11-19"], "y": [1.0]}], "layout": {}}
    >>> flag = {"id": 7, "target": "time_range", "at": "2026-11-19T03:00:00+00:00",
    ...         "start": "2026-11-19T00:00:00+00:00", "end": "2026-11-19T06:00:00+00:00",
    ...         "category": "Data problem", "status": "open", "by": "bob", "note": "<b>odd</b>"}
    >>> fig = annotation_markers(fig, [flag])
    >>> fig["data"][-1]["name"], fig["layout"]["shapes"][0]["type"]
    ('Flags', 'rect')
    >>> fig["data"][-1]["text"][0].endswith("&lt;b&gt;odd&lt;/b&gt;")
    True
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from drift.charts.base import Figure

FLAG_COLOUR = "#8a5a00"  # dark amber: apart from the palette's series colours and the events' purple
BAND = "rgba(230, 159, 0, 0.16)"
# Markers sit on a hidden axis fixed to [0, 1] laid over the chart, so they stay at the top whatever
# the chart's own scale (a percentage, milliseconds, a count).
AXIS_KEY, AXIS_REF = "yaxis9", "y9"
NOTE_SHOWN = 280  # characters of the note in the hover; the triage page has all of it
LINE = 60


def escape(text: str) -> str:
    """Plotly's hover-text markup made inert: `<b>` shows as `<b>`.

    Example:
        >>> escape('<img src=x onerror="alert(1)"> & co')
        '&lt;img src=x onerror="alert(1)"&gt; &amp; co'
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def hover_text(flag: Mapping[str, Any]) -> str:
    """`#id Category (status) by who` then the note, wrapped, each piece escaped."""
    note = str(flag.get("note") or "")
    if len(note) > NOTE_SHOWN:
        note = note[: NOTE_SHOWN - 1] + "…"
    # Wrap before escaping, so a line break never splits an entity such as `&lt;`.
    lines = textwrap.wrap(" ".join(note.split()), LINE) or [""]
    head = f"#{flag.get('id', '')} {flag.get('category', '')} ({flag.get('status', '')})"
    if flag.get("by"):
        head += f" by {flag['by']}"
    parts = [head, *([str(flag["what"])] if flag.get("what") else []), *lines]
    return "<br>".join(escape(part) for part in parts)


def annotation_markers(fig: Figure, flags: Sequence[Mapping[str, Any]]) -> Figure:
    """Add `flags` (`{"id", "target", "at", "start"?, "end"?, "category", "status", "by"?, "note"}`,
    times as ISO text) to a time chart: a band per time range, a star per flag at `at`."""
    flags = [f for f in flags if f.get("at")]
    if not flags:
        return fig
    shapes = fig["layout"].setdefault("shapes", [])
    for f in flags:
        if f.get("start") and f.get("end"):
            shapes.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "paper",
                    "x0": f["start"],
                    "x1": f["end"],
                    "y0": 0,
                    "y1": 1,
                    "fillcolor": BAND,
                    "line": {"width": 0},
                    "layer": "below",
                    "name": f"flag-{f.get('id', '')}",
                }
            )
    fig["layout"][AXIS_KEY] = {
        "overlaying": "y",
        "range": [0, 1],
        "visible": False,
        "fixedrange": True,
        "showgrid": False,
    }
    fig["data"].append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": "Flags",
            "x": [f["at"] for f in flags],
            "y": [0.95] * len(flags),
            "yaxis": AXIS_REF,
            "marker": {
                "symbol": "star",
                "size": 13,
                "color": FLAG_COLOUR,
                "line": {"width": 1, "color": "#fff"},
            },
            "text": [hover_text(f) for f in flags],
            "customdata": [f.get("id") for f in flags],
            "hovertemplate": "%{text}<extra>Flag</extra>",
            "cliponaxis": False,
        }
    )
    return fig
