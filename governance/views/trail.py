"""An object's audit entries on a page: a readable history, and the raw rows for its CSV."""

import json
from collections.abc import Iterable, Sequence
from typing import Any

from governance.models import AuditEntry

ACTION_WORDS = {
    "drift_event.open": "Opened by the policy",
    "drift_event.update": "Seen again",
    "drift_event.resume": "Breaches again",
    "drift_event.breach_stopped": "Breach stopped",
    "drift_event.transition": "Status changed",
    "drift_event.action": "Automatic action",
    "drift_event.snapshot": "State kept before a mitigation",
    "drift_event.drill_closed": "Closed with its drill",
    "incident.open": "Opened",
    "incident.update": "Details changed",
    "incident.transition": "Status changed",
    "incident.note": "Note added",
    "incident.escalate": "Escalated",
}
AUDIT_HEADER = ["id", "at", "actor", "action", "object_type", "object_id", "before", "after", "reason"]


def _status(side: Any) -> str:
    return str(side.get("status") or "") if isinstance(side, dict) else ""


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, default=str)


def history_lines(entries: Iterable[AuditEntry]) -> list[dict[str, Any]]:
    """`{entry, what, change, before, after}` per entry: the action in words, the status move it made
    (if any), and before / after as JSON text."""
    lines = []
    for e in entries:
        before, after = _status(e.before), _status(e.after)
        moved = before and after != before
        change = f"{before.replace('_', ' ')} → {after.replace('_', ' ')}" if moved else ""
        lines.append(
            {
                "entry": e,
                "what": ACTION_WORDS.get(e.action, e.action),
                "change": change,
                "before": _json(e.before),
                "after": _json(e.after),
            }
        )
    return lines


def audit_rows(entries: Iterable[AuditEntry]) -> tuple[Sequence[str], Iterable[list[Any]]]:
    """(header, rows) of the audit CSV (before / after as JSON, as the API's export writes them)."""
    rows = (
        [e.pk, e.at.isoformat(), e.actor, e.action, e.object_type, e.object_id, e.before, e.after, e.reason]
        for e in entries
    )
    return AUDIT_HEADER, rows
