from django.urls import path

from governance.api import incident_views as incidents
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
]
