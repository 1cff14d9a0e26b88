"""Postmortems: the blameless write-up of a resolved incident, with facts computed from the record,
and the action items that follow from it."""

from django.conf import settings
from django.db import models

from governance.models.incidents import Incident


class PostmortemStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"


class Postmortem(models.Model):
    """One per incident. Narrative fields are written by people; `facts` (impact, timeline, detection
    times, drift values, segments, mitigations) are computed from the record and frozen on publishing."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="postmortem")
    status = models.CharField(max_length=16, choices=PostmortemStatus.choices, default=PostmortemStatus.DRAFT)
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True, help_text="What happened, in two or three sentences.")
    impact_notes = models.TextField(blank=True, help_text="Impact beyond the computed numbers.")
    trigger = models.TextField(blank=True, help_text="What set it off.")
    root_cause = models.TextField(blank=True)
    detection = models.TextField(blank=True, help_text="How it was noticed, and how it could be sooner.")
    resolution = models.TextField(blank=True)
    mitigation = models.TextField(blank=True, help_text="Mitigations used, beyond those on the record.")
    went_well = models.TextField(blank=True)
    went_badly = models.TextField(blank=True)
    lucky = models.TextField(blank=True, help_text="Where we were lucky.")
    facts = models.JSONField(default=dict, blank=True)
    facts_at = models.DateTimeField(null=True, blank=True, help_text="When the facts were last computed.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # GET /api/v1/postmortems/?status=…, newest first.
            models.Index(fields=["status", "-created_at"], name="postmortem_status"),
        ]

    def __str__(self) -> str:
        return f"Postmortem of incident #{self.incident_id} ({self.status})"


class ActionItemStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    WONT_DO = "wont_do", "Won't do"


class ActionItem(models.Model):
    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="action_items")
    title = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ActionItemStatus.choices, default=ActionItemStatus.OPEN)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["postmortem", "id"]
        indexes = [
            # Open action items by due date (what is overdue).
            models.Index(fields=["status", "due_date"], name="action_item_due"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"
