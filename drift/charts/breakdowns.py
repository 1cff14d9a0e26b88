"""The model page's figures of drift by segment and concept drift (technical view). Pure.

Example:
    >>> sorted(breakdown_figures(series=[], results={}, events=[]))
    ['concept', 'segment_mix', 'segments']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drift.charts.concept import DEFAULT_THRESHOLD, concept_over_time, concept_points
from drift.charts.segments import segment_effects, segment_mix


def breakdown_figures(
    *,
    series: Sequence[Mapping[str, Any]],
    results: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Segments of the chosen window (its data-drift section); concept drift over the charted windows."""
    points = concept_points(series)
    threshold = next((p["threshold"] for p in reversed(points) if p.get("threshold") is not None), None)
    drift = results.get("data_drift")
    return {
        "segments": segment_effects(drift),
        "segment_mix": segment_mix(drift),
        "concept": concept_over_time(points, threshold=threshold or DEFAULT_THRESHOLD, events=events),
    }
