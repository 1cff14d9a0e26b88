from django.urls import path

from governance.api import annotation_views as annotations
from governance.api import drill_views as drills
from governance.api import incident_views as incidents
from governance.api import postmortem_views as postmortems
from governance.api import retraining_views as retraining
from governance.api import runbook_views as runbooks
from governance.api import views

urlpatterns = [
    path("audit/", views.AuditListView.as_view(), name="api-audit"),
    path("audit/export.csv", views.AuditExportView.as_view(), name="api-audit-export"),
    path("models/<slug:slug>/policies/", views.ModelPoliciesView.as_view(), name="api-model-policies"),
    path("policies/<int:pk>/", views.PolicyDetailView.as_view(), name="api-policy"),
    path("events/", views.EventListView.as_view(), name="api-events"),
    path("events/<int:pk>/", views.EventDetailView.as_view(), name="api-event"),
    path("events/<int:pk>/transition/", views.EventTransitionView.as_view(), name="api-event-transition"),
    path(
        "models/<slug:slug>/serving-decision/",
        views.ServingDecisionView.as_view(),
        name="api-serving-decision",
    ),
    path("models/<slug:slug>/serving-mode/", views.ServingModeView.as_view(), name="api-serving-mode"),
    path("models/<slug:slug>/channels/", views.ModelChannelsView.as_view(), name="api-model-channels"),
    path("channels/<int:pk>/", views.ChannelDetailView.as_view(), name="api-channel"),
    path("deliveries/", views.DeliveryListView.as_view(), name="api-deliveries"),
    path("incidents/", incidents.IncidentListView.as_view(), name="api-incidents"),
    path("incidents/<int:pk>/", incidents.IncidentDetailView.as_view(), name="api-incident"),
    path(
        "incidents/<int:pk>/transition/",
        incidents.IncidentTransitionView.as_view(),
        name="api-incident-transition",
    ),
    path(
        "incidents/<int:pk>/timeline/", incidents.IncidentTimelineView.as_view(), name="api-incident-timeline"
    ),
    path("models/<slug:slug>/escalation/", incidents.EscalationPathView.as_view(), name="api-escalation"),
    path("runbooks/", runbooks.RunbookListView.as_view(), name="api-runbooks"),
    path("runbooks/<int:pk>/", runbooks.RunbookDetailView.as_view(), name="api-runbook"),
    path(
        "runbooks/<int:pk>/versions/<int:number>/",
        runbooks.RunbookVersionView.as_view(),
        name="api-runbook-version",
    ),
    path("postmortems/", postmortems.PostmortemListView.as_view(), name="api-postmortems"),
    path("postmortems/<int:pk>/", postmortems.PostmortemDetailView.as_view(), name="api-postmortem"),
    path(
        "postmortems/<int:pk>/transition/",
        postmortems.PostmortemTransitionView.as_view(),
        name="api-postmortem-transition",
    ),
    path(
        "postmortems/<int:pk>/refresh/",
        postmortems.PostmortemRefreshView.as_view(),
        name="api-postmortem-refresh",
    ),
    path(
        "postmortems/<int:pk>/action-items/",
        postmortems.ActionItemListView.as_view(),
        name="api-postmortem-action-items",
    ),
    path("action-items/<int:pk>/", postmortems.ActionItemDetailView.as_view(), name="api-action-item"),
    path(
        "models/<slug:slug>/retraining-pipeline/",
        retraining.RetrainingPipelineView.as_view(),
        name="api-retraining-pipeline",
    ),
    path(
        "models/<slug:slug>/retraining-requests/",
        retraining.ModelRetrainingRequestsView.as_view(),
        name="api-model-retraining-requests",
    ),
    path(
        "retraining-requests/", retraining.RetrainingRequestListView.as_view(), name="api-retraining-requests"
    ),
    path(
        "retraining-requests/<int:pk>/",
        retraining.RetrainingRequestDetailView.as_view(),
        name="api-retraining-request",
    ),
    path(
        "retraining-requests/<int:pk>/transition/",
        retraining.RetrainingTransitionView.as_view(),
        name="api-retraining-transition",
    ),
    path(
        "models/<slug:slug>/versions/<str:version>/promote/",
        retraining.VersionPromoteView.as_view(),
        name="api-version-promote",
    ),
    path(
        "models/<slug:slug>/versions/<str:version>/rollback/",
        retraining.VersionRollbackView.as_view(),
        name="api-version-rollback",
    ),
    path("models/<slug:slug>/drills/", drills.ModelDrillsView.as_view(), name="api-model-drills"),
    path("drills/", drills.DrillListView.as_view(), name="api-drills"),
    path("drills/<int:pk>/", drills.DrillDetailView.as_view(), name="api-drill"),
    path("drills/<int:pk>/end/", drills.DrillEndView.as_view(), name="api-drill-end"),
    path("annotations/", annotations.AnnotationListView.as_view(), name="api-annotations"),
    path("annotations/<int:pk>/", annotations.AnnotationDetailView.as_view(), name="api-annotation"),
    path(
        "annotations/<int:pk>/triage/",
        annotations.AnnotationTriageView.as_view(),
        name="api-annotation-triage",
    ),
    path("improvement-tasks/", annotations.ImprovementTaskListView.as_view(), name="api-improvement-tasks"),
    path(
        "improvement-tasks/<int:pk>/",
        annotations.ImprovementTaskDetailView.as_view(),
        name="api-improvement-task",
    ),
]
