"""What an incident cost and how fast people responded. Pure (no Django): numbers in, dicts out.

Business value comes from the model's value of each outcome (tp / fp / tn / fn, negative for a cost)
and a confusion matrix: the realised one when labels cover enough of a window, else the one expected
from the model's calibrated confidence. The value lost in a window is what its predictions would have
earned at the reference's value per prediction, minus what they earned:
``rows x (reference per prediction - window per prediction)``.

Example:
    >>> values = {"tp": 100.0, "fp": -50.0, "tn": 0.0, "fn": -100.0}
    >>> ref = per_prediction({"tp": 30, "fp": 10, "tn": 50, "fn": 10}, values)   # (3000-500-1000)/100
    >>> ref
    15.0
    >>> window = {"rows": 1000, "performance": {"status": "ok", "coverage": 0.9,
    ...           "business": {"per_prediction": 5.0}}}
    >>> out = value_lost([window], values=values, reference_per_prediction=ref, currency="EUR")
    >>> out["total"], out["windows"][0]["basis"]
    (10000.0, 'realised')
    >>> durations(onset=0, detected=600, acknowledged=900, mitigated=None, resolved=7800)
    {'time_to_detect': 600, 'time_to_acknowledge': 300, 'time_to_mitigate': None, 'time_to_resolve': 7200}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

OUTCOMES = ("tp", "fp", "tn", "fn")
# Realised value needs labels for at least this share of a window's predictions.
MIN_LABEL_COVERAGE = 0.5


def confusion_counts(confusion: Mapping[str, Mapping[str, float]], positive: str) -> dict[str, float]:
    """tp / fp / tn / fn from ``{prediction: {label: count}}`` (the engine's and the reference's shape)."""
    out = dict.fromkeys(OUTCOMES, 0.0)
    for pred, row in confusion.items():
        for label, count in row.items():
            said, was = pred == positive, label == positive
            out[("t" if said == was else "f") + ("p" if said else "n")] += float(count)
    return out


def per_prediction(counts: Mapping[str, float | None], values: Mapping[str, float | None]) -> float | None:
    """Average value of one decision, or None without counts or without any outcome value."""
    known = [k for k in OUTCOMES if values.get(k) is not None]
    n = sum(float(counts.get(k) or 0) for k in OUTCOMES)
    if not known or not n:
        return None
    return sum(float(counts.get(k) or 0) * float(values[k] or 0) for k in known) / n


def window_value(results: Mapping[str, Any], values: Mapping[str, float | None]) -> tuple[float, str] | None:
    """(value per prediction, 'realised' | 'estimated') of one analysed window, or None when unknown."""
    perf = results.get("performance") or {}
    business = perf.get("business") or {}
    covered = perf.get("status") == "ok" and (perf.get("coverage") or 0) >= MIN_LABEL_COVERAGE
    if covered and business.get("per_prediction") is not None:
        return float(business["per_prediction"]), "realised"
    est = results.get("estimated_performance") or {}
    if est.get("status") == "ok" and est.get("expected_confusion"):
        value = per_prediction(est["expected_confusion"], values)
        if value is not None:
            return value, "estimated"
    return None


def value_lost(
    windows: Sequence[Mapping[str, Any]],
    *,
    values: Mapping[str, float | None],
    reference_per_prediction: float | None,
    currency: str,
) -> dict[str, Any]:
    """Value lost over analysed windows (each `{rows, window_start?, performance?, estimated_performance?}`)
    against the reference's value per prediction; `total` is None when nothing could be valued."""
    out: dict[str, Any] = {
        "currency": currency,
        "reference_per_prediction": reference_per_prediction,
        "total": None,
        "windows": [],
    }
    if reference_per_prediction is None:
        out["reason"] = "The model has no value of outcomes, or its reference has no labels to value."
        return out
    total, valued = 0.0, 0
    for window in windows:
        found = window_value(window, values)
        rows = int(window.get("rows") or 0)
        if found is None or not rows:
            continue
        value, basis = found
        lost = rows * (reference_per_prediction - value)
        total += lost
        valued += 1
        out["windows"].append(
            {
                "window_start": window.get("window_start"),
                "rows": rows,
                "per_prediction": value,
                "lost": lost,
                "basis": basis,
            }
        )
    if valued:
        out["total"] = total
    else:
        out["reason"] = "No analysed window in the incident has realised or estimated performance."
    return out


def _seconds(start: float | None, end: float | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round(end - start))


def durations(
    *,
    onset: float | None,
    detected: float | None,
    acknowledged: float | None,
    mitigated: float | None,
    resolved: float | None,
) -> dict[str, int | None]:
    """Seconds from the problem's onset to detection, and from detection to each response (POSIX times)."""
    return {
        "time_to_detect": _seconds(onset, detected),
        "time_to_acknowledge": _seconds(detected, acknowledged),
        "time_to_mitigate": _seconds(detected, mitigated),
        "time_to_resolve": _seconds(detected, resolved),
    }
