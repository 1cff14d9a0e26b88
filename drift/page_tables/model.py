"""The model page's tables. Pure.

Example:
    >>> t = outcomes_table({"tp": 2, "fp": 4, "tn": 24, "fn": 0}, {"tp": 10.0, "fp": -5.0}, "EUR", False)
    >>> [(r["outcome"], r["total"]) for r in t.rows]
    [('Correctly flagged', 20.0), ('Flagged in error', -20.0)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drift.charts.base import wilson
from drift.charts.performance import OUTCOME_NAMES
from drift.narratives import NAMES as METRIC_NAMES
from drift.page_tables.base import Column, Table


def outcomes_table(
    counts: Mapping[str, float] | None, values: Mapping[str, float | None], currency: str, estimated: bool
) -> Table:
    rows = []
    for key in ("tp", "fp", "tn", "fn"):
        if counts is None or values.get(key) is None:
            continue
        n = float(counts.get(key) or 0)
        each = float(values[key] or 0)
        rows.append({"outcome": OUTCOME_NAMES[key], "count": n, "each": each, "total": n * each})
    basis = "expected counts, estimated before labels arrive" if estimated else "counts of labelled outcomes"
    return Table(
        "outcomes",
        "Decisions and what they are worth",
        (
            Column("outcome", "Outcome"),
            Column("count", "Count", "count"),
            Column("each", "Value of one", "money"),
            Column("total", "Total", "money"),
        ),
        rows,
        empty="No outcome values are set for this model, or the window has no outcomes yet.",
        caption=f"Value of each outcome times {basis}.",
        currency=currency,
    )


def metrics_table(results: Mapping[str, Any]) -> Table:
    rows = []
    for section, how in (("performance", "measured"), ("estimated_performance", "estimated")):
        part = results.get(section) or {}
        if part.get("status") != "ok":
            continue
        for key, m in (part.get("metrics") or {}).items():
            if not isinstance(m, Mapping) or m.get("value") is None:
                continue
            rows.append(
                {
                    "metric": METRIC_NAMES.get(key, key),
                    "how": how,
                    "value": m.get("value"),
                    "low": m.get("low"),
                    "high": m.get("high"),
                    "reference": m.get("reference"),
                    "change": m.get("change"),
                    "worse": bool(m.get("degraded")),
                }
            )
    return Table(
        "metrics",
        "Performance against the reference",
        (
            Column("metric", "Metric"),
            Column("how", "Measured or estimated"),
            Column("value", "Value", "num"),
            Column("low", "Likely low", "num"),
            Column("high", "Likely high", "num"),
            Column("reference", "Reference", "num"),
            Column("change", "Change", "num"),
            Column("worse", "Worse than reference", "bool"),
        ),
        rows,
        empty="No performance for this window: no labelled outcomes yet and no estimate available.",
    )


def features_table(results: Mapping[str, Any]) -> Table:
    rows = []
    for f in (results.get("data_drift") or {}).get("features") or []:
        ratio = None
        if f.get("testable") and f.get("threshold") and f.get("effect_size") is not None:
            ratio = f["effect_size"] / f["threshold"]
        rows.append(
            {
                "feature": f.get("feature"),
                "type": f.get("type"),
                "drifted": bool(f.get("drifted")),
                "ratio": ratio,
                "effect_method": f.get("effect_method"),
                "effect": f.get("effect_size"),
                "threshold": f.get("threshold"),
                "method": f.get("method"),
                "statistic": f.get("statistic"),
                "p_value": f.get("p_value"),
                "note": f.get("explanation") or ("" if f.get("testable", True) else f.get("reason") or ""),
            }
        )
    rows.sort(key=lambda r: (-(r["ratio"] or -1.0), r["feature"] or ""))
    return Table(
        "features",
        "Each feature against the reference",
        (
            Column("feature", "Feature"),
            Column("type", "Type"),
            Column("drifted", "Changed", "bool"),
            Column("ratio", "Effect ÷ threshold", "num"),
            Column("effect_method", "Effect measure"),
            Column("effect", "Effect", "num"),
            Column("threshold", "Learned threshold", "num"),
            Column("method", "Test"),
            Column("statistic", "Statistic", "num"),
            Column("p_value", "p-value", "num"),
            Column("note", "Note"),
        ),
        rows,
        empty="No drift results for this window.",
    )


QUALITY_CHECKS = {
    "missing": "Missing values",
    "out_of_range": "Outside declared range",
    "undeclared_category": "Undeclared category",
    "late": "Arrived late",
    "refused": "Refused at ingestion",
    "volume": "Traffic volume",
}


def _check_row(check: str, feature: str, c: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "check": QUALITY_CHECKS.get(check, check),
        "feature": feature,
        "observed": c.get("observed"),
        "usual": c.get("center"),
        "limit": c.get("upper"),
        "_counts": check == "volume",  # rows, not shares
        "status": c.get("status"),
        "explanation": c.get("reason", ""),
    }


def quality_table(results: Mapping[str, Any], *, alerts_only: bool = False) -> Table:
    q = results.get("data_quality") or {}
    rows = []
    for name in ("late", "refused", "volume"):
        if isinstance(q.get(name), Mapping):
            rows.append(_check_row(name, "(all)", q[name]))
    for feature, checks in (q.get("features") or {}).items():
        for name, c in checks.items():
            if isinstance(c, Mapping):
                rows.append(_check_row(name, feature, c))
    if alerts_only:
        rows = [r for r in rows if r["status"] == "alert"]
    rows.sort(key=lambda r: (r["status"] != "alert", r["feature"], r["check"]))
    return Table(
        "quality_alerts" if alerts_only else "quality",
        "Data-quality alerts" if alerts_only else "All data-quality checks",
        (
            Column("check", "Check"),
            Column("feature", "Feature"),
            Column("observed", "Observed", "pct"),
            Column("usual", "Usual", "pct"),
            Column("limit", "Upper limit", "pct"),
            Column("status", "Status"),
            Column("explanation", "Explanation"),
        ),
        rows,
        empty="No data-quality check alerts in this window." if alerts_only else "No data-quality checks.",
        caption="Shares of rows, except traffic volume (rows).",
    )


def fairness_table(results: Mapping[str, Any]) -> Table:
    rows = []
    for attr in (results.get("fairness") or {}).get("attributes") or []:
        for g in attr.get("groups") or []:
            low, high = wilson(g.get("selection_rate"), g.get("n"))
            rows.append(
                {
                    "attribute": attr.get("attribute"),
                    "group": g.get("group"),
                    "n": g.get("n"),
                    "rate": g.get("selection_rate"),
                    "low": low,
                    "high": high,
                    "tpr": g.get("tpr"),
                    "fpr": g.get("fpr"),
                    "note": g.get("reason") or "",
                }
            )
    return Table(
        "fairness",
        "Positive decisions by group",
        (
            Column("attribute", "Attribute"),
            Column("group", "Group"),
            Column("n", "Rows", "count"),
            Column("rate", "Positive-decision rate", "pct"),
            Column("low", "95% low", "pct"),
            Column("high", "95% high", "pct"),
            Column("tpr", "True-positive rate", "pct"),
            Column("fpr", "False-positive rate", "pct"),
            Column("note", "Note"),
        ),
        rows,
        empty="No sensitive attribute is declared in the schema, or no group is large enough yet.",
    )


def operations_table(series: Sequence[Mapping[str, Any]]) -> Table:
    rows = []
    for s in reversed(series):
        ops = s.get("operations") or {}
        lat = ops.get("latency_ms") or {}
        rows.append(
            {
                "window": s.get("window_start"),
                "volume": ops.get("volume"),
                "error_rate": ops.get("error_rate"),
                "p50": lat.get("p50"),
                "p95": lat.get("p95"),
                "p99": lat.get("p99"),
                "queue_avg": ops.get("health_queue_depth_avg"),
                "queue_max": ops.get("health_queue_depth_max"),
            }
        )
    return Table(
        "operations",
        "Operations by window",
        (
            Column("window", "Window start", "time"),
            Column("volume", "Predictions", "count"),
            Column("error_rate", "Error rate", "pct"),
            Column("p50", "Latency p50", "ms"),
            Column("p95", "Latency p95", "ms"),
            Column("p99", "Latency p99", "ms"),
            Column("queue_avg", "Queue (average)", "num"),
            Column("queue_max", "Queue (peak)", "count"),
        ),
        rows,
        empty="No analysed windows yet.",
    )


def attribution_table(results: Mapping[str, Any]) -> Table:
    a = results.get("attribution") or {}
    ref_rank = {f: i + 1 for i, f in enumerate(a.get("reference_ranking") or [])}
    win_rank = {f: i + 1 for i, f in enumerate(a.get("window_ranking") or [])}
    rows = [
        {
            "feature": f,
            "window_rank": win_rank[f],
            "reference_rank": ref_rank.get(f),
            "moved": (ref_rank[f] - win_rank[f]) if f in ref_rank else None,
            "window_importance": (a.get("window") or {}).get(f),
            "reference_importance": (a.get("reference") or {}).get(f),
        }
        for f in a.get("window_ranking") or []
    ]
    return Table(
        "attribution",
        "Feature importance ranking",
        (
            Column("feature", "Feature"),
            Column("window_rank", "Rank now", "count"),
            Column("reference_rank", "Rank in reference", "count"),
            Column("moved", "Places moved up", "num"),
            Column("window_importance", "Importance now", "num"),
            Column("reference_importance", "Importance in reference", "num"),
        ),
        rows,
        empty="No feature importance for this window.",
        caption=str(a.get("method") or ""),
    )


def events_table(events: Sequence[Mapping[str, Any]]) -> Table:
    return Table(
        "events",
        "Open events",
        (
            Column("detected_at", "Detected", "time"),
            Column("title", "Event"),
            Column("severity", "Severity"),
            Column("status", "Status"),
        ),
        [dict(e) for e in events],
        empty="No open events.",
    )
