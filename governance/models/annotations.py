"""Frontline feedback: annotations on a prediction, a time range or a segment, triaged by analysts into
improvement tasks (linked to a drift event or a retraining request) or dismissed with a reason."""

from django.conf import settings
from django.db import models

from drift.models import MonitoredModel, PredictionLog
from governance.models.events import DriftEvent
from governance.models.retraining import RetrainingRequest


class AnnotationTarget(models.TextChoices):
    PREDICTION = "prediction", "A prediction"
    TIME_RANGE = "time_range", "A time range"
    SEGMENT = "segment", "A segment"


class AnnotationCategory(models.TextChoices):
    WRONG_PREDICTION = "wrong_prediction", "Wrong prediction"
    DATA_PROBLEM = "data_problem", "Data problem"
    EDGE_CASE = "edge_case", "Edge case"
    OTHER = "other", "Other"


class AnnotationStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class ImprovementTask(models.Model):
    """Work that feedback led to, tied to the drift event or retraining request it feeds."""

    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="improvement_tasks")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    event = models.ForeignKey(
        DriftEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="improvement_tasks"
    )
    retraining_request = models.ForeignKey(
        RetrainingRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="improvement_tasks"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # GET /api/v1/improvement-tasks/?model=…&status=…
            models.Index(fields=["model", "status", "-created_at"], name="task_model_status"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"


class Annotation(models.Model):
    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="annotations")
    target = models.CharField(max_length=16, choices=AnnotationTarget.choices)
    # A prediction is named by the client's record id; the row link goes if retention prunes the row.
    record_id = models.CharField(max_length=200, blank=True)
    prediction = models.ForeignKey(
        PredictionLog, null=True, blank=True, on_delete=models.SET_NULL, related_name="annotations"
    )
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True, help_text="Exclusive.")
    segment_feature = models.CharField(max_length=100, blank=True)
    segment_value = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=20, choices=AnnotationCategory.choices)
    note = models.TextField(help_text="Plain text, shown escaped.")
    status = models.CharField(max_length=16, choices=AnnotationStatus.choices, default=AnnotationStatus.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    triaged_at = models.DateTimeField(null=True, blank=True)
    dismiss_reason = models.TextField(blank=True)
    task = models.ForeignKey(
        ImprovementTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="annotations"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The triage queue and dashboards: a model's annotations by status, newest first.
            models.Index(fields=["model", "status", "-created_at"], name="annotation_model_status"),
            # Annotations overlapping a time window (dashboards' time series).
            models.Index(fields=["model", "start"], name="annotation_model_start"),
        ]

    def __str__(self) -> str:
        return f"{self.category} on {self.model.slug} ({self.status})"
