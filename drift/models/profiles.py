"""Profile fragments: mergeable sketches of one version's telemetry for one hour, written at ingestion."""

from django.db import models

from drift.models.registry import ModelVersion


class ProfileFragment(models.Model):
    """The sketch of the rows one ingestion batch brought for one hour (see `drift.profiles`).

    Append-only: concurrent batches each add their own fragment instead of updating a shared row, so
    ingestion never waits on a lock; an analysis merges the fragments of its window's hours.
    """

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="profile_fragments")
    hour = models.DateTimeField(help_text="Start of the hour (UTC) the rows' timestamps fall in.")
    spec_digest = models.CharField(
        max_length=16, blank=True, help_text="Bins used (from the reference); empty when none existed yet."
    )
    rows = models.PositiveIntegerField()
    sketch = models.JSONField()
    # Drill telemetry has fragments of its own: real analyses never merge them, drill analyses only them.
    is_drill = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Analyses and pages: fragments of one version over a window of hours.
            models.Index(fields=["version", "hour"], name="fragment_version_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.hour:%Y-%m-%d %H}:00 ({self.rows} rows)"
