"""Run the sections of an analysis; one failing section never fails the others. Pure.

Example:
    >>> out = empty_results("no_data", "No predictions in the window.")
    >>> sorted(out) == sorted(SECTIONS), out["operations"]["status"]
    (True, 'no_data')
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from drift.engine.attribution import attribution_section
from drift.engine.calibration import calibration_section
from drift.engine.concept import concept_section
from drift.engine.context import ERROR, NOT_APPLICABLE, SECTIONS, WindowInput, jsonable, skipped
from drift.engine.drift import data_drift
from drift.engine.fairness import fairness_section
from drift.engine.operations import operations_section
from drift.engine.performance import estimated_performance, performance_section
from drift.engine.quality import data_quality

log = logging.getLogger(__name__)

SECTION_FUNCTIONS: dict[str, Callable[[WindowInput], dict[str, Any]]] = {
    "data_drift": data_drift,
    "data_quality": data_quality,
    "performance": performance_section,
    "estimated_performance": estimated_performance,
    "calibration": calibration_section,
    "fairness": fairness_section,
    "concept_drift": concept_section,
    "attribution": attribution_section,
    "operations": operations_section,
}


def empty_results(status: str, reason: str) -> dict[str, dict[str, Any]]:
    """Every section with the same status and reason (a window without data, a missing reference)."""
    return {name: skipped(status, reason) for name in SECTIONS}


def analyse(
    inp: WindowInput,
    *,
    sections: Iterable[str] = SECTIONS,
    skip_reason: str = "Not computed for this kind of run.",
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each section's JSON-ready result, in `SECTIONS` order."""
    wanted = set(sections)
    out: dict[str, dict[str, Any]] = {}
    for name in SECTIONS:
        if name not in wanted:
            out[name] = skipped(NOT_APPLICABLE, skip_reason)
        else:
            try:
                out[name] = jsonable(SECTION_FUNCTIONS[name](inp))
            except Exception as exc:  # one section's bug or bad data must not cost the others
                log.exception("analysis section %s failed", name)
                out[name] = skipped(
                    ERROR, f"This section failed ({type(exc).__name__}: {exc}); the others are unaffected."
                )
        if progress is not None:
            progress(name)
    return out
