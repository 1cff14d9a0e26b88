"""The serving gate: the mode each model's production system should serve in, and why."""

from django.conf import settings
from django.db import models

from drift.models import MonitoredModel
from governance.models.events import DriftEvent


class ServingMode(models.TextChoices):
    NORMAL = "normal", "Normal"
    HUMAN_REVIEW = "human_review", "Human review"
    FALLBACK = "fallback", "Fallback"
    PAUSED = "paused", "Paused"


# Strictness order: policies may only move a model to the right.
MODE_ORDER = (ServingMode.NORMAL, ServingMode.HUMAN_REVIEW, ServingMode.FALLBACK, ServingMode.PAUSED)


def strictness(mode: str) -> int:
    return MODE_ORDER.index(ServingMode(mode))


class ServingState(models.Model):
    """A model without a row serves normally; the row appears with the first change."""

    model = models.OneToOneField(MonitoredModel, on_delete=models.CASCADE, related_name="serving_state")
    mode = models.CharField(max_length=16, choices=ServingMode.choices, default=ServingMode.NORMAL)
    reason = models.TextField(blank=True)
    since = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_by_actor = models.CharField(max_length=200, blank=True)
    events = models.ManyToManyField(DriftEvent, related_name="serving_states", blank=True)

    def __str__(self) -> str:
        return f"{self.model.slug}: {self.mode}"
