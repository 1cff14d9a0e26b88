"""Governance page routes (the API lives under /api/v1/, see governance.api.urls)."""

from django.urls import path  # noqa: F401  (page modules add their routes below)

app_name = "governance"

urlpatterns: list = [
]
