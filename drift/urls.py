"""Page routes (the API lives under /api/v1/, see drift.api.urls)."""

from django.urls import path

from drift import views

app_name = "drift"

urlpatterns = [
    path("", views.portfolio_page, name="portfolio"),
    path("portfolio.csv", views.portfolio_csv, name="portfolio-csv"),
    path("models/<slug:slug>/", views.model_detail, name="model"),
    path("models/<slug:slug>/reanalyse/", views.model_reanalyse, name="model-reanalyse"),
    path("models/<slug:slug>/tables/<slug:table>.csv", views.model_table_csv, name="model-table"),
    path("models/<slug:slug>/predictions/", views.predictions_list, name="predictions"),
    path("models/<slug:slug>/predictions/<path:record_id>/", views.prediction_page, name="prediction"),
    path("models/<slug:slug>/features/<str:name>/", views.feature_detail, name="feature"),
    path(
        "models/<slug:slug>/features/<str:name>/tables/<slug:table>.csv",
        views.feature_table_csv,
        name="feature-table",
    ),
]
