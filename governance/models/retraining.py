"""Retraining: requests (from policies or people) and the model's external pipeline, called by a signed
webhook when a request is accepted."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from drift.models import AnalysisRun, ModelVersion, MonitoredModel
from governance.models.events import DriftEvent
from governance.models.policies import Policy


class RetrainingPipeline(models.Model):
    """Where a model's retraining pipeline listens: a URL that receives signed JSON (Standard Webhooks)."""

    model = models.OneToOneField(MonitoredModel, on_delete=models.CASCADE, related_name="retraining_pipeline")
    url = models.CharField(max_length=500)
    secret = models.CharField(max_length=200, help_text="Signing secret ('whsec_<base64>').")
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"retraining pipeline of {self.model.slug}"


class RetrainingStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    REJECTED = "rejected", "Rejected"


OPEN_RETRAINING = (RetrainingStatus.REQUESTED, RetrainingStatus.ACCEPTED, RetrainingStatus.RUNNING)


class PipelineCall(models.TextChoices):
    NONE = "none", "Not called"
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class RetrainingRequest(models.Model):
    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="retraining_requests")
    status = models.CharField(
        max_length=16, choices=RetrainingStatus.choices, default=RetrainingStatus.REQUESTED
    )
    reason = models.TextField()
    event = models.ForeignKey(
        DriftEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="retraining_requests"
    )
    policy = models.ForeignKey(Policy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    run = models.ForeignKey(AnalysisRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_by = models.CharField(max_length=200, help_text="Username or 'policy:<id>'.")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="The latest decision's or the pipeline's note.")
    external_id = models.CharField(max_length=200, blank=True, help_text="The pipeline's run id.")
    result_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    call_status = models.CharField(max_length=8, choices=PipelineCall.choices, default=PipelineCall.NONE)
    call_attempts = models.PositiveSmallIntegerField(default=0)
    call_error = models.TextField(blank=True)
    call_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    called_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A policy asks once per event; a person may ask again once the earlier request is closed.
            models.UniqueConstraint(
                fields=["event"],
                condition=Q(event__isnull=False, status__in=["requested", "accepted", "running"]),
                name="uniq_open_retraining_per_event",
            )
        ]
        indexes = [
            # GET /api/v1/retraining-requests/?model=…&status=…
            models.Index(fields=["model", "status", "-created_at"], name="retraining_model_status"),
        ]

    def __str__(self) -> str:
        return f"retraining of {self.model.slug} #{self.pk} ({self.status})"
