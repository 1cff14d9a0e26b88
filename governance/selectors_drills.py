"""Drill reads: lists, one drill, and its facts (detection and response times) from the record."""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from drift.selectors import models_visible_to
from governance.impact import durations
from governance.models import AuditEntry, DriftEvent, Drill, DrillStatus, RuleEvaluation
from governance.selectors import choice_param, model_param
from monitoring_site.errors import NotFound


def drills_list(principal: Any, *, model: str | None = None, status: str | None = None) -> QuerySet[Drill]:
    qs = Drill.objects.filter(model__in=models_visible_to(principal)).select_related(
        "model", "version", "run", "started_by", "ended_by"
    )
    found = model_param(model)
    if found is not None:
        qs = qs.filter(model=found)
    if choice_param(status, DrillStatus, "status"):
        qs = qs.filter(status=status)
    return qs.order_by("-started_at", "-id")


def drill_for(principal: Any, drill_id: int) -> Drill:
    drill = drills_list(principal).filter(pk=drill_id).first()
    if drill is None:
        raise NotFound(f"No drill with id {drill_id}.", field="id")
    return drill


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _ts(when: datetime | None) -> float | None:
    return when.timestamp() if when else None


def drill_events(drill: Drill) -> list[DriftEvent]:
    return list(drill.events.select_related("policy").order_by("detected_at", "id"))


def _mitigated_at(drill: Drill, events: list[DriftEvent]) -> datetime | None:
    """The first mitigation: the drill's gate made stricter, or one of its events moved to mitigated."""
    moments = [drill.gate_changed_at] if drill.gate_changed_at else []
    moved = AuditEntry.objects.filter(
        object_type="driftevent",
        object_id__in=[str(e.pk) for e in events],
        action="drift_event.transition",
        after__status="mitigated",
    )
    moments += list(moved.values_list("at", flat=True)[:1])
    return min(moments, default=None)


def drill_rules(drill: Drill) -> list[dict[str, Any]]:
    """Every rule's verdict on the drill's analysis: which fired, which did not and why."""
    if drill.run_id is None:
        return []
    rows = RuleEvaluation.objects.filter(run_id=drill.run_id).select_related("policy", "policy_version")
    out = []
    for row in rows.order_by("policy_id", "rule_index"):
        rule = (
            row.policy_version.rules[row.rule_index] if row.rule_index < len(row.policy_version.rules) else {}
        )
        out.append(
            {
                "policy": row.policy.name,
                "rule_index": row.rule_index,
                "signal": rule.get("signal"),
                "breached": row.breached,
                "fired": row.fired,
                "value": row.value,
                "threshold": row.threshold,
            }
        )
    return out


def drill_facts(drill: Drill) -> dict[str, Any]:
    """What the drill shows so far: detection, the response's times, the drill's gate, its events."""
    events = drill_events(drill)
    detected = min((e.detected_at for e in events), default=None)
    acknowledged = min((e.acknowledged_at for e in events if e.acknowledged_at), default=None)
    mitigated = _mitigated_at(drill, events)
    times = durations(
        onset=_ts(drill.started_at),
        detected=_ts(detected),
        acknowledged=_ts(acknowledged),
        mitigated=_ts(mitigated),
        resolved=None,
    )
    times.pop("time_to_resolve")
    run = drill.run
    return {
        "analysis": (
            {"id": run.pk, "status": run.status, "reason": run.reason, "rows": run.rows} if run else None
        ),
        "evaluated": drill.evaluated_at is not None,
        "detected": bool(events),
        "detected_at": _iso(detected),
        "acknowledged_at": _iso(acknowledged),
        "mitigated_at": _iso(mitigated),
        **times,
        "gate": {"mode": drill.gate_mode, "reason": drill.gate_reason, "since": _iso(drill.gate_changed_at)},
        "events": [
            {
                "id": e.pk,
                "signal": e.signal,
                "severity": e.severity,
                "status": e.status,
                "value": e.latest_value,
                "threshold": e.threshold,
                "policy": e.policy.name if e.policy else None,
            }
            for e in events
        ],
    }
