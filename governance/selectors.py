"""Governance reads: the serving decision, audit history, policies, events, deliveries, incidents."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, QuerySet

from drift.models import MonitoredModel
from drift.selectors import models_visible_to
from drift.validation import parse_timestamp
from governance.models import (
    CLOSED_STATUSES,
    AuditEntry,
    Delivery,
    DeliveryStatus,
    DriftEvent,
    EscalationStep,
    EventStatus,
    Incident,
    IncidentSeverity,
    IncidentStatus,
    NotificationChannel,
    Policy,
    PolicyVersion,
    ServingMode,
    Severity,
)
from monitoring_site.auth import is_integration
from monitoring_site.errors import ApplicationError, NotFound


def serving_mode_of(model: MonitoredModel) -> str:
    """The model's serving mode; no query when `serving_state` was select_related."""
    try:
        return model.serving_state.mode  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return ServingMode.NORMAL


def serving_decision(principal: Any, slug: str) -> dict[str, Any]:
    """`{mode, reason, since, events}` in two queries: the model with its state, then the events
    behind the mode. 404 for an unknown model, 403 for another model's integration key."""
    model = MonitoredModel.objects.select_related("serving_state").filter(slug=slug).first()
    if model is None:
        raise NotFound(f"No model with slug '{slug}'.", field="slug")
    if is_integration(principal) and principal.model_id != model.pk:
        raise ApplicationError(
            f"This integration key belongs to another model and cannot be used for '{slug}'.", status=403
        )
    try:
        state = model.serving_state  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return {"mode": ServingMode.NORMAL.value, "reason": "", "since": None, "events": []}
    events = list(state.events.order_by("-detected_at", "-id").values("id", "severity", "status", "title"))
    return {"mode": state.mode, "reason": state.reason, "since": state.since, "events": events}


def _time(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    when = parse_timestamp(value)
    if when is None:
        raise ApplicationError(
            f"'{field}' is not an ISO 8601 time.",
            errors=[{"field": field, "message": "not an ISO 8601 time"}],
        )
    return when


def choice_param(value: str | None, choices: Any, field: str) -> str | None:
    """A query parameter that must be one of `choices` (None when absent; 400 when unknown)."""
    if not value:
        return None
    if value not in choices.values:
        raise ApplicationError(
            f"'{field}' must be one of {', '.join(choices.values)}.",
            errors=[{"field": field, "message": f"unknown {field} '{value[:40]}'"}],
        )
    return value


def model_param(slug: str | None) -> MonitoredModel | None:
    """The model a `?model=<slug>` filter names (None when absent; 400 when unknown)."""
    if not slug:
        return None
    model = MonitoredModel.objects.filter(slug=slug[:80]).first()
    if model is None:
        raise ApplicationError(
            f"No model with slug '{slug[:80]}'.", errors=[{"field": "model", "message": "unknown model"}]
        )
    return model


def audit_entries(
    *,
    model: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> QuerySet[AuditEntry]:
    """Audit entries, newest first; `since` inclusive, `until` exclusive (ISO 8601)."""
    qs = AuditEntry.objects.select_related("model").order_by("-at", "-id")
    found = model_param(model)
    if found is not None:
        qs = qs.filter(model=found)
    if action:
        # "policy" matches every policy.* action; "policy.update" only that one.
        qs = qs.filter(action=action) if "." in action else qs.filter(action__startswith=f"{action}.")
    if actor:
        qs = qs.filter(actor=actor)
    start, end = _time(since, "since"), _time(until, "until")
    if start:
        qs = qs.filter(at__gte=start)
    if end:
        qs = qs.filter(at__lt=end)
    return qs


def policies_of(model: MonitoredModel, *, include_inactive: bool = False) -> QuerySet[Policy]:
    qs = Policy.objects.filter(model=model).select_related("model", "runbook")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.prefetch_related(
        Prefetch("versions", queryset=PolicyVersion.objects.select_related("created_by").order_by("-number"))
    )


def policy_for(principal: Any, policy_id: int) -> Policy:
    policy = policies_of_visible(principal).filter(pk=policy_id).first()
    if policy is None:
        raise NotFound(f"No policy with id {policy_id}.", field="id")
    return policy


def policies_of_visible(principal: Any) -> QuerySet[Policy]:
    return (
        Policy.objects.filter(model__in=models_visible_to(principal))
        .select_related("model", "runbook")
        .prefetch_related(
            Prefetch(
                "versions", queryset=PolicyVersion.objects.select_related("created_by").order_by("-number")
            )
        )
    )


def events_list(
    principal: Any,
    *,
    model: str | None = None,
    status: str | None = None,
    severity: str | None = None,
    open_only: bool = False,
    drill: str | None = None,
) -> QuerySet[DriftEvent]:
    """Real drift events; with `drill` (a drill's id), that drill's events instead."""
    qs = DriftEvent.objects.filter(model__in=models_visible_to(principal)).select_related("model", "policy")
    if drill:
        if not drill.isdigit():
            raise ApplicationError(
                "'drill' must be an id.", errors=[{"field": "drill", "message": "not an id"}]
            )
        qs = qs.filter(drill_id=int(drill))
    else:
        qs = qs.filter(drill__isnull=True)
    found = model_param(model)
    if found is not None:
        qs = qs.filter(model=found)
    if choice_param(status, EventStatus, "status"):
        qs = qs.filter(status=status)
    if choice_param(severity, Severity, "severity"):
        qs = qs.filter(severity=severity)
    if open_only:
        qs = qs.exclude(status__in=CLOSED_STATUSES)
    return qs.order_by("-detected_at", "-id")


def event_for(principal: Any, event_id: int) -> DriftEvent:
    event = (
        DriftEvent.objects.filter(pk=event_id, model__in=models_visible_to(principal))
        .select_related(
            "model", "policy", "policy__runbook", "policy_version", "acknowledged_by", "closed_by"
        )
        .prefetch_related("runs", "incidents", "action_requests", "retraining_requests")
        .first()
    )
    if event is None:
        raise NotFound(f"No drift event with id {event_id}.", field="id")
    return event


def event_history(event: DriftEvent) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(object_type="driftevent", object_id=str(event.pk)).order_by("at", "id")


def channels_of(model: MonitoredModel) -> QuerySet[NotificationChannel]:
    return NotificationChannel.objects.filter(model=model).select_related("model")


def channel_for(principal: Any, channel_id: int) -> NotificationChannel:
    channel = (
        NotificationChannel.objects.filter(pk=channel_id, model__in=models_visible_to(principal))
        .select_related("model")
        .first()
    )
    if channel is None:
        raise NotFound(f"No channel with id {channel_id}.", field="id")
    return channel


def deliveries_list(
    principal: Any, *, model: str | None = None, status: str | None = None, event: str | None = None
) -> QuerySet[Delivery]:
    qs = Delivery.objects.filter(channel__model__in=models_visible_to(principal)).select_related(
        "channel", "channel__model"
    )
    found = model_param(model)
    if found is not None:
        qs = qs.filter(channel__model=found)
    if choice_param(status, DeliveryStatus, "status"):
        qs = qs.filter(status=status)
    if event:
        if not event.isdigit():
            raise ApplicationError(
                "'event' must be an id.", errors=[{"field": "event", "message": "not an id"}]
            )
        qs = qs.filter(event_id=int(event))
    return qs.order_by("-created_at", "-id")


def incidents_list(
    principal: Any, *, model: str | None = None, status: str | None = None, severity: str | None = None
) -> QuerySet[Incident]:
    qs = Incident.objects.filter(model__in=models_visible_to(principal)).select_related(
        "model", "commander", "scribe", "sme", "runbook"
    )
    found = model_param(model)
    if found is not None:
        qs = qs.filter(model=found)
    if choice_param(status, IncidentStatus, "status"):
        qs = qs.filter(status=status)
    if choice_param(severity, IncidentSeverity, "severity"):
        qs = qs.filter(severity=severity)
    return qs.prefetch_related("events").order_by("-opened_at", "-id")


def incident_for(principal: Any, incident_id: int) -> Incident:
    incident = (
        Incident.objects.filter(pk=incident_id, model__in=models_visible_to(principal))
        .select_related("model", "commander", "scribe", "sme", "runbook")
        .prefetch_related("events", "timeline__author")
        .first()
    )
    if incident is None:
        raise NotFound(f"No incident with id {incident_id}.", field="id")
    return incident


def incident_history(incident: Incident) -> QuerySet[AuditEntry]:
    """The incident's audit entries, oldest first (its page's audit trail)."""
    return AuditEntry.objects.filter(object_type="incident", object_id=str(incident.pk)).order_by("at", "id")


def escalation_path_of(model: MonitoredModel) -> QuerySet[EscalationStep]:
    return EscalationStep.objects.filter(model=model).select_related("channel").order_by("level")
