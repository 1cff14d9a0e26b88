"""Integration keys: machine credentials scoped to one model."""

from django.conf import settings
from django.db import models

from drift.models.registry import MonitoredModel


class IntegrationKey(models.Model):
    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="integration_keys")
    name = models.CharField(max_length=100, help_text="What uses the key, e.g. 'scoring-service prod'.")
    # Only a hash is stored: the key is shown once, when it is created.
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=16, editable=False, help_text="First characters, to recognise a key."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["model", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) for {self.model.slug}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
