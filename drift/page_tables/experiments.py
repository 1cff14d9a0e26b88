"""The experiment page's tables, from the results `drift.selectors_experiments.experiment_results`
returns (plain dicts) and the decision records. Pure: the CSV download writes the same rows.

Example:
    >>> results = {"metric": {"name": "accuracy", "kind": "proportion", "label": "accuracy"},
    ...            "daily": [{"day": "2026-11-20", "arms": {"v1": {"n": 10, "mean": 0.8},
    ...                       "v2": {"n": 12, "mean": 0.9}},
    ...                       "comparisons": {"v2": {"estimate": 0.1, "lower": -0.2, "upper": 0.4}}}]}
    >>> t = daily_table(results)
    >>> t.header()
    ['Prediction day', 'v1 labelled', 'v1 accuracy', 'v2 labelled', 'v2 accuracy', 'Lift of v2', \
'Lift of v2, lower', 'Lift of v2, upper']
    >>> t.values()[0][-3:]
    [0.1, -0.2, 0.4]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drift import formatting
from drift.page_tables.base import Column, Table

VERDICTS = {
    "better": "better",
    "worse": "worse",
    "inconclusive": "not clear yet",
    "smaller_than_mde": "smaller than worth detecting",
    "too_early": "too early",
}
GUARDRAIL_STATUS = {"pass": "within its margin", "breach": "breached", "pending": "not clear yet"}
# How each guardrail's values and margin read on the page (the CSV keeps them raw): latency in ms with
# a relative margin, the error rate in % with a margin in points.
GUARDRAIL_KINDS = {
    "latency_p95": {"control_value": "ms", "challenger_value": "ms", "margin": "pct"},
    "error_rate": {"control_value": "pct", "challenger_value": "pct", "margin": "pts"},
}


def metric_kinds(metric: Mapping[str, Any] | None) -> tuple[str, str]:
    """(column kind of the metric's level, of a difference): rates in % and points, money, numbers."""
    metric = metric or {}
    if metric.get("kind") == "proportion":
        return "pct", "pts"
    if metric.get("name") == "business_value":
        return "money", "money"
    return "num", "num"


def _arms(results: Mapping[str, Any]) -> list[str]:
    return list(dict.fromkeys(v for d in results.get("daily", []) for v in d.get("arms", {})))


def daily_table(results: Mapping[str, Any], currency: str = "") -> Table:
    """Per prediction day, cumulative: each arm's labelled count and metric, each challenger's lift
    with its always-valid range as of the latest look."""
    metric = results.get("metric") or {}
    level, diff = metric_kinds(metric)
    label = metric.get("label", "metric")
    arms = _arms(results)
    challengers = list(
        dict.fromkeys(v for d in results.get("daily", []) for v in (d.get("comparisons") or {}))
    )
    columns = [Column("day", "Prediction day")]
    for arm in arms:
        columns += [
            Column(f"{arm}:n", f"{arm} labelled", "count"),
            Column(f"{arm}:mean", f"{arm} {label}", level),
        ]
    for c in challengers:
        columns += [
            Column(f"{c}:lift", f"Lift of {c}", diff),
            Column(f"{c}:lower", f"Lift of {c}, lower", diff),
            Column(f"{c}:upper", f"Lift of {c}, upper", diff),
        ]
    rows = []
    for d in results.get("daily", []):
        row: dict[str, Any] = {"day": d["day"]}
        for arm in arms:
            cell = d.get("arms", {}).get(arm) or {}
            row[f"{arm}:n"], row[f"{arm}:mean"] = cell.get("n"), cell.get("mean")
        for c in challengers:
            comp = (d.get("comparisons") or {}).get(c) or {}
            row[f"{c}:lift"], row[f"{c}:lower"], row[f"{c}:upper"] = (
                comp.get("estimate"),
                comp.get("lower"),
                comp.get("upper"),
            )
        rows.append(row)
    return Table(
        "daily",
        "Day by day",
        tuple(columns),
        rows,
        empty="No labelled outcomes yet: rows appear as outcomes of the experiment's predictions arrive.",
        caption="Cumulative up to each prediction day, by the latest look; the lift is challenger minus "
        "control with its always-valid range.",
        currency=currency,
    )


def arms_table(results: Mapping[str, Any], currency: str = "") -> Table:
    metric = results.get("metric") or {}
    level, _ = metric_kinds(metric)
    best = results.get("prob_best") or {}
    rows = [
        {
            "version": a["version"],
            "role": a["role"],
            "planned_share": a.get("planned_share"),
            "traffic": a.get("traffic"),
            "labelled": a.get("labelled"),
            "mean": a.get("mean"),
            "prob_best": best.get(a["version"]),
        }
        for a in results.get("arms", [])
    ]
    columns = (
        Column("version", "Version"),
        Column("role", "Role"),
        Column("planned_share", "Planned share", "pct"),
        Column("traffic", "Predictions served", "count"),
        Column("labelled", "With outcomes", "count"),
        Column("mean", metric.get("label", "Metric").capitalize(), level),
    )
    if best:  # Thompson sampling's chance of being best: rates only
        columns += (Column("prob_best", "Chance it is best", "pct"),)
    return Table(
        "arms",
        "Arms",
        columns,
        rows,
        empty="No look yet.",
        currency=currency,
    )


def comparisons_table(results: Mapping[str, Any], currency: str = "") -> Table:
    _, diff = metric_kinds(results.get("metric"))
    rows = [
        {
            "challenger": c["challenger"],
            "control": c["control"],
            "estimate": c.get("estimate"),
            "lower": c.get("lower"),
            "upper": c.get("upper"),
            "p_value": c.get("always_valid_p", c.get("p_value")),
            "verdict": VERDICTS.get(c.get("verdict", ""), c.get("verdict")),
        }
        for c in results.get("comparisons", [])
    ]
    return Table(
        "comparisons",
        "Challenger against control",
        (
            Column("challenger", "Challenger"),
            Column("control", "Control"),
            Column("estimate", "Lift", diff),
            Column("lower", "Lower", diff),
            Column("upper", "Upper", diff),
            Column("p_value", "Always-valid p", "num"),
            Column("verdict", "Verdict"),
        ),
        rows,
        empty="No look yet.",
        caption="Challenger minus control; the range holds at every look at once, so reading it daily "
        "is safe.",
        currency=currency,
    )


def _reading(g: Mapping[str, Any]) -> str:
    c, t = g.get("control_value"), g.get("challenger_value")
    if c is None or t is None:
        return "no data yet"
    if g["metric"] == "latency_p95":
        limit = formatting.duration_ms(g.get("limit"))
        return f"{formatting.duration_ms(t)} vs {formatting.duration_ms(c)} (limit {limit})"
    if g["metric"] == "error_rate":
        return f"{formatting.percent(t)} vs {formatting.percent(c)} (margin {formatting.points(g['margin'])})"
    return f"{formatting.number(t)} vs {formatting.number(c)} (margin {formatting.number(g['margin'])})"


def guardrails_table(results: Mapping[str, Any]) -> Table:
    rows = [
        {
            "guardrail": g["label"],
            "challenger": g["challenger"],
            "reading": _reading(g),
            "control_value": g.get("control_value"),
            "challenger_value": g.get("challenger_value"),
            "margin": g.get("margin"),
            "verdict": GUARDRAIL_STATUS.get(g.get("status", ""), "no data yet"),
            "status": "alert" if g.get("status") == "breach" else g.get("status"),
            "_kinds": GUARDRAIL_KINDS.get(g["metric"], {}),
        }
        for g in results.get("guardrails", [])
    ]
    return Table(
        "guardrails",
        "Guardrails",
        (
            Column("guardrail", "Guardrail"),
            Column("challenger", "Challenger"),
            Column("reading", "Challenger vs control"),
            Column("control_value", "Control value", "num"),
            Column("challenger_value", "Challenger value", "num"),
            Column("margin", "Margin", "num"),
            Column("verdict", "Status"),
        ),
        rows,
        empty="This experiment has no guardrails, or no look yet.",
        caption="A challenger may be worse than control by at most the margin (latency: relative; "
        "error rate: absolute); a breach stops the experiment.",
    )


def allocation_table(history: Sequence[Mapping[str, Any]]) -> Table:
    arms = list(dict.fromkeys(v for h in history for v in (h.get("shares") or {})))
    rows = [{"from": h.get("from"), **{a: (h.get("shares") or {}).get(a) for a in arms}} for h in history]
    return Table(
        "allocation",
        "Allocation history",
        (Column("from", "From", "time"), *(Column(a, f"{a} share", "pct") for a in arms)),
        rows,
        empty="Traffic has not been split yet: the allocation starts with the experiment.",
        caption="What the serving system was told to route (GET /api/v1/models/{slug}/allocation/), "
        "from each change on; a stop sends everything back to the control.",
    )


def decisions_table(decisions: Sequence[Any]) -> Table:
    """`decisions`: `ExperimentDecision` rows (read by attribute)."""
    rows = [
        {
            "at": d.at.isoformat(),
            "decision": d.get_decision_display(),
            "version": d.version.version if d.version else None,
            "actor": d.actor,
            "reason": d.reason,
        }
        for d in decisions
    ]
    return Table(
        "decisions",
        "Decision history",
        (
            Column("at", "When", "time"),
            Column("decision", "Decision"),
            Column("version", "Version"),
            Column("actor", "By"),
            Column("reason", "Reason"),
        ),
        rows,
        empty="No decision yet: an analyst records one once the experiment has stopped.",
    )


__all__ = [
    "allocation_table",
    "arms_table",
    "comparisons_table",
    "daily_table",
    "decisions_table",
    "guardrails_table",
    "metric_kinds",
]
