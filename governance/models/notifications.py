"""Where notifications go (channels per model) and what happened to each one sent (deliveries)."""

from django.db import models

from drift.models import MonitoredModel
from governance.models.events import DriftEvent
from governance.models.policies import Severity


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook (signed JSON)"
    SLACK = "slack", "Slack incoming webhook"
    PAGERDUTY = "pagerduty", "PagerDuty Events v2"


class NotificationChannel(models.Model):
    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="channels")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    target = models.CharField(
        max_length=500, help_text="Email address, webhook URL, Slack webhook URL or PagerDuty routing key."
    )
    secret = models.CharField(
        max_length=200, blank=True, help_text="Webhook signing secret ('whsec_<base64>' or any text)."
    )
    min_severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.WARNING)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "name"]
        indexes = [
            # Fan-out of one notification: the model's active channels.
            models.Index(fields=["model", "is_active"], name="channel_model_active"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}) for {self.model.slug}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One notification to one channel. `topic` names the state change, so it is sent once."""

    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(
        DriftEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    incident = models.ForeignKey(
        "governance.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    topic = models.CharField(max_length=200, help_text="e.g. 'event:12:acknowledged'.")
    message = models.JSONField(help_text="governance.notifications.Message as a dict.")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["channel", "topic"], name="uniq_delivery_per_topic"),
        ]
        indexes = [
            # GET /api/v1/deliveries/?status=failed, newest first.
            models.Index(fields=["status", "-created_at"], name="delivery_status"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} → {self.channel.name}: {self.status}"
