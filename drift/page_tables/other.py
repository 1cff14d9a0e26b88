"""The portfolio's and the feature page's tables. Pure (the portfolio rows are read by attribute)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drift.page_tables.base import Column, Table


def portfolio_table(rows: Sequence[Any]) -> Table:
    """One row per model: `rows` are `drift.page_selectors.PortfolioRow`s."""
    out = []
    for r in rows:
        impact = r.impact
        out.append(
            {
                "model": r.model.name,
                "slug": r.model.slug,
                "status": r.health.status,
                "headline": r.headline,
                "serving": r.serving["mode"],
                "events": len(r.open_events),
                "incidents": len(r.open_incidents),
                "value": impact.total if impact else None,
                "difference": impact.difference if impact else None,
                "currency": r.model.currency,
                "basis": impact.basis if impact else "",
                "latest": r.latest_window_end.isoformat() if r.latest_window_end else None,
            }
        )
    return Table(
        "portfolio",
        "Models",
        (
            Column("model", "Model"),
            Column("status", "Status"),
            Column("headline", "Headline"),
            Column("serving", "Serving mode"),
            Column("events", "Open events", "count"),
            Column("incidents", "Open incidents", "count"),
            Column("value", "Value of decisions", "money"),
            Column("difference", "Against the reference rate", "money"),
            Column("currency", "Currency"),
            Column("basis", "Basis"),
            Column("latest", "Latest window end", "time"),
        ),
        out,
        empty="No models yet: an analyst registers one through the API (POST /api/v1/models/).",
    )


def distribution_table(distribution: Mapping[str, Any]) -> Table:
    labels = distribution.get("labels") or []
    ref = distribution.get("reference") or []
    cur = distribution.get("current") or []
    ref_total, cur_total = sum(ref) or 1, sum(cur) or 1
    rows = [
        {
            "bin": label,
            "reference": ref[i] if i < len(ref) else None,
            "reference_share": ref[i] / ref_total if i < len(ref) else None,
            "current": cur[i] if i < len(cur) else None,
            "current_share": cur[i] / cur_total if i < len(cur) else None,
        }
        for i, label in enumerate(labels)
    ]
    return Table(
        "distribution",
        "Distribution by bin",
        (
            Column("bin", "Bin"),
            Column("reference", "Reference rows", "count"),
            Column("reference_share", "Reference share", "pct"),
            Column("current", "Window rows", "count"),
            Column("current_share", "Window share", "pct"),
        ),
        rows,
        empty="No profile of this feature for the window.",
    )


def history_table(history: Sequence[Mapping[str, Any]]) -> Table:
    return Table(
        "history",
        "Change against the reference by window",
        (
            Column("window", "Window start", "time"),
            Column("effect", "Effect", "num"),
            Column("threshold", "Learned threshold", "num"),
            Column("drifted", "Changed", "bool"),
            Column("method", "Effect measure"),
        ),
        [dict(h) for h in reversed(history)],
        empty="This feature has not been compared yet.",
    )


def feature_quality_table(quality: Sequence[Mapping[str, Any]]) -> Table:
    return Table(
        "quality",
        "Data quality by window",
        (
            Column("window", "Window start", "time"),
            Column("missing", "Missing", "pct"),
            Column("out_of_range", "Outside declared range", "pct"),
            Column("undeclared_category", "Undeclared category", "pct"),
        ),
        [dict(q) for q in reversed(quality)],
        empty="No data-quality checks yet.",
    )


def lineage_table(lineage: Mapping[str, Any]) -> Table:
    sampled = lineage.get("sampled") or 0
    caption = (
        f"From the first {sampled:,} of the window's {lineage.get('rows', 0):,} predictions."
        if lineage.get("capped")
        else f"All {sampled:,} predictions of the window."
    )
    return Table(
        "lineage",
        "Where the window's data came from",
        (
            Column("source", "Source"),
            Column("pipeline_version", "Pipeline version"),
            Column("count", "Predictions", "count"),
            Column("share", "Share", "pct"),
        ),
        list(lineage.get("groups") or []),
        empty="No predictions carry lineage in this window.",
        caption=caption if sampled else "",
    )
