"""A plain-language summary of an experiment's results, for executives. Pure and deterministic.

Example:
    >>> results = {
    ...     "metric": {"name": "true_negative_rate", "label": "true negative rate", "kind": "proportion",
    ...                "higher_is_better": True},
    ...     "alpha": 0.05,
    ...     "comparisons": [{"challenger": "v2", "control": "v1", "control_mean": 0.751,
    ...                      "challenger_mean": 0.782, "gain": 0.031, "gain_lower": 0.012,
    ...                      "gain_upper": 0.050, "verdict": "better", "n_control": 4000,
    ...                      "n_challenger": 4000}],
    ...     "guardrails": [], "srm": {"mismatch": False, "enforced": True}, "stop": None,
    ... }
    >>> headline, rest = experiment_summary(results, status="running").split("; ", 1)
    >>> headline
    "Version v2's true negative rate is 3.1 points higher than v1's (78.2% vs 75.1%)"
    >>> rest.split(". ")[0]
    'with 95% confidence the gain is between 1.2 and 5.0 points'

"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STOPPED = {
    "success": "It stopped early because the evidence for the gain is conclusive.",
    "futility": "It stopped because no challenger can still reach the minimum effect worth detecting.",
    "planned_duration": "It stopped at the end of its planned duration.",
    "manual": "It was stopped by a person.",
}


def _amount(value: float, kind: str, name: str, currency: str) -> str:
    if kind == "proportion":
        return f"{abs(value) * 100:.1f} points"
    if name == "business_value":
        return f"{currency} {abs(value):,.2f} per prediction"
    return f"{abs(value):,.2f}"


def _level(value: float | None, kind: str, name: str, currency: str) -> str:
    if value is None:
        return "n/a"
    if kind == "proportion":
        return f"{value * 100:.1f}%"
    return f"{currency} {value:,.2f}" if name == "business_value" else f"{value:,.2f}"


def _headline(c: Mapping[str, Any], metric: Mapping[str, Any], currency: str) -> str:
    kind, name, label = metric["kind"], metric["name"], metric["label"]
    gain = c["gain"]
    direction = (gain >= 0) == bool(metric["higher_is_better"])
    levels = (
        f"({_level(c['challenger_mean'], kind, name, currency)} vs "
        f"{_level(c['control_mean'], kind, name, currency)})"
    )
    if name == "business_value":
        more = "more" if gain >= 0 else "less"
        amount = _amount(gain, kind, name, currency)
        return f"Version {c['challenger']} earns {amount} {more} than {c['control']} {levels}"
    word = "higher" if direction else "lower"
    return (
        f"Version {c['challenger']}'s {label} is {_amount(gain, kind, name, currency)} {word} "
        f"than {c['control']}'s {levels}"
    )


def _span(a: float, b: float, kind: str, name: str, currency: str) -> str:
    if kind == "proportion":
        return f"{a * 100:.1f} and {b * 100:.1f} points"
    if name == "business_value":
        return f"{currency} {a:,.2f} and {currency} {b:,.2f} per prediction"
    return f"{a:,.2f} and {b:,.2f}"


def _interval(c: Mapping[str, Any], metric: Mapping[str, Any], level: int, currency: str) -> str:
    kind, name = metric["kind"], metric["name"]
    lo, hi = c["gain_lower"], c["gain_upper"]
    if lo > 0:
        return f"with {level}% confidence the gain is between {_span(lo, hi, kind, name, currency)}"
    if hi < 0:
        return f"with {level}% confidence the loss is between {_span(-hi, -lo, kind, name, currency)}"
    return (
        f"with {level}% confidence the difference lies between a loss of "
        f"{_amount(lo, kind, name, currency)} and a gain of {_amount(hi, kind, name, currency)}, "
        "so its direction is not yet clear"
    )


def experiment_summary(
    results: Mapping[str, Any], *, status: str, stop_reason: str = "", currency: str = "USD"
) -> str:
    """Two or three sentences: the gain of the best challenger, how sure we are, and where things stand."""
    metric = results["metric"]
    level = round((1 - float(results["alpha"])) * 100)
    sentences = []
    comparisons = [c for c in results.get("comparisons", []) if c.get("gain") is not None]
    if results.get("srm", {}).get("mismatch") and results["srm"].get("enforced"):
        sentences.append(
            "Traffic did not split between the versions as planned, so the comparison cannot be trusted "
            "until the routing is fixed."
        )
    if not comparisons:
        sentences.append("No labelled outcomes have arrived for the versions yet.")
    else:
        best = max(comparisons, key=lambda c: (c["verdict"] == "better", c["gain"]))
        if best["verdict"] == "too_early":
            least = min(best["n_control"], best["n_challenger"])
            sentences.append(
                f"Too early to tell: only {least:,} labelled outcomes per version so far "
                f"for {best['challenger']} against {best['control']}."
            )
        else:
            sentences.append(
                f"{_headline(best, metric, currency)}; {_interval(best, metric, level, currency)}."
            )
    breached = [g for g in results.get("guardrails", []) if g.get("status") == "breach"]
    for g in breached:
        sentences.append(
            f"Guardrail breached: {g['label']} of version {g['challenger']} is worse than allowed."
        )
    if status == "running":
        sentences.append(
            "The experiment is still running; its results may be read at any time without raising "
            "the false-alarm rate."
        )
    elif status in ("stopped", "concluded") and stop_reason in STOPPED:
        sentences.append(STOPPED[stop_reason])
    elif status == "draft":
        sentences.append("The experiment has not started.")
    return " ".join(sentences)
