"""Incidents: severity, status, roles, a timeline, a rollback plan, and escalation per model."""

from django.conf import settings
from django.db import models

from drift.models import MonitoredModel
from governance.models.events import DriftEvent
from governance.models.notifications import NotificationChannel


class IncidentSeverity(models.TextChoices):
    SEV1 = "SEV1", "SEV1 — critical"
    SEV2 = "SEV2", "SEV2 — major"
    SEV3 = "SEV3", "SEV3 — minor"
    SEV4 = "SEV4", "SEV4 — low"


class IncidentStatus(models.TextChoices):
    TRIAGE = "triage", "Triage"
    ACTIVE = "active", "Active"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


class Incident(models.Model):
    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="incidents")
    title = models.CharField(max_length=300)
    severity = models.CharField(max_length=4, choices=IncidentSeverity.choices)
    status = models.CharField(max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.TRIAGE)
    summary = models.TextField(blank=True)
    rollback_plan = models.TextField(blank=True)
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scribe = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sme = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Subject-matter expert.",
    )
    events = models.ManyToManyField(DriftEvent, related_name="incidents", blank=True)
    runbook = models.ForeignKey(
        "governance.Runbook", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    opened_by = models.CharField(max_length=200)
    opened_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(
        default=0, help_text="Highest escalation level notified (0: none yet)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            # GET /api/v1/incidents/?model=…&status=…
            models.Index(fields=["model", "status", "-opened_at"], name="incident_model_status"),
            # incidents_escalate: unacknowledged incidents.
            models.Index(fields=["acknowledged_at", "status"], name="incident_unacknowledged"),
        ]

    def __str__(self) -> str:
        return f"{self.severity} #{self.pk} {self.title} ({self.status})"


class TimelineKind(models.TextChoices):
    OPENED = "opened", "Opened"
    EVENT = "event", "Drift event"
    MITIGATION = "mitigation", "Mitigation"
    STATUS = "status", "Status change"
    ROLES = "roles", "Roles"
    ESCALATION = "escalation", "Escalation"
    NOTE = "note", "Note"


class TimelineEntry(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=TimelineKind.choices)
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.CharField(max_length=200)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "timeline entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}: {self.text[:60]}"


class EscalationStep(models.Model):
    """Level N of a model's escalation path: notify `channel` when an incident is unacknowledged
    `after_minutes` after it opened."""

    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="escalation_steps")
    level = models.PositiveSmallIntegerField()
    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="+")
    after_minutes = models.PositiveIntegerField()

    class Meta:
        ordering = ["model", "level"]
        constraints = [models.UniqueConstraint(fields=["model", "level"], name="uniq_escalation_level")]

    def __str__(self) -> str:
        return f"{self.model.slug} level {self.level}: {self.channel.name} after {self.after_minutes} min"
