"""What an experiment's results recommend, and its traffic check in words. Pure and deterministic.

`experiment_summary` says which arm is ahead, by how much and how sure; this module adds what a
person should do about it (the stopping rule's recommendation) and the sample-ratio check in a
sentence, for the experiment page.

Example:
    >>> results = {"comparisons": [{"challenger": "v2", "verdict": "better"}], "guardrails": []}
    >>> advice = recommendation(results, status="stopped", stop_reason="success", control="v1")
    >>> advice["decision"], advice["version"]
    ('promote', 'v2')
    >>> advice["text"]
    'The stopping rule found v2 better than v1: promote v2.'
    >>> srm = {"observed": {"v1": 9_020, "v2": 980}, "expected_shares": {"v1": 0.9, "v2": 0.1},
    ...        "p_value": 0.52, "mismatch": False, "enforced": True}
    >>> srm_sentence(srm, min_traffic=1_000)
    'Traffic split as planned: v1 received 90.2% (planned 90.0%), v2 9.8% (planned 10.0%); p = 0.52.'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KEEP = "revert"


def _advice(decision: str, text: str, version: str = "") -> dict[str, str]:
    return {"decision": decision, "version": version, "text": text}


def _by_verdict(comparisons: list[Mapping[str, Any]], control: str) -> dict[str, str]:
    """After a stop that is not itself a verdict (planned end, a person): what the data says."""
    better = [c for c in comparisons if c.get("verdict") == "better"]
    if better:
        best = max(better, key=lambda c: c.get("gain") or 0.0)
        return _advice(
            "promote",
            f"{best['challenger']} is better than {control} with the confidence asked for: "
            f"promote {best['challenger']}.",
            best["challenger"],
        )
    if comparisons and all(c.get("verdict") == "worse" for c in comparisons):
        return _advice(KEEP, f"Every challenger is worse than {control}: keep {control}.")
    return _advice(
        KEEP,
        f"No evidence either way yet: keep {control}, or extend the experiment if a gain of the "
        "planned size would still matter (its always-valid test allows more looks at no cost).",
    )


def recommendation(
    results: Mapping[str, Any] | None, *, status: str, stop_reason: str, control: str
) -> dict[str, str]:
    """`{"decision", "version", "text"}`: promote (which version), revert (keep the control), wait or
    none, with one sentence saying why. Reads the latest look's results as recorded."""
    comparisons = list((results or {}).get("comparisons") or [])
    if status == "draft":
        return _advice("none", "Start the experiment to split traffic and collect outcomes.")
    if status == "running":
        return _advice(
            "wait",
            "No stopping rule has fired: keep it running. Reading the results now does not raise the "
            "false-alarm rate.",
        )
    if status == "concluded":
        return _advice("none", "A decision has been recorded; see the decision history below.")
    if stop_reason == "sample_ratio_mismatch":
        return _advice(
            KEEP,
            f"Traffic did not split as planned, so the comparison cannot be trusted: keep {control}, "
            "fix the routing and run the experiment again.",
        )
    if stop_reason == "guardrail":
        breached = [g for g in (results or {}).get("guardrails", []) if g.get("status") == "breach"]
        what = f" ({breached[0]['label']} of {breached[0]['challenger']})" if breached else ""
        return _advice(KEEP, f"A guardrail was breached{what}: keep {control}.")
    if stop_reason == "futility":
        return _advice(
            KEEP, f"No challenger can still reach the minimum effect worth detecting: keep {control}."
        )
    if stop_reason == "success":
        better = [c for c in comparisons if c.get("verdict") == "better"]
        if better:
            best = max(better, key=lambda c: c.get("gain") or 0.0)["challenger"]
            return _advice(
                "promote", f"The stopping rule found {best} better than {control}: promote {best}.", best
            )
    return _by_verdict(comparisons, control)


def srm_sentence(srm: Mapping[str, Any] | None, *, min_traffic: int = 1_000) -> str:
    """The sample-ratio check in one sentence: did traffic split between the arms as planned?"""
    if not srm:
        return "Not checked yet: the first look counts each arm's traffic."
    observed = {k: int(v) for k, v in (srm.get("observed") or {}).items()}
    total = sum(observed.values())
    expected = srm.get("expected_shares") or {}
    if total == 0:
        return "No traffic has reached the arms yet."
    shares = ", ".join(
        f"{v} {'received ' if i == 0 else ''}{n / total:.1%} (planned {float(expected.get(v, 0)):.1%})"
        for i, (v, n) in enumerate(observed.items())
    )
    p = float(srm.get("p_value", 1.0))
    if total < min_traffic:
        return (
            f"Too little traffic to judge the split yet ({total:,} of the {min_traffic:,} predictions "
            f"the check waits for): {shares}."
        )
    if srm.get("mismatch"):
        rest = (
            " The comparison cannot be trusted until the routing is fixed."
            if srm.get("enforced", True)
            else " Bandit shares move with the data, so this is reported, not enforced."
        )
        return f"Traffic did not split as planned: {shares}; p = {p:.2g}.{rest}"
    return f"Traffic split as planned: {shares}; p = {p:.2g}."


__all__ = ["recommendation", "srm_sentence"]
