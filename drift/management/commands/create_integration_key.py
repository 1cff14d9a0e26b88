"""`manage.py create_integration_key --model SLUG --name NAME`: print a new model-scoped key, once."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from drift.models import MonitoredModel
from drift.services.keys import integration_key_create
from monitoring_site.errors import ApplicationError


class Command(BaseCommand):
    help = "Create an integration key for one model and print it (it cannot be shown again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--model", required=True, help="Slug of the model the key may write telemetry for."
        )
        parser.add_argument("--name", required=True, help="What uses the key, e.g. 'scoring-service prod'.")

    def handle(self, *args: Any, model: str, name: str, **options: Any) -> None:
        found = MonitoredModel.objects.filter(slug=model).first()
        if found is None:
            known = ", ".join(MonitoredModel.objects.values_list("slug", flat=True)[:50]) or "none yet"
            raise CommandError(f"No model with slug '{model}'. Known models: {known}.")
        try:
            key, plain = integration_key_create(model=found, name=name)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(plain)
        self.stderr.write(
            f"Integration key '{key.name}' for model '{found.slug}' created (starts {key.prefix}). "
            "Store it now: only its hash is kept, so it cannot be shown again."
        )
