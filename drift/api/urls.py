from django.urls import path

from drift.api import views

urlpatterns = [
    path("models/", views.ModelListView.as_view(), name="api-models"),
    path("models/<slug:slug>/", views.ModelDetailView.as_view(), name="api-model"),
    path("models/<slug:slug>/versions/", views.VersionListView.as_view(), name="api-versions"),
    path("models/<slug:slug>/versions/<str:version>/", views.VersionDetailView.as_view(), name="api-version"),
    path(
        "models/<slug:slug>/versions/<str:version>/reference/",
        views.ReferenceView.as_view(),
        name="api-reference",
    ),
    path("models/<slug:slug>/predictions/", views.PredictionView.as_view(), name="api-predictions"),
    path("models/<slug:slug>/outcomes/", views.OutcomeView.as_view(), name="api-outcomes"),
    path("models/<slug:slug>/health/", views.HealthView.as_view(), name="api-health"),
]

# Analyses (drift.api.analysis_views).
from drift.api import analysis_views  # noqa: E402

urlpatterns += [
    path(
        "models/<slug:slug>/analyses/", analysis_views.ModelAnalysesView.as_view(), name="api-model-analyses"
    ),
    path("models/<slug:slug>/schedule/", analysis_views.ScheduleView.as_view(), name="api-model-schedule"),
    path("analyses/<int:pk>/", analysis_views.AnalysisDetailView.as_view(), name="api-analysis"),
]

# Experiments (drift.api.experiment_views).
from drift.api import experiment_views  # noqa: E402

urlpatterns += [
    path("experiments/", experiment_views.ExperimentListView.as_view(), name="api-experiments"),
    path("experiments/<int:pk>/", experiment_views.ExperimentDetailView.as_view(), name="api-experiment"),
    path(
        "experiments/<int:pk>/start/",
        experiment_views.ExperimentStartView.as_view(),
        name="api-experiment-start",
    ),
    path(
        "experiments/<int:pk>/stop/",
        experiment_views.ExperimentStopView.as_view(),
        name="api-experiment-stop",
    ),
    path(
        "experiments/<int:pk>/decision/",
        experiment_views.ExperimentDecisionView.as_view(),
        name="api-experiment-decision",
    ),
    path(
        "experiments/<int:pk>/results/",
        experiment_views.ExperimentResultsView.as_view(),
        name="api-experiment-results",
    ),
    path(
        "models/<slug:slug>/allocation/",
        experiment_views.ModelAllocationView.as_view(),
        name="api-model-allocation",
    ),
]
