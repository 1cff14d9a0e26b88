from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from monitoring_site import health, metrics
from monitoring_site.api import api_not_found

urlpatterns = [
    path("", include("drift.urls")),
    path("", include("governance.urls")),
    path(
        "login/",
        auth_views.LoginView.as_view(next_page="drift:portfolio", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("drift.api.urls")),
    path("api/v1/", include("governance.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    re_path(r"^api/", api_not_found),
]

# A database outage met outside a view is a 503 with Retry-After too (monitoring_site.db_errors).
handler500 = "monitoring_site.db_errors.server_error"
