from django.apps import AppConfig


class DriftConfig(AppConfig):
    name = "drift"
    verbose_name = "Models and telemetry"
    default_auto_field = "django.db.models.BigAutoField"
