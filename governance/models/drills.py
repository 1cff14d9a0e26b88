"""Drills: synthetic drift injected into a model's telemetry, judged by the real policies in drill mode."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from drift.models import AnalysisRun, ModelVersion, MonitoredModel


class DrillStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"


class Drill(models.Model):
    """One exercise: its telemetry (flagged `is_drill`) goes through the same analysis and policies as
    real data, but events and gate changes land here, never on the real serving gate."""

    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="drills")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    scenario = models.CharField(max_length=32, help_text="A drift.scenarios kind.")
    magnitude = models.FloatField()
    rows = models.PositiveIntegerField(help_text="Drill predictions sent.")
    seed = models.PositiveIntegerField()
    injected = models.TextField(blank=True, help_text="What was changed, in words.")
    status = models.CharField(max_length=16, choices=DrillStatus.choices, default=DrillStatus.RUNNING)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    run = models.OneToOneField(
        AnalysisRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="drill"
    )
    evaluated_at = models.DateTimeField(null=True, blank=True, help_text="When policies judged its analysis.")
    gate_mode = models.CharField(max_length=16, default="normal", help_text="The drill's own serving mode.")
    gate_reason = models.TextField(blank=True)
    gate_changed_at = models.DateTimeField(null=True, blank=True)
    actions = models.JSONField(
        default=list, blank=True, help_text="What the policies did or would have done."
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # One drill at a time per model: its events and gate are unambiguous.
            models.UniqueConstraint(
                fields=["model"], condition=Q(status="running"), name="uniq_running_drill"
            )
        ]

    def __str__(self) -> str:
        return f"drill #{self.pk} {self.scenario} on {self.model.slug} ({self.status})"
