"""Page routes (the API lives under /api/v1/, see drift.api.urls)."""

from django.urls import path

from drift import views
from drift.views import experiments, report

app_name = "drift"

urlpatterns = [
    path("", views.portfolio_page, name="portfolio"),
    path("portfolio.csv", views.portfolio_csv, name="portfolio-csv"),
    path("models/<slug:slug>/", views.model_detail, name="model"),
    path("models/<slug:slug>/reanalyse/", views.model_reanalyse, name="model-reanalyse"),
    path("models/<slug:slug>/tables/<slug:table>.csv", views.model_table_csv, name="model-table"),
    path("models/<slug:slug>/report/", report.model_report, name="model-report"),
    path(
        "models/<slug:slug>/report/tables/<slug:table>.csv",
        report.model_report_csv,
        name="model-report-table",
    ),
    path("models/<slug:slug>/predictions/", views.predictions_list, name="predictions"),
    path("models/<slug:slug>/predictions/<path:record_id>/", views.prediction_page, name="prediction"),
    path("models/<slug:slug>/features/<str:name>/", views.feature_detail, name="feature"),
    path(
        "models/<slug:slug>/features/<str:name>/tables/<slug:table>.csv",
        views.feature_table_csv,
        name="feature-table",
    ),
    # Experiments (drift.views.experiments).
    path("experiments/", experiments.experiments_list, name="experiments"),
    path("experiments/<int:pk>/", experiments.experiment_detail, name="experiment"),
    path(
        "experiments/<int:pk>/tables/<slug:table>.csv",
        experiments.experiment_table_csv,
        name="experiment-table",
    ),
    path("experiments/<int:pk>/decision/", experiments.experiment_decision, name="experiment-decide"),
    path("experiments/<int:pk>/stop/", experiments.experiment_halt, name="experiment-stop"),
]
