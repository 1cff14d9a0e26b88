"""The model page's tables of drift by segment and concept drift over windows. Pure.

Example:
    >>> t = concept_table([{"window": "2026-11-19", "labelled": 475, "error_rate": 0.18,
    ...                     "reference_error_rate": 0.13, "effect": 0.17, "drifted": True}])
    >>> t.rows[0]["drifted"], t.name
    (True, 'concept')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drift.charts.segments import segment_rows
from drift.engine.segments import MIN_SEGMENT_ROWS
from drift.page_tables.base import Column, Table
from drift.stats.target_rule import PER_BIN, SUMMED

# How each test that can flag a window is named in the technical table.
TEST_NAMES = {SUMMED: "all bins summed", PER_BIN: "one bin on its own (Holm)"}


def segments_table(results: Mapping[str, Any]) -> Table:
    return Table(
        "segments",
        "Change of each changed feature inside each segment",
        (
            Column("feature", "Feature"),
            Column("by", "Segment feature"),
            Column("segment", "Segment"),
            Column("share", "Share of requests", "pct"),
            Column("reference_share", "Share in the reference", "pct"),
            Column("effect", "Change inside the segment", "num"),
            Column("ratio", "Change ÷ threshold", "num"),
            Column("significant", "Significant", "bool"),
            Column("concentrated", "Change concentrates here", "bool"),
        ),
        segment_rows(results.get("data_drift")),
        empty="No changed feature could be broken down by segment in this window.",
        caption=f"Segments with at least {MIN_SEGMENT_ROWS} rows in the reference and in the window; tests "
        "corrected across a feature's segments.",
    )


def concept_table(points: Sequence[Mapping[str, Any]]) -> Table:
    rows = [
        {
            "window": p["window"],
            "labelled": p.get("labelled"),
            "error_rate": p.get("error_rate"),
            "reference_error_rate": p.get("reference_error_rate"),
            "effect": p.get("effect"),
            "drifted": bool(p.get("drifted")),
            "features": ", ".join(str(f).replace("_", " ") for f in p.get("features") or []),
            "found_by": ", ".join(TEST_NAMES.get(t, t) for t in p.get("tests_fired") or []),
            "bands": "; ".join(_band(m) for m in p.get("moved_bands") or []),
        }
        for p in points
        if p.get("error_rate") is not None
    ]
    return Table(
        "concept",
        "Concept drift by window",
        (
            Column("window", "Window start", "time"),
            Column("labelled", "Labelled predictions", "count"),
            Column("error_rate", "Error rate", "pct"),
            Column("reference_error_rate", "Reference error rate", "pct"),
            Column("effect", "Outcome change at the same score", "pct"),
            Column("drifted", "Concept drift", "bool"),
            Column("features", "Where (features)"),
            Column("found_by", "Found by"),
            Column("bands", "Score bands that moved (reference → window)"),
        ),
        list(reversed(rows)),
        empty="No window has labelled outcomes yet.",
        caption="Newest window first. A window is flagged when the outcome rates at the same score moved "
        "summed over all bins, or in one bin on its own after correcting for the bins tested; each test "
        "runs at half the significance level.",
    )


def _band(move: Mapping[str, Any]) -> str:
    """`0.42 to 0.57: 9.0% → 18.0% of 480`: a moved band's outcome rate, reference then window."""
    return (
        f"{move.get('score_band')}: {move.get('reference_rate', 0):.1%} → {move.get('window_rate', 0):.1%} "
        f"of {move.get('window_n', 0):,}"
    )
