"""Drift events: one per (policy rule, ongoing breach), worked through a lifecycle by people."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from drift.models import AnalysisRun, MonitoredModel
from governance.models.policies import Policy, PolicyVersion, Severity


class EventStatus(models.TextChoices):
    DETECTED = "detected", "Detected"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    INVESTIGATING = "investigating", "Investigating"
    MITIGATED = "mitigated", "Mitigated"
    RESOLVED = "resolved", "Resolved"
    FALSE_ALARM = "false_alarm", "False alarm"


CLOSED_STATUSES = (EventStatus.RESOLVED, EventStatus.FALSE_ALARM)


class DriftEvent(models.Model):
    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="drift_events")
    policy = models.ForeignKey(
        Policy, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    policy_version = models.ForeignKey(
        PolicyVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule_key = models.CharField(max_length=16, blank=True)
    rule_index = models.PositiveSmallIntegerField(null=True, blank=True)
    signal = models.CharField(max_length=200)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    title = models.CharField(max_length=300)
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.DETECTED)
    breach_active = models.BooleanField(
        default=True, help_text="The latest analysis still breaches (the event stays open either way)."
    )
    detected_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(help_text="When the latest breaching analysis was evaluated.")
    windows = models.PositiveIntegerField(default=1, help_text="Breaching windows seen by this event.")
    latest_value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    suspected_cause = models.TextField(blank=True)
    actions_taken = models.TextField(blank=True)
    results = models.TextField(blank=True, help_text="What the actions achieved.")
    snapshot = models.JSONField(
        default=dict, blank=True, help_text="The state that led to an automatic mitigation."
    )
    runs = models.ManyToManyField(AnalysisRun, related_name="drift_events", blank=True)
    drill = models.ForeignKey(
        "governance.Drill",
        null=True,
        blank=True,
        # RESTRICT, not PROTECT: a drill with events cannot be deleted alone, but deleting its model
        # takes the drill and its events together.
        on_delete=models.RESTRICT,
        related_name="events",
        help_text="Set for an event a drill's synthetic telemetry raised (never behind the real gate).",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            # One open event per rule: a continuing (or resumed) breach updates it.
            models.UniqueConstraint(
                fields=["policy", "rule_key"],
                condition=~Q(status__in=["resolved", "false_alarm"]) & Q(drill__isnull=True),
                name="uniq_open_event_per_rule",
            ),
            # A drill's events live beside the real ones: one open event per rule and drill.
            models.UniqueConstraint(
                fields=["policy", "rule_key", "drill"],
                condition=~Q(status__in=["resolved", "false_alarm"]) & Q(drill__isnull=False),
                name="uniq_open_drill_event_per_rule",
            ),
        ]
        indexes = [
            # GET /api/v1/events/?model=…&status=…, newest first.
            models.Index(fields=["model", "status", "-detected_at"], name="event_model_status"),
            models.Index(fields=["status", "-detected_at"], name="event_status"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES
