"""Governance page routes (the API lives under /api/v1/, see governance.api.urls)."""

from django.urls import path

from governance.views import (
    annotations,
    drills,
    events,
    incidents,
    postmortems,
    retraining,
    runbooks,
    serving,
)

app_name = "governance"

urlpatterns: list = [
    # Drift events and incidents (governance.views.events, .incidents, .serving).
    path("events/", events.events_page, name="events"),
    path("events/<int:pk>/", events.event_page, name="event"),
    path("events/<int:pk>/acknowledge/", events.event_acknowledge, name="event-acknowledge"),
    path("events/<int:pk>/transition/", events.event_transition, name="event-transition"),
    path("events/<int:pk>/incident/", events.event_open_incident, name="event-incident"),
    path("incidents/", incidents.incidents_page, name="incidents"),
    path("incidents/<int:pk>/", incidents.incident_page, name="incident"),
    path("incidents/<int:pk>/transition/", incidents.incident_move, name="incident-transition"),
    path("incidents/<int:pk>/notes/", incidents.incident_note, name="incident-note"),
    path("models/<slug:slug>/serving-mode/", serving.serving_mode_change, name="serving-mode"),
    # Frontline flags and the analysts' triage queue (governance.views.annotations).
    path("triage/", annotations.triage_page, name="triage"),
    path("triage/flag/<slug:slug>/", annotations.annotation_flag, name="annotation-flag"),
    # Postmortems, runbooks, drills and retraining requests: each page takes its own forms' POSTs.
    path("postmortems/", postmortems.postmortems_page, name="postmortems"),
    path("postmortems/<int:pk>/", postmortems.postmortem_page, name="postmortem"),
    path("runbooks/", runbooks.runbooks_page, name="runbooks"),
    path("runbooks/<int:pk>/", runbooks.runbook_page, name="runbook"),
    path("drills/", drills.drills_page, name="drills"),
    path("drills/<int:pk>/", drills.drill_page, name="drill"),
    path("retraining-requests/", retraining.retraining_requests_page, name="retraining-requests"),
    path("retraining-requests/<int:pk>/", retraining.retraining_request_page, name="retraining-request"),
]
