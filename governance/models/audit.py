"""The audit log: every governance write, who made it and why. Append-only (see migration 0002)."""

from django.conf import settings
from django.db import models

from drift.models import MonitoredModel


class AuditEntry(models.Model):
    """One governance change. Rows are never updated or deleted: on PostgreSQL a trigger refuses both.

    The foreign keys have no database constraint and do nothing on delete, so deleting a user or a
    model neither rewrites nor removes its history (the ids stay, `actor` keeps the name).
    """

    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor = models.CharField(
        max_length=200, help_text="Username, 'policy:<id>', 'integration:<name>' or 'system:<task>'."
    )
    action = models.CharField(max_length=64, help_text="What happened, e.g. 'serving_mode.change'.")
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    model = models.ForeignKey(
        MonitoredModel,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            # GET /api/v1/audit/?model=…: one model's history, newest first.
            models.Index(fields=["model", "-at"], name="audit_model_at"),
            # The history of one object (an event's detail page, a policy's changes).
            models.Index(fields=["object_type", "object_id", "-at"], name="audit_object_at"),
            # ?action=… and ?actor=… filters.
            models.Index(fields=["action", "-at"], name="audit_action_at"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_type}:{self.object_id}"
