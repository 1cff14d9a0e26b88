"""Incident pages: the list (filters, pages, CSV) and an incident's page with its timeline, linked events,
escalation path and postmortem; analysts move it on (admins close it), frontline users add notes."""

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from drift.roles import ADMIN, ANALYST, FRONTLINE, role_at_least, user_role
from drift.views.access import page_ctx, role_required
from governance import selectors
from governance.models import Incident, IncidentSeverity, IncidentStatus, Postmortem, TimelineEntry
from governance.selectors_postmortems import postmortems_list
from governance.services.incidents import TRANSITIONS, incident_timeline_add, incident_transition
from governance.services.runbooks import latest_runbook_version
from governance.views.serving import serving_ctx
from governance.views.support import csv_download, error_status, list_page, refusal, text_field
from governance.views.trail import audit_rows, history_lines
from monitoring_site.errors import ApplicationError

MAX_TEXT = 10_000  # as the API's serializers
CSV_HEADER = [
    "id",
    "model",
    "title",
    "severity",
    "status",
    "commander",
    "events",
    "opened_by",
    "opened_at",
    "acknowledged_at",
    "resolved_at",
    "escalation_level",
]
TIMELINE_HEADER = ["at", "kind", "actor", "text"]


def _filters(request: HttpRequest) -> dict[str, str | None]:
    return {name: request.GET.get(name) or None for name in ("model", "status", "severity")}


def _csv_rows(incidents: Iterable[Incident]) -> Iterable[list[Any]]:
    for i in incidents:
        yield [
            i.pk,
            i.model.slug,
            i.title,
            i.severity,
            i.status,
            i.commander.username if i.commander else "",
            " ".join(str(e.pk) for e in i.events.all()),
            i.opened_by,
            i.opened_at.isoformat(),
            i.acknowledged_at.isoformat() if i.acknowledged_at else "",
            i.resolved_at.isoformat() if i.resolved_at else "",
            i.escalation_level,
        ]


@role_required()
def incidents_page(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    return list_page(
        request,
        filters=filters,
        query=lambda: selectors.incidents_list(request.user, **filters),
        empty=Incident.objects.none(),
        # Not .iterator(): it would drop the prefetched events, one query per incident instead.
        csv=lambda incidents: csv_download("driftwatch-incidents", CSV_HEADER, _csv_rows(incidents)),
        template="governance/incidents.html",
        section="incidents",
        extra={"statuses": IncidentStatus.choices, "severities": IncidentSeverity.choices},
    )


def postmortem_link(pm: Postmortem) -> str:
    """The postmortem's page: by its route name once that page exists, by its path until then."""
    try:
        return reverse("governance:postmortem", args=[pm.pk])
    except NoReverseMatch:
        return f"/postmortems/{pm.pk}/"


def _detail(
    request: HttpRequest,
    incident: Incident,
    *,
    failed: ApplicationError | None = None,
    action: str = "",
    status: int = 200,
) -> HttpResponse:
    postmortem = postmortems_list(request.user).filter(incident=incident).first()
    is_admin = role_at_least(user_role(request.user), ADMIN)
    allowed = TRANSITIONS.get(incident.status, ())
    ctx = {
        "incident": incident,
        "model": incident.model,
        "timeline": list(incident.timeline.all()),
        "events": list(incident.events.all()),
        "escalation": [
            {"step": s, "notified": s.level <= incident.escalation_level}
            for s in selectors.escalation_path_of(incident.model)
        ],
        "history": history_lines(selectors.incident_history(incident)),
        "postmortem": postmortem,
        "postmortem_url": postmortem_link(postmortem) if postmortem else "",
        # A runbook's title lives on its versions: show the current one.
        "runbook": latest_runbook_version(incident.runbook) if incident.runbook else None,
        # The service lets only admins resolve; analysts are told rather than offered it.
        "next_statuses": [
            (s, IncidentStatus(s).label) for s in allowed if is_admin or s != IncidentStatus.RESOLVED
        ],
        "resolve_needs_admin": IncidentStatus.RESOLVED in allowed and not is_admin,
        "can_note": role_at_least(user_role(request.user), FRONTLINE),
        "serving": serving_ctx(request, incident.model),
        "refused": refusal(failed, action) if failed else None,
        "posted": request.POST if failed else {},
        "timeline_csv": "format=csv&table=timeline",
        "history_csv": "format=csv&table=audit",
    }
    return render(request, "governance/incident.html", page_ctx(request, ctx, "incidents"), status=status)


def _timeline_rows(entries: Iterable[TimelineEntry]) -> Iterable[list[Any]]:
    return ([e.at.isoformat(), e.kind, e.actor, e.text] for e in entries)


@role_required()
def incident_page(request: HttpRequest, pk: int) -> HttpResponse:
    incident = selectors.incident_for(request.user, pk)
    if request.GET.get("format") == "csv":
        stem = f"driftwatch-incident-{incident.pk}"
        if request.GET.get("table") == "audit":
            return csv_download(f"{stem}-audit", *audit_rows(selectors.incident_history(incident)))
        return csv_download(f"{stem}-timeline", TIMELINE_HEADER, _timeline_rows(incident.timeline.all()))
    return _detail(request, incident)


def _refused(request: HttpRequest, pk: int, exc: ApplicationError, action: str) -> HttpResponse:
    incident = selectors.incident_for(request.user, pk)  # fresh: the refused change wrote nothing
    return _detail(request, incident, failed=exc, action=action, status=error_status(exc))


@require_POST
@role_required(ANALYST)
def incident_move(request: HttpRequest, pk: int) -> HttpResponse:
    incident = selectors.incident_for(request.user, pk)
    try:
        moved = incident_transition(
            incident=incident,
            to=text_field(request.POST, "to", required=True, limit=40),
            note=text_field(request.POST, "note", limit=MAX_TEXT),
            by=request.user,
        )
    except ApplicationError as exc:
        return _refused(request, pk, exc, "transition")
    messages.success(request, f"Incident #{moved.pk} is now {moved.get_status_display().lower()}.")
    return redirect("governance:incident", pk=moved.pk)


@require_POST
@role_required(FRONTLINE)
def incident_note(request: HttpRequest, pk: int) -> HttpResponse:
    incident = selectors.incident_for(request.user, pk)
    try:
        text = text_field(request.POST, "text", limit=MAX_TEXT)
        incident_timeline_add(incident=incident, by=request.user, text=text)
    except ApplicationError as exc:
        return _refused(request, pk, exc, "note")
    messages.success(request, "Note added to the timeline.")
    return redirect("governance:incident", pk=incident.pk)
