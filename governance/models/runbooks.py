"""Runbooks: versioned Markdown instructions, linked from policies and incidents."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from drift.models import MonitoredModel


class Runbook(models.Model):
    """What to do when something goes wrong; every edit makes a new `RunbookVersion`, the old ones stay."""

    slug = models.SlugField(max_length=80, unique=True, validators=[RegexValidator(r"^[a-z0-9][a-z0-9-]*$")])
    model = models.ForeignKey(
        MonitoredModel,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="runbooks",
        help_text="The model it is written for; empty for a runbook shared by every model.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class RunbookVersion(models.Model):
    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown (rendered safely: governance.markdown).")
    reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["runbook", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["runbook", "number"], name="uniq_runbook_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.runbook.slug} v{self.number}"
