"""Drift events: opened and continued by policies, worked through their lifecycle by people.

detected → acknowledged → investigating → mitigated → resolved, or false_alarm from any open state
(and back from mitigated to investigating when a mitigation does not hold). A breach that continues
updates its event; when it stops the event stays open until a person closes it.
"""

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from drift.models import AnalysisRun, MonitoredModel
from drift.services.thresholds import threshold_mark_false_alarm
from governance.models import (
    CLOSED_STATUSES,
    DriftEvent,
    Drill,
    EventStatus,
    Policy,
    PolicyVersion,
    TimelineKind,
)
from governance.notifications import Message
from governance.policies import RuleVerdict, describe
from governance.services.audit import Actor, audit_record
from governance.services.incidents import incident_timeline_auto
from governance.services.notifications import notify
from governance.signals import parse_signal
from monitoring_site.errors import ApplicationError

S = EventStatus
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.DETECTED: (S.ACKNOWLEDGED, S.FALSE_ALARM),
    S.ACKNOWLEDGED: (S.INVESTIGATING, S.FALSE_ALARM),
    S.INVESTIGATING: (S.MITIGATED, S.FALSE_ALARM),
    S.MITIGATED: (S.RESOLVED, S.INVESTIGATING, S.FALSE_ALARM),
    S.RESOLVED: (),
    S.FALSE_ALARM: (),
}
TEXT_FIELDS = ("suspected_cause", "actions_taken", "results")
MAX_TEXT = 10_000


def _view(event: DriftEvent) -> dict[str, Any]:
    return {
        "status": event.status,
        "breach_active": event.breach_active,
        "windows": event.windows,
        "latest_value": event.latest_value,
        **{field: getattr(event, field) for field in TEXT_FIELDS},
    }


def _announce(event: DriftEvent, text: str) -> None:
    drill = "[DRILL] " if event.drill_id else ""  # a drill's events are announced, marked as such
    notify(
        model=event.model,
        event=event,
        message=Message(
            topic=f"event:{event.pk}:{event.status}",
            kind="event",
            title=f"{drill}{event.model.slug}: {event.title}",
            text=text,
            severity=event.severity,
            model=event.model.slug,
            status=event.status,
            dedup_key=f"event-{event.pk}",
            resolved=event.status in CLOSED_STATUSES,
            link=f"/api/v1/events/{event.pk}/",
            at=timezone.now().isoformat(),
            details={
                "event_id": event.pk,
                "signal": event.signal,
                "value": event.latest_value,
                "threshold": event.threshold,
                "windows": event.windows,
                "policy_id": event.policy_id,
                **({"drill": event.drill_id} if event.drill_id else {}),
            },
        ),
    )


def _observed(verdict: RuleVerdict) -> str:
    value = "unknown" if verdict.value is None else f"{verdict.value:.4g}"
    limit = "" if verdict.threshold is None else f" (threshold {verdict.threshold:.4g})"
    return f"{verdict.signal} = {value}{limit}"


def drift_event_record_breach(
    *,
    policy: Policy,
    policy_version: PolicyVersion,
    rule: dict[str, Any],
    verdict: RuleVerdict,
    run: AnalysisRun,
    earlier_runs: Sequence[int] = (),
    drill: Drill | None = None,
) -> tuple[DriftEvent, bool]:
    """Open an event for a rule that fired, or continue the rule's open one (its window count, latest
    value, last seen). An event opened now also links `earlier_runs`, the breaching windows that led up
    to it. A drill's events are its own (`drill`). Returns (event, whether it was opened now). Runs
    inside the caller's transaction."""
    actor, now = Actor.policy(policy.pk), timezone.now()
    model: MonitoredModel = policy.model
    scope = {"drill": drill} if drill is not None else {"drill__isnull": True}
    event = (
        DriftEvent.objects.select_for_update()
        .filter(policy=policy, rule_key=verdict.rule_key, **scope)
        .exclude(status__in=CLOSED_STATUSES)
        .first()
    )
    opened = event is None
    if event is None:
        event = DriftEvent.objects.create(
            model=model,
            policy=policy,
            policy_version=policy_version,
            rule_key=verdict.rule_key,
            rule_index=verdict.index,
            signal=verdict.signal,
            severity=verdict.severity,
            title=(rule.get("description") or describe(rule))[:300],
            detected_at=now,
            last_seen_at=now,
            latest_value=verdict.value,
            threshold=verdict.threshold,
            drill=drill,
        )
        before = None
    else:
        before = _view(event)
    event.runs.add(run, *(earlier_runs if opened else ()))
    resumed = not opened and not event.breach_active
    event.breach_active = True
    event.last_seen_at, event.latest_value, event.threshold = now, verdict.value, verdict.threshold
    event.windows = event.runs.count()
    event.policy_version, event.severity = policy_version, verdict.severity
    event.save()
    action = "drift_event.open" if opened else ("drift_event.resume" if resumed else "drift_event.update")
    audit_record(
        actor=actor,
        action=action,
        obj=event,
        model=model,
        before=before,
        after={**_view(event), "run": run.pk},
        reason=f"{policy.name} v{policy_version.number}: {_observed(verdict)}",
    )
    if opened:
        _announce(event, f"Policy '{policy.name}' detected: {_observed(verdict)}.")
    elif resumed:
        incident_timeline_auto(
            model=model,
            kind=TimelineKind.EVENT,
            text=f"Event #{event.pk} breaches again.",
            actor=actor,
            event=event,
        )
    return event, opened


def drift_event_breach_stopped(*, event: DriftEvent, run: AnalysisRun) -> DriftEvent:
    """The rule no longer breaches: the event stays open for a person to close, marked inactive."""
    before = _view(event)
    event.breach_active = False
    event.save(update_fields=["breach_active", "updated_at"])
    audit_record(
        actor=Actor.policy(event.policy_id or 0),
        action="drift_event.breach_stopped",
        obj=event,
        model=event.model,
        before=before,
        after={**_view(event), "run": run.pk},
    )
    return event


def drift_event_note_action(*, event: DriftEvent, text: str, actor: Actor) -> DriftEvent:
    """Append an automatic action to the event's record of actions taken."""
    before = _view(event)
    line = f"{timezone.now():%Y-%m-%d %H:%M} UTC {actor.name}: {text}"
    event.actions_taken = f"{event.actions_taken}\n{line}".strip()[-MAX_TEXT:]
    event.save(update_fields=["actions_taken", "updated_at"])
    audit_record(
        actor=actor,
        action="drift_event.action",
        obj=event,
        model=event.model,
        before=before,
        after=_view(event),
    )
    incident_timeline_auto(
        model=event.model,
        kind=TimelineKind.MITIGATION,
        text=f"Event #{event.pk}: {text}",
        actor=actor,
        event=event,
    )
    return event


def drift_event_snapshot(*, event: DriftEvent, snapshot: dict[str, Any], actor: Actor) -> DriftEvent:
    """Keep the state that led to an automatic mitigation (before it is applied)."""
    event.snapshot = snapshot
    event.save(update_fields=["snapshot", "updated_at"])
    audit_record(
        actor=actor,
        action="drift_event.snapshot",
        obj=event,
        model=event.model,
        after={"snapshot_run": snapshot.get("run", {}).get("id")},
    )
    return event


def _false_alarm_feedback(event: DriftEvent) -> str:
    """Widen the learned threshold of a data-drift feature that a person judged a false alarm."""
    feature = parse_signal(event.signal).feature
    if feature is None:
        return ""
    run = (
        event.runs.filter(feature_results__feature=feature, feature_results__drifted=True)
        .order_by("-window_end")
        .first()
    )
    if run is None:
        return f"no analysis of this event flagged '{feature}', so no threshold was adapted"
    try:
        row = threshold_mark_false_alarm(run=run, feature=feature)
    except ApplicationError as exc:
        return f"the threshold of '{feature}' was not adapted: {exc.message}"
    return f"the learned threshold of '{feature}' is now {row.value:.4g}"


@transaction.atomic
def drift_event_transition(
    *, event: DriftEvent, to: str, by: Any, note: str = "", **texts: str | None
) -> DriftEvent:
    """Move an event on its lifecycle; `texts` may set suspected_cause, actions_taken and results."""
    event = DriftEvent.objects.select_for_update().select_related("model").get(pk=event.pk)
    allowed = TRANSITIONS.get(event.status, ())
    if to not in allowed:
        options = ", ".join(allowed) or f"none: the event is {event.status}"
        raise ApplicationError(
            f"A {event.status} event cannot move to '{str(to)[:40]}' (allowed: {options}).",
            errors=[{"field": "to", "message": f"allowed from {event.status}: {options}"}],
        )
    actor, before, now = Actor.of(by), _view(event), timezone.now()
    for field, value in texts.items():
        if field in TEXT_FIELDS and value is not None:
            setattr(event, field, str(value)[:MAX_TEXT])
    event.status = to
    if to == S.ACKNOWLEDGED:
        event.acknowledged_at, event.acknowledged_by = now, actor.user
    if to in CLOSED_STATUSES:
        event.closed_at, event.closed_by = now, actor.user
    event.save()
    # A drill's false alarm says nothing about the real thresholds.
    feedback = _false_alarm_feedback(event) if to == S.FALSE_ALARM and not event.drill_id else ""
    audit_record(
        actor=actor,
        action="drift_event.transition",
        obj=event,
        model=event.model,
        before=before,
        after={**_view(event), **({"threshold_feedback": feedback} if feedback else {})},
        reason=note,
    )
    text = f"{actor.name}: {before['status']} → {to}." + (f" {note}" if note else "")
    incident_timeline_auto(
        model=event.model, kind=TimelineKind.EVENT, text=f"Event #{event.pk} {text}", actor=actor, event=event
    )
    _announce(event, text + (f"\n{feedback[0].upper()}{feedback[1:]}." if feedback else ""))
    return event


def drift_event_acknowledge(*, event: DriftEvent, by: Any, note: str = "") -> DriftEvent:
    return drift_event_transition(event=event, to=S.ACKNOWLEDGED, by=by, note=note)


def drift_event_mark_false_alarm(*, event: DriftEvent, by: Any, note: str = "") -> DriftEvent:
    return drift_event_transition(event=event, to=S.FALSE_ALARM, by=by, note=note)


def drift_event_resolve(
    *, event: DriftEvent, by: Any, note: str = "", results: str | None = None
) -> DriftEvent:
    return drift_event_transition(event=event, to=S.RESOLVED, by=by, note=note, results=results)
