"""Drift event pages: the list (filters, pages, CSV) and an event's page, where an analyst acknowledges
it, moves it on, or opens an incident for it. Writes go through `governance.services`; a refusal
re-renders the page with the service's message and its 4xx status."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from drift.roles import ANALYST
from drift.views.access import page_ctx, role_required
from governance import selectors
from governance.explain import explain_event
from governance.models import AuditEntry, DriftEvent, EventStatus, IncidentSeverity, Severity
from governance.services.audit import Actor
from governance.services.events import (
    TEXT_FIELDS,
    TRANSITIONS,
    drift_event_acknowledge,
    drift_event_transition,
)
from governance.services.incidents import incident_open
from governance.views.serving import serving_ctx
from governance.views.support import csv_download, error_status, list_page, refusal, text_field
from governance.views.trail import audit_rows, history_lines
from monitoring_site.errors import ApplicationError

MAX_TEXT = 10_000  # as the API's serializers
# An incident opened from an event starts one step below the worst level; commanders raise it.
INCIDENT_SEVERITY = {Severity.CRITICAL: "SEV2", Severity.WARNING: "SEV3", Severity.INFO: "SEV4"}
CSV_HEADER = [
    "id",
    "model",
    "title",
    "severity",
    "status",
    "signal",
    "latest_value",
    "threshold",
    "windows",
    "breach_active",
    "detected_at",
    "last_seen_at",
    "acknowledged_at",
    "closed_at",
]


def _filters(request: HttpRequest) -> dict[str, Any]:
    return {
        "model": request.GET.get("model") or None,
        "status": request.GET.get("status") or None,
        "severity": request.GET.get("severity") or None,
        "open_only": request.GET.get("open") in {"1", "true", "yes", "on"},
    }


def _csv_rows(events: Iterable[DriftEvent]) -> Iterable[list[Any]]:
    for e in events:
        yield [
            e.pk,
            e.model.slug,
            e.title,
            e.severity,
            e.status,
            e.signal,
            e.latest_value,
            e.threshold,
            e.windows,
            e.breach_active,
            e.detected_at.isoformat(),
            e.last_seen_at.isoformat(),
            e.acknowledged_at.isoformat() if e.acknowledged_at else "",
            e.closed_at.isoformat() if e.closed_at else "",
        ]


@role_required()
def events_page(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    return list_page(
        request,
        filters=filters,
        query=lambda: selectors.events_list(request.user, **filters),
        empty=DriftEvent.objects.none(),
        csv=lambda events: csv_download(
            "driftwatch-events", CSV_HEADER, _csv_rows(events.iterator(chunk_size=2000))
        ),
        template="governance/events.html",
        section="events",
        extra={"statuses": EventStatus.choices, "severities": Severity.choices},
    )


def _detail(
    request: HttpRequest,
    event: DriftEvent,
    *,
    failed: ApplicationError | None = None,
    action: str = "",
    status: int = 200,
) -> HttpResponse:
    history: list[AuditEntry] = list(selectors.event_history(event))
    incidents = list(event.incidents.all())
    ctx = {
        "event": event,
        "model": event.model,
        "explanation": explain_event(
            signal=event.signal,
            value=event.latest_value,
            threshold=event.threshold,
            windows=event.windows,
            breach_active=event.breach_active,
            status=event.status,
        ),
        "history": history_lines(history),
        "incidents": incidents,
        "has_open_incident": any(i.status != "resolved" for i in incidents),
        "runs": sorted(event.runs.all(), key=lambda r: r.window_end),
        "next_statuses": [(s, EventStatus(s).label) for s in TRANSITIONS.get(event.status, ())],
        "incident_severities": IncidentSeverity.choices,
        "incident_severity": INCIDENT_SEVERITY.get(event.severity, "SEV3"),
        "serving": serving_ctx(request, event.model),
        "refused": refusal(failed, action) if failed else None,
        "posted": request.POST if failed else {},
        "history_csv": "format=csv",
    }
    return render(request, "governance/event.html", page_ctx(request, ctx, "events"), status=status)


@role_required()
def event_page(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.event_for(request.user, pk)
    if request.GET.get("format") == "csv":
        header, rows = audit_rows(selectors.event_history(event))
        return csv_download(f"driftwatch-event-{event.pk}-history", header, rows)
    return _detail(request, event)


def _refused(request: HttpRequest, pk: int, exc: ApplicationError, action: str) -> HttpResponse:
    event = selectors.event_for(request.user, pk)  # fresh: the refused change wrote nothing
    return _detail(request, event, failed=exc, action=action, status=error_status(exc))


def _texts(data: Mapping[str, Any]) -> dict[str, str]:
    """The cause / actions / results fields the form sent (a field left out is left unchanged)."""
    return {name: text_field(data, name, limit=MAX_TEXT) for name in TEXT_FIELDS if name in data}


@require_POST
@role_required(ANALYST)
def event_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.event_for(request.user, pk)
    try:
        note = text_field(request.POST, "note", limit=MAX_TEXT)
        drift_event_acknowledge(event=event, by=request.user, note=note)
    except ApplicationError as exc:
        return _refused(request, pk, exc, "acknowledge")
    messages.success(request, f"Event #{event.pk} acknowledged.")
    return redirect("governance:event", pk=event.pk)


@require_POST
@role_required(ANALYST)
def event_transition(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.event_for(request.user, pk)
    try:
        to = text_field(request.POST, "to", required=True, limit=40)
        note = text_field(request.POST, "note", limit=MAX_TEXT)
        moved = drift_event_transition(event=event, to=to, by=request.user, note=note, **_texts(request.POST))
    except ApplicationError as exc:
        return _refused(request, pk, exc, "transition")
    messages.success(request, f"Event #{moved.pk} is now {moved.get_status_display().lower()}.")
    return redirect("governance:event", pk=moved.pk)


@require_POST
@role_required(ANALYST)
def event_open_incident(request: HttpRequest, pk: int) -> HttpResponse:
    """Open an incident for this event, as `POST /api/v1/incidents/` with `events: [pk]` does."""
    event = selectors.event_for(request.user, pk)
    try:
        incident = incident_open(
            model=event.model,
            title=text_field(request.POST, "title", required=True, limit=300),
            severity=text_field(request.POST, "severity", required=True, limit=8),
            summary=text_field(request.POST, "summary", limit=MAX_TEXT),
            actor=Actor.of(request.user),
            events=[event],
        )
    except ApplicationError as exc:
        return _refused(request, pk, exc, "incident")
    messages.success(request, f"Incident #{incident.pk} opened for event #{event.pk}.")
    return redirect(reverse("governance:incident", args=[incident.pk]))
