"""A drift event in plain language, for its page: what was seen, against what limit, and where it
stands. Deterministic templates over the event's fields, no statistical jargon. Pure (no Django).

Example:
    >>> what_was_seen("data_drift.share_drifted", 0.5, 0.2)
    'Half of the inputs (50%) changed against the reference data; the policy allows up to 20%'
    >>> explain_event(signal="operations.error_rate", value=0.07, threshold=0.05, windows=2,
    ...               breach_active=False, status="acknowledged").split(". ")[2]
    'It has been acknowledged; nobody is investigating it yet.'
"""

from __future__ import annotations

from collections.abc import Callable

from drift.formatting import DASH, count, duration_ms, number, percent
from governance.signals import Signal, parse_signal

Phrase = Callable[[Signal, float | None, float | None], str]

QUALITY_WORDS = {
    "late": "records that arrived late",
    "refused": "records refused at ingestion",
    "missing": "missing values",
    "out_of_range": "values outside the allowed range",
    "undeclared_category": "categories never seen before",
}
GAP_WORDS = {
    "demographic_parity_difference": "difference in approval rates",
    "demographic_parity_ratio": "ratio of approval rates",
    "equal_opportunity_difference": "difference in how often good cases are recognised",
    "equalized_odds_difference": "difference in error rates",
    "calibration_gap": "difference in how well scores match outcomes",
}
CLOSED = ("resolved", "false_alarm")
STATUS_WORDS = {
    "detected": "Nobody has acknowledged it yet.",
    "acknowledged": "It has been acknowledged; nobody is investigating it yet.",
    "investigating": "Someone is investigating it.",
    "mitigated": "A mitigation is in place; it stays open until the mitigation proves to hold.",
    "resolved": "It is resolved.",
    "false_alarm": "A person judged it a false alarm.",
}


def _words(code: str) -> str:
    return code.replace("_", " ")


def _limit(threshold: float | None, show: Callable[[float], str], *, lower: bool = False) -> str:
    if threshold is None:
        return ""
    return f"; the policy {'expects at least' if lower else 'allows up to'} {show(threshold)}"


def _share_drifted(sig: Signal, value: float | None, threshold: float | None) -> str:
    if value is None:
        return "Some of the inputs changed against the reference data" + _limit(threshold, percent)
    lead = "Half of the inputs" if round(value, 3) == 0.5 else "A share of the inputs"
    return f"{lead} ({percent(value)}) changed against the reference data" + _limit(threshold, percent)


def _feature(sig: Signal, value: float | None, threshold: float | None) -> str:
    size = "" if value is None else f" by {number(value)}"
    return f"The input '{_words(sig.arg)}' moved away from the reference data{size}" + _limit(
        threshold, number
    )


def _multivariate(sig: Signal, value: float | None, threshold: float | None) -> str:
    score = "" if value is None else f" (score {number(value)})"
    return f"The inputs changed together in a way no single input shows{score}" + _limit(threshold, number)


def _quality(sig: Signal, value: float | None, threshold: float | None) -> str:
    if sig.arg == "volume":
        got = "" if value is None else f" ({number(value)} predictions)"
        return f"The number of predictions left its usual range{got}"
    what = QUALITY_WORDS.get(sig.sub or sig.arg, _words(sig.sub or sig.arg))
    where = f" in '{_words(sig.arg)}'" if sig.sub else ""
    share = "An unusual share" if value is None else percent(value)
    return f"{share} of {what}{where}" + _limit(threshold, percent)


def _quality_alerts(sig: Signal, value: float | None, threshold: float | None) -> str:
    return f"{number(value) if value is not None else 'Several'} data-quality checks raised alerts"


def _metric(sig: Signal, value: float | None, threshold: float | None) -> str:
    kind = "Estimated" if sig.section == "estimated_performance" else "Measured"
    now = DASH if value is None else number(value)
    was = "" if threshold is None else f" against {number(threshold)} on the reference data"
    return f"{kind} {_words(sig.arg)} is {now}{was}"


def _ece(sig: Signal, value: float | None, threshold: float | None) -> str:
    off = "" if value is None else f" by {percent(value)} on average"
    return "Predicted probabilities match real outcomes less well" + off + _limit(threshold, percent)


def _fairness(sig: Signal, value: float | None, threshold: float | None) -> str:
    gap = GAP_WORDS.get(sig.sub, _words(sig.sub))
    now = "" if value is None else f" is {number(value)}"
    lower = sig.sub == "demographic_parity_ratio"
    return f"The {gap} between groups of '{_words(sig.arg)}'{now}" + _limit(threshold, number, lower=lower)


def _concept(sig: Signal, value: float | None, threshold: float | None) -> str:
    if sig.kind == "detector":
        times = "" if value is None else f" ({number(value)} times)"
        return f"The model's errors changed pattern{times}, as seen by the {_words(sig.arg)} detector"
    if sig.kind == "concept_error_rate":
        now = "" if value is None else f" is {percent(value)}"
        return f"The model's error rate on known outcomes{now}" + _limit(threshold, percent)
    if sig.kind == "conditional":
        return f"The link between '{_words(sig.arg)}' and the outcomes changed"
    return "The link between the inputs and the outcomes changed"


def _operations(sig: Signal, value: float | None, threshold: float | None) -> str:
    if sig.kind in ("latency_p95", "latency_p99"):
        share = "95" if sig.kind == "latency_p95" else "99"
        took = "longer than usual" if value is None else f"up to {duration_ms(value)}"
        return f"Responses slowed: {share} in 100 took {took}" + _limit(threshold, duration_ms)
    if sig.kind == "error_rate":
        failed = "More requests" if value is None else percent(value)
        return f"{failed} of requests failed" + _limit(threshold, percent)
    if sig.kind == "queue_depth":
        return f"The request queue grew to {number(value)}" + _limit(threshold, number)
    return f"The number of predictions was {number(value)}" + _limit(threshold, number)


PHRASES: dict[str, Phrase] = {
    "share_drifted": _share_drifted,
    "feature": _feature,
    "multivariate": _multivariate,
    "multivariate_method": _multivariate,
    "quality_check": _quality,
    "quality_feature": _quality,
    "quality_alerts": _quality_alerts,
    "metric": _metric,
    "ece": _ece,
    "fairness": _fairness,
    "detector": _concept,
    "concept_drifted": _concept,
    "concept_error_rate": _concept,
    "conditional": _concept,
    "latency_p95": _operations,
    "latency_p99": _operations,
    "error_rate": _operations,
    "queue_depth": _operations,
    "volume_ops": _operations,
}


# Signals whose values are shares (percentages) or counts (whole numbers), as their sentences say them.
SHARE_KINDS = ("share_drifted", "quality_check", "quality_feature", "ece", "concept_error_rate", "error_rate")
COUNT_KINDS = ("quality_alerts", "detector", "queue_depth", "volume_ops")


def signal_value(signal: str, value: float | None) -> str:
    """A signal's value (or threshold) in the unit its sentence uses, for the facts beside it:

    >>> signal_value("data_drift.share_drifted", 0.6429), signal_value("operations.latency_p95", 950)
    ('64%', '950 ms')
    >>> signal_value("data_drift.feature.income", 0.1279), signal_value("data_quality.volume", 1336)
    ('0.128', '1,336')
    """
    try:
        sig = parse_signal(signal)
    except ValueError:
        return number(value)
    if sig.kind in COUNT_KINDS or sig.arg == "volume":
        return count(value)
    if sig.kind in SHARE_KINDS:
        return percent(value)
    if sig.kind in ("latency_p95", "latency_p99"):
        return duration_ms(value)
    return number(value)


def what_was_seen(signal: str, value: float | None, threshold: float | None) -> str:
    """The observation as one clause (no final full stop)."""
    try:
        sig = parse_signal(signal)
    except ValueError:  # a signal this version no longer knows: say it as it is
        got = "" if value is None else f" reached {number(value)}"
        return f"The signal '{signal}'{got}" + _limit(threshold, number)
    return PHRASES[sig.kind](sig, value, threshold)


def explain_event(
    *,
    signal: str,
    value: float | None,
    threshold: float | None,
    windows: int,
    breach_active: bool,
    status: str,
) -> str:
    """What the event saw, for how long, and where it stands, in three sentences."""
    seen = what_was_seen(signal, value, threshold)
    span = "1 analysis window" if windows == 1 else f"{windows} analysis windows"
    if breach_active:
        still = "the latest analysis still shows it"
    elif status in CLOSED:
        still = "the latest analysis no longer shows it"
    else:
        still = "the latest analysis no longer shows it, so it waits for a person to close it"
    state = STATUS_WORDS.get(status, f"Its status is {_words(status)}.")
    return f"{seen}. Seen in {span}, and {still}. {state}"
