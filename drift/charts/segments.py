"""Drift by segment for one window: the change inside each segment, and the segment mix. Pure.

The engine breaks each drifted feature down by every segment-role feature (`drift.engine.segments`):
each segment's effect (the feature's own kind of effect size), its share of requests and whether the
change concentrates there. These figures read that breakdown from the window's data-drift section.

Example:
    >>> section = {"status": "ok", "features": [
    ...     {"feature": "channel", "drifted": True, "threshold": 0.1, "segments": [
    ...         {"by": "customer_segment", "concentrated_in": "new", "too_small": [], "segments": [
    ...             {"value": "new", "effect": 0.5, "share": 0.4, "significant": True},
    ...             {"value": "existing", "effect": 0.2, "share": 0.6, "significant": True}]}]},
    ...     {"feature": "customer_segment", "role": "segment", "drifted": True, "summary": {"shares": [
    ...         {"value": "new", "reference": 0.3, "current": 0.4}]}}]}
    >>> fig = segment_effects(section)
    >>> fig["data"][0]["y"], fig["data"][0]["x"]
    (['customer segment = new', 'customer segment = existing'], [5.0, 2.0])
    >>> [t["name"] for t in segment_mix(section)["data"]]
    ['Reference', 'This window']
"""

from __future__ import annotations

from collections.abc import Mapping
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
)
from drift.engine.segments import MIN_SEGMENT_ROWS

MAX_FEATURES = 4  # the most changed features get a bar each; more would not be readable
MIN_SHARE = 0.005  # segment values below this share on both sides stay off the mix chart
PALETTE = (BLUE, ORANGE, GREEN, PURPLE, SKY)


def _words(name: Any) -> str:
    return str(name).replace("_", " ")


def _ratio(entry: Mapping[str, Any]) -> float:
    effect, threshold = finite(entry.get("effect_size")) or 0.0, finite(entry.get("threshold"))
    return effect / threshold if threshold else effect


def segment_rows(section: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """One row per (drifted feature, segment feature, segment value): the table and the chart's data.

    `ratio` is the effect inside the segment divided by the feature's threshold (None without one)."""
    if not section or section.get("status") != "ok":
        return []
    drifted = [e for e in section.get("features") or [] if e.get("drifted") and e.get("segments")]
    drifted.sort(key=lambda e: -_ratio(e))
    rows = []
    for entry in drifted:
        threshold = finite(entry.get("threshold"))
        for breakdown in entry["segments"]:
            where = breakdown.get("concentrated_in")
            for seg in breakdown.get("segments") or []:
                effect = finite(seg.get("effect"))
                rows.append(
                    {
                        "feature": entry["feature"],
                        "by": breakdown.get("by"),
                        "segment": seg.get("value"),
                        "share": finite(seg.get("share")),
                        "reference_share": finite(seg.get("reference_share")),
                        "effect": effect,
                        "ratio": effect / threshold if effect is not None and threshold else None,
                        "significant": bool(seg.get("significant")),
                        "concentrated": seg.get("value") == where,
                    }
                )
    return rows


def _why_empty(section: Mapping[str, Any] | None) -> str:
    features = (section or {}).get("features") or []
    if not section or section.get("status") != "ok":
        return "No drift results for this window."
    if not any(e.get("role") == "segment" for e in features):
        return "No segment declared: give a feature the role 'segment' in the version's schema."
    drifted = [e for e in features if e.get("drifted")]
    if not drifted:
        return "No input changed in this window: nothing to break down by segment."
    small = sorted(
        {str(v) for e in drifted for b in e.get("segments") or [] for v in b.get("too_small") or []}
    )
    if small:
        return (
            f"Segments too small to compare inside this window ({', '.join(small[:3])}): each needs "
            f"{MIN_SEGMENT_ROWS} rows on both sides."
        )
    return "The changed inputs could not be broken down by segment in this window."


def segment_effects(section: Mapping[str, Any] | None) -> Figure:
    """Horizontal bars: each segment (rows) x the most changed features (one colour each); length = the
    change inside the segment relative to the feature's threshold, with the threshold (1) as a line."""
    rows = [r for r in segment_rows(section) if r["ratio"] is not None]
    features = list(dict.fromkeys(r["feature"] for r in rows))[:MAX_FEATURES]
    if not features:
        return empty_figure(_why_empty(section), "Change inside each segment")
    labels = list(
        dict.fromkeys(f"{_words(r['by'])} = {r['segment']}" for r in rows if r["feature"] in features)
    )
    traces = []
    for i, name in enumerate(features):
        mine = {f"{_words(r['by'])} = {r['segment']}": r for r in rows if r["feature"] == name}
        picked = [mine.get(label) for label in labels]
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": _words(name),
                "y": labels,
                "x": [round(r["ratio"], 4) if r else None for r in picked],
                "marker": {
                    "color": PALETTE[i % len(PALETTE)],
                    "line": {
                        "color": [RED if r and r["concentrated"] else "rgba(0,0,0,0)" for r in picked],
                        "width": 2.5,
                    },
                },
                "text": [
                    (
                        f"{r['share']:.0%} of requests"
                        + (" · concentrates here" if r["concentrated"] else "")
                        + ("" if r["significant"] else " · not significant")
                    )
                    if r and r["share"] is not None
                    else ""
                    for r in picked
                ],
                "textposition": "none",  # the shares and verdicts are in the hover, not on the bars
                "hovertemplate": "%{y}: %{x:.2f}x the threshold<br>%{text}<extra>"
                + _words(name)
                + "</extra>",
            }
        )
    lay = layout(
        "Change inside each segment",
        "Change ÷ the feature's threshold",
        "",
        margin={"l": 170, "r": 20, "t": 48, "b": 96},
    )
    lay["barmode"] = "group"
    lay["height"] = max(300, 150 + 14 * len(labels) * len(features))
    lay["yaxis"]["autorange"] = "reversed"
    lay["shapes"] = [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": 1,
            "x1": 1,
            "y0": 0,
            "y1": 1,
            "line": {"color": RED, "width": 1.5, "dash": "dash"},
        }
    ]
    lay["annotations"] = [
        {
            "text": "threshold",
            "x": 1,
            "y": 1.0,
            "yanchor": "bottom",
            "xref": "x",
            "yref": "paper",
            "showarrow": False,
            "font": {"size": 11, "color": RED},
            "xanchor": "left",
        }
    ]
    return figure(traces, lay)


def segment_mix(section: Mapping[str, Any] | None) -> Figure:
    """Share of requests per segment value, reference against this window, for every segment feature."""
    segs = [
        e for e in (section or {}).get("features") or [] if e.get("role") == "segment" and e.get("summary")
    ]
    labels, ref, cur = [], [], []
    for entry in segs:
        for share in entry["summary"].get("shares") or []:
            if max(finite(share.get("reference")) or 0.0, finite(share.get("current")) or 0.0) < MIN_SHARE:
                continue  # "(new values)" and the like, when there are none
            labels.append(f"{_words(entry['feature'])} = {share['value']}")
            ref.append(finite(share.get("reference")))
            cur.append(finite(share.get("current")))
    if not labels:
        why = (
            "No segment declared: give a feature the role 'segment' in the version's schema."
            if section and section.get("status") == "ok" and not segs
            else "No segment mix for this window."
        )
        return empty_figure(why, "Segment mix")
    traces = [
        {
            "type": "bar",
            "name": name,
            "x": labels,
            "y": values,
            "marker": {"color": colour, "opacity": 0.6 if name == "Reference" else 0.9},
            "hovertemplate": f"%{{x}}: %{{y:.1%}} of requests<extra>{name}</extra>",
        }
        for name, values, colour in (("Reference", ref, GREY), ("This window", cur, BLUE))
    ]
    lay = layout("Segment mix: share of requests", "", "")
    lay["barmode"] = "group"
    lay["yaxis"]["tickformat"] = ".0%"
    return figure(traces, lay)
