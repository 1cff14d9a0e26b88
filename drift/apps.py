from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _partitions_ahead(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    # Every deploy's `migrate` tops up the weekly prediction partitions (PostgreSQL only).
    from drift.services.partitions import partitions_ensure

    if using == "default":
        partitions_ensure()


class DriftConfig(AppConfig):
    name = "drift"
    verbose_name = "Models and telemetry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_partitions_ahead, sender=self, dispatch_uid="drift.partitions_ahead")
