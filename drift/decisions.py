"""Where a binary model's decision falls, and which scores sit too near it to trust. Pure (no Django).

A model that knows what each outcome is worth refuses (flags) when flagging is worth more than not:
p·TP + (1-p)·FP > p·FN + (1-p)·TN, so at the break-even score (TN - FP) / ((TN - FP) + (TP - FN)).
Without values the decision falls at 0.5. "Low confidence" is a band around that score: a tenth
either side, narrowed to half the distance to 0 or 1 so a low threshold keeps a band above zero.

Example:
    >>> t = decision_threshold({"tp": 2400.0, "fp": -350.0, "tn": 350.0, "fn": -2400.0})
    >>> round(t, 3), [round(x, 3) for x in low_confidence_band(t)]
    (0.127, [0.064, 0.191])
    >>> decision_threshold({"tp": None}), low_confidence_band(0.5)
    (0.5, (0.4, 0.6))
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_THRESHOLD = 0.5
MARGIN = 0.1  # at most a tenth of the score scale either side of the threshold


def decision_threshold(values: Mapping[str, float | None]) -> float:
    """The break-even score from the value of each outcome (tp, fp, tn, fn), else 0.5."""
    tp, fp, tn, fn = (values.get(k) for k in ("tp", "fp", "tn", "fn"))
    if tp is None or fp is None or tn is None or fn is None:
        return DEFAULT_THRESHOLD
    gain_clear, gain_flag = tn - fp, tp - fn  # what each right decision is worth over the wrong one
    if gain_clear <= 0 or gain_flag <= 0:  # values that never favour one side: no break-even score
        return DEFAULT_THRESHOLD
    return gain_clear / (gain_clear + gain_flag)


def low_confidence_band(threshold: float) -> tuple[float, float]:
    """(low, high): scores this near the decision could as well have gone the other way."""
    margin = min(MARGIN, threshold / 2, (1 - threshold) / 2)
    return threshold - margin, threshold + margin
