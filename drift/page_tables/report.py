"""The weekly report's tables. Pure.

Example:
    >>> t = windows_table([{"window_start": "2026-11-16T00:00:00+00:00", "rows": 1200, "labelled": 900,
    ...     "data_drift": {"status": "ok", "share_drifted": 0.25}}], metric="accuracy", name="Accuracy",
    ...     per_window=[], currency="EUR")
    >>> t.rows[0]["changed"], t.rows[0]["realised"]
    (0.25, None)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drift.briefing import MIN_LABELLED
from drift.page_tables.base import Column, Table
from governance.explain_reasons import readable_reason

AUDIT_WORDS = {
    "serving_mode.change": "Serving mode changed",
    "drift_event.open": "Event opened",
    "drift_event.transition": "Event moved on",
    "drift_event.update": "Event updated",
    "drift_event.action": "Policy action on an event",
    "drift_event.breach_stopped": "Event's breach stopped",
    "drift_event.resume": "Event breached again",
    "drift_event.snapshot": "State kept before a mitigation",
    "incident.open": "Incident opened",
    "incident.transition": "Incident moved on",
    "incident.update": "Incident updated",
    "incident.note": "Incident note",
    "incident.escalate": "Incident escalated",
    "retraining.request": "Retraining requested",
    "retraining.transition": "Retraining moved on",
    "postmortem.create": "Postmortem started",
    "postmortem.update": "Postmortem edited",
    "postmortem.transition": "Postmortem moved on",
    "action_item.create": "Action item added",
    "annotation.create": "Prediction flagged",
    "annotation.accept": "Flag accepted",
    "annotation.dismiss": "Flag dismissed",
    "policy.create": "Policy created",
    "policy.update": "Policy changed",
    "promote": "Version promoted",
    "rollback": "Version rolled back",
}


def _metric(part: Mapping[str, Any] | None, key: str) -> float | None:
    m = ((part or {}).get("metrics") or {}).get(key) or {}
    return m.get("value") if (part or {}).get("status") == "ok" else None


def windows_table(
    series: Sequence[Mapping[str, Any]],
    *,
    metric: str,
    name: str,
    per_window: Sequence[tuple[str, float, str]],
    currency: str,
    percent: bool = True,
) -> Table:
    """One row per window; `per_window` is `briefing.Impact.per_window` (windows with a value)."""
    value = {w: (v, basis) for w, v, basis in per_window}
    rows = []
    for s in series:
        perf = s.get("performance") or {}
        found = value.get(str(s["window_start"]))
        rows.append(
            {
                "window": s["window_start"],
                "rows": s.get("rows"),
                "labelled": s.get("labelled"),
                "changed": (s.get("data_drift") or {}).get("share_drifted"),
                "realised": _metric(perf, metric) if (perf.get("labelled") or 0) >= MIN_LABELLED else None,
                "estimated": _metric(s.get("estimated_performance"), metric),
                "value": found[0] if found else None,
                "basis": found[1] if found else "",
            }
        )
    return Table(
        "windows",
        "The week window by window",
        (
            Column("window", "Window start", "time"),
            Column("rows", "Predictions", "count"),
            Column("labelled", "With outcomes", "count"),
            Column("changed", "Inputs changed", "pct"),
            Column("realised", f"{name} (measured)", "pct" if percent else "num"),
            Column("estimated", f"{name} (estimated)", "pct" if percent else "num"),
            Column("value", "Value of decisions", "money"),
            Column("basis", "Value from"),
        ),
        rows,
        empty="No window of this week was analysed.",
        currency=currency,
    )


def governance_table(
    events_opened: Sequence[Mapping[str, Any]],
    events_closed: Sequence[Mapping[str, Any]],
    incidents_opened: Sequence[Mapping[str, Any]],
    incidents_resolved: Sequence[Mapping[str, Any]],
) -> Table:
    rows = [
        *({"what": "Event opened", "at": e["detected_at"], **e} for e in events_opened),
        *({"what": "Event closed", "at": e["closed_at"], **e} for e in events_closed),
        *({"what": "Incident opened", "at": i["opened_at"], **i} for i in incidents_opened),
        *({"what": "Incident resolved", "at": i["resolved_at"], **i} for i in incidents_resolved),
    ]
    rows.sort(key=lambda r: r["at"])
    return Table(
        "governance",
        "Events and incidents opened and closed",
        (
            Column("at", "When", "time"),
            Column("what", "What"),
            Column("title", "Title"),
            Column("severity", "Severity"),
            Column("status", "Status now"),
        ),
        rows,
        empty="No event or incident was opened or closed this week.",
    )


def actions_table(actions: Sequence[Mapping[str, Any]], total: int) -> Table:
    rows = [
        {
            "at": a["at"],
            "actor": a["actor"],
            "action": AUDIT_WORDS.get(a["action"], str(a["action"]).replace("_", " ").replace(".", ": ")),
            "reason": readable_reason(a.get("reason") or ""),  # a policy's figures in words
        }
        for a in actions
    ]
    more = f" The first {len(rows)} of {total} are listed." if total > len(rows) else ""
    return Table(
        "actions",
        "Actions taken (audit trail)",
        (
            Column("at", "When", "time"),
            Column("actor", "Who"),
            Column("action", "What"),
            Column("reason", "Why"),
        ),
        rows,
        empty="No action was recorded for this model this week.",
        caption=f"People's and policies' changes, oldest first.{more}",
    )
