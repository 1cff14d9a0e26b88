"""Incidents: open, assign roles, move through triage → active → monitoring → resolved, keep a timeline,
and escalate the ones nobody has acknowledged along the model's escalation path."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from drift.models import MonitoredModel
from drift.roles import ADMIN, FRONTLINE, role_at_least, user_role
from governance.models import (
    DriftEvent,
    EscalationStep,
    Incident,
    IncidentSeverity,
    IncidentStatus,
    NotificationChannel,
    Runbook,
    TimelineEntry,
    TimelineKind,
)
from governance.notifications import Message
from governance.services.audit import Actor, audit_record
from governance.services.notifications import notify
from governance.services.runbooks import check_linkable, incident_runbook_note
from monitoring_site.errors import ApplicationError

TRANSITIONS: dict[str, tuple[str, ...]] = {
    IncidentStatus.TRIAGE: (IncidentStatus.ACTIVE, IncidentStatus.RESOLVED),
    IncidentStatus.ACTIVE: (IncidentStatus.MONITORING, IncidentStatus.RESOLVED),
    IncidentStatus.MONITORING: (IncidentStatus.ACTIVE, IncidentStatus.RESOLVED),
    IncidentStatus.RESOLVED: (),
}
# SEV1 and SEV2 page as critical, SEV3 as a warning, SEV4 as information.
NOTIFY_SEVERITY = {"SEV1": "critical", "SEV2": "critical", "SEV3": "warning", "SEV4": "info"}
ROLE_FIELDS = ("commander", "scribe", "sme")
TEXT_FIELDS = ("title", "summary", "rollback_plan")
MAX_TEXT = 10_000


def _view(incident: Incident) -> dict[str, Any]:
    return {
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "commander": incident.commander_id,
        "scribe": incident.scribe_id,
        "sme": incident.sme_id,
        "rollback_plan": incident.rollback_plan,
        "runbook": incident.runbook_id,
    }


def _timeline(incident: Incident, kind: str, text: str, actor: Actor) -> TimelineEntry:
    return TimelineEntry.objects.create(
        incident=incident,
        at=timezone.now(),
        kind=kind,
        text=text[:MAX_TEXT],
        author=actor.user,
        actor=actor.name,
    )


def _announce(incident: Incident, change: str, text: str, **extra: Any) -> None:
    notify(
        model=incident.model,
        incident=incident,
        channels=extra.pop("channels", None),
        message=Message(
            topic=f"incident:{incident.pk}:{change}",
            kind="incident",
            title=f"{incident.severity} {incident.model.slug}: {incident.title}",
            text=text,
            severity=NOTIFY_SEVERITY[incident.severity],
            model=incident.model.slug,
            status=incident.status,
            dedup_key=f"incident-{incident.pk}",
            resolved=incident.status == IncidentStatus.RESOLVED,
            link=f"/api/v1/incidents/{incident.pk}/",
            at=timezone.now().isoformat(),
            details=extra,
        ),
    )


@transaction.atomic
def incident_open(
    *,
    model: MonitoredModel,
    title: str,
    severity: str,
    actor: Actor,
    summary: str = "",
    rollback_plan: str = "",
    events: Iterable[DriftEvent] = (),
    runbook: Runbook | None = None,
) -> Incident:
    if severity not in IncidentSeverity.values:
        raise ApplicationError(
            f"Unknown incident severity '{str(severity)[:20]}'.",
            errors=[{"field": "severity", "message": f"must be one of {', '.join(IncidentSeverity.values)}"}],
        )
    check_linkable(runbook, model)
    incident = Incident.objects.create(
        model=model,
        title=title[:300],
        severity=severity,
        summary=summary,
        rollback_plan=rollback_plan,
        runbook=runbook,
        opened_by=actor.name,
        opened_at=timezone.now(),
    )
    events = list(events)
    incident.events.add(*events)
    text = f"Opened by {actor.name}" + (f" for drift event #{events[0].pk}." if events else ".")
    _timeline(incident, TimelineKind.OPENED, text, actor)
    if runbook is not None:
        incident_runbook_note(incident, runbook, actor)
    audit_record(actor=actor, action="incident.open", obj=incident, model=model, after=_view(incident))
    _announce(incident, "opened", f"{text}\n{summary}".strip())
    return incident


def _user(value: Any, field: str) -> Any:
    if value is None:
        return None
    user = get_user_model().objects.filter(pk=value, is_active=True).first()
    if user is None or not role_at_least(user_role(user), FRONTLINE):
        raise ApplicationError(
            f"No active user with id {value} and a Driftwatch role.",
            errors=[{"field": field, "message": "unknown user, or one without a role"}],
        )
    return user


@transaction.atomic
def incident_update(*, incident: Incident, by: Any, **changes: Any) -> Incident:
    """Assign roles (commander, scribe, sme: user ids or None), edit title, summary, rollback plan, and
    link a runbook (a `Runbook` or None)."""
    incident = Incident.objects.select_for_update().select_related("model").get(pk=incident.pk)
    before, actor = _view(incident), Actor.of(by)
    if "runbook" in changes:
        check_linkable(changes["runbook"], incident.model)
        incident.runbook = changes["runbook"]
    for field in ROLE_FIELDS:
        if field in changes:
            setattr(incident, field, _user(changes[field], field))
    for field in TEXT_FIELDS:
        if field in changes:
            setattr(incident, field, str(changes[field])[:MAX_TEXT])
    if incident.commander_id and incident.acknowledged_at is None:
        incident.acknowledged_at = timezone.now()  # a commander taking charge acknowledges it
    incident.save()
    after = _view(incident)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        _timeline(incident, TimelineKind.ROLES, f"{actor.name} changed {', '.join(changed)}.", actor)
        if "runbook" in changed and incident.runbook is not None:
            incident_runbook_note(incident, incident.runbook, actor)
        audit_record(
            actor=actor,
            action="incident.update",
            obj=incident,
            model=incident.model,
            before=before,
            after=after,
        )
    return incident


@transaction.atomic
def incident_transition(*, incident: Incident, to: str, by: Any, note: str = "") -> Incident:
    """Move an incident on; resolving (closing) one takes an admin."""
    incident = Incident.objects.select_for_update().select_related("model").get(pk=incident.pk)
    allowed = TRANSITIONS.get(incident.status, ())
    if to not in allowed:
        options = ", ".join(allowed) or "none: it is resolved"
        raise ApplicationError(
            f"An incident in {incident.status} cannot move to '{str(to)[:40]}' (allowed: {options}).",
            errors=[{"field": "to", "message": f"allowed from {incident.status}: {options}"}],
        )
    if to == IncidentStatus.RESOLVED and not role_at_least(user_role(by), ADMIN):
        raise ApplicationError("Only an admin may close an incident.", status=403)
    before, actor = _view(incident), Actor.of(by)
    incident.status = to
    if incident.acknowledged_at is None:
        incident.acknowledged_at = timezone.now()
    if to == IncidentStatus.RESOLVED:
        incident.resolved_at = timezone.now()
    incident.save()
    text = f"{actor.name}: {before['status']} → {to}." + (f" {note}" if note else "")
    _timeline(incident, TimelineKind.STATUS, text, actor)
    audit_record(
        actor=actor,
        action="incident.transition",
        obj=incident,
        model=incident.model,
        before=before,
        after=_view(incident),
        reason=note,
    )
    _announce(incident, to, text)
    return incident


@transaction.atomic
def incident_timeline_add(*, incident: Incident, by: Any, text: str) -> TimelineEntry:
    """A manual timeline entry (frontline users and up annotate incidents)."""
    text = (text or "").strip()
    if not text:
        raise ApplicationError(
            "A timeline entry needs text.", errors=[{"field": "text", "message": "required"}]
        )
    actor = Actor.of(by)
    entry = _timeline(incident, TimelineKind.NOTE, text, actor)
    audit_record(
        actor=actor, action="incident.note", obj=incident, model=incident.model, after={"text": text}
    )
    return entry


def incident_timeline_auto(
    *, model: MonitoredModel, kind: str, text: str, actor: Actor, event: DriftEvent | None = None
) -> int:
    """Feed the timelines of open incidents: of the model (mitigations) or linked to `event`."""
    open_incidents = Incident.objects.exclude(status=IncidentStatus.RESOLVED)
    scope = open_incidents.filter(events=event) if event is not None else open_incidents.filter(model=model)
    incidents = list(scope.distinct())
    for incident in incidents:
        _timeline(incident, kind, text, actor)
    return len(incidents)


@transaction.atomic
def escalation_path_set(
    *, model: MonitoredModel, steps: list[dict[str, Any]], by: Any
) -> list[EscalationStep]:
    """Replace the model's escalation path: levels 1, 2, ... each `{channel, after_minutes}`."""
    errors = []
    channels = {c.pk: c for c in NotificationChannel.objects.filter(model=model)}
    last = -1
    for i, step in enumerate(steps):
        if step.get("channel") not in channels:
            errors.append({"field": f"steps[{i}].channel", "message": "not a channel of this model"})
        minutes = step.get("after_minutes")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= last:
            errors.append(
                {"field": f"steps[{i}].after_minutes", "message": "whole minutes, increasing by level"}
            )
        else:
            last = minutes
    if errors:
        raise ApplicationError("Invalid escalation path.", errors=errors)
    before = list(EscalationStep.objects.filter(model=model).values("level", "channel_id", "after_minutes"))
    EscalationStep.objects.filter(model=model).delete()
    created = [
        EscalationStep.objects.create(
            model=model, level=i + 1, channel=channels[s["channel"]], after_minutes=s["after_minutes"]
        )
        for i, s in enumerate(steps)
    ]
    audit_record(
        actor=Actor.of(by),
        action="escalation.set",
        obj=model,
        model=model,
        before={"steps": before},
        after={
            "steps": [
                {"level": s.level, "channel_id": s.channel_id, "after_minutes": s.after_minutes}
                for s in created
            ]
        },
    )
    return created


def incidents_escalate(*, now: datetime | None = None) -> int:
    """Notify the next level of each unacknowledged incident whose wait has passed; record doing so.
    Safe to run concurrently: each incident is locked and its level re-read before escalating."""
    now = now or timezone.now()
    pending = Incident.objects.filter(acknowledged_at__isnull=True).exclude(status=IncidentStatus.RESOLVED)
    return sum(_escalate(incident_id, now) for incident_id in pending.values_list("pk", flat=True)[:1000])


@transaction.atomic
def _escalate(incident_id: int, now: datetime) -> bool:
    incident = (
        Incident.objects.select_for_update()
        .select_related("model")
        .filter(pk=incident_id, acknowledged_at__isnull=True)
        .exclude(status=IncidentStatus.RESOLVED)
        .first()
    )
    if incident is None:
        return False
    waited = now - incident.opened_at
    steps = EscalationStep.objects.filter(model=incident.model, level__gt=incident.escalation_level)
    due = [
        s
        for s in steps.select_related("channel").order_by("level")
        if waited >= timedelta(minutes=s.after_minutes)
    ]
    if not due:
        return False
    step, before = due[-1], incident.escalation_level  # the highest level due: a late run skips none
    actor = Actor.system("incidents_escalate")
    incident.escalation_level = step.level
    incident.save(update_fields=["escalation_level", "updated_at"])
    minutes = int(waited.total_seconds() // 60)
    text = f"Unacknowledged after {minutes} min: escalated to level {step.level} ({step.channel.name})."
    _timeline(incident, TimelineKind.ESCALATION, text, actor)
    audit_record(
        actor=actor,
        action="incident.escalate",
        obj=incident,
        model=incident.model,
        before={"escalation_level": before},
        after={"escalation_level": step.level},
    )
    # Every level owed hears of it (a late run notifies the levels it skipped too).
    _announce(incident, f"escalated:{step.level}", text, channels=[s.channel for s in due], level=step.level)
    return True
