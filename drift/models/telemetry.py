"""What models saw and said: predictions, outcomes, health samples, reference data, ingestion batches."""

from django.conf import settings
from django.db import models

from drift.models.registry import ModelVersion, MonitoredModel


class PredictionStatus(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"


class PredictionLog(models.Model):
    """One prediction as the client sent it (after PII handling): the raw data retention may drop.

    On PostgreSQL the table is partitioned by week of `timestamp` (migration 0007): its primary key is
    (id, timestamp), and (model, record_id) is unique through the `drift_predictionkey` table instead of
    the constraint below, which is real on SQLite only. A new foreign key to this model needs
    `db_constraint=False` there plus a constraint to `drift_predictionkey(prediction_id)` in RunSQL, and
    a new unique constraint must include `timestamp`.
    """

    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="predictions")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="predictions")
    record_id = models.CharField(max_length=200, help_text="The client's id, unique per model.")
    timestamp = models.DateTimeField(help_text="When the model made the prediction.")
    received_at = models.DateTimeField()
    features = models.JSONField(help_text="Feature values after PII handling (hashed or dropped).")
    prediction = models.JSONField()
    score = models.FloatField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=PredictionStatus.choices, default=PredictionStatus.OK)
    attributions = models.JSONField(null=True, blank=True)
    lineage = models.JSONField(null=True, blank=True)
    is_late = models.BooleanField(default=False)
    # Value problems stored with the row so monitoring can count them: {"feature": "out_of_range", ...}.
    value_issues = models.JSONField(null=True, blank=True)
    # Synthetic telemetry of a governance drill: never part of real metrics or the real serving gate.
    is_drill = models.BooleanField(default=False)

    class Meta:
        constraints = [
            # Idempotent ingestion: re-sent ids are duplicates, never second rows (PostgreSQL: see above).
            models.UniqueConstraint(fields=["model", "record_id"], name="uniq_prediction_record_per_model"),
        ]
        indexes = [
            # Window scans of one version (profiles backfill, prediction explorer).
            models.Index(fields=["version", "timestamp"], name="pred_version_ts"),
            # Model-wide time range queries.
            models.Index(fields=["model", "timestamp"], name="pred_model_ts"),
        ]

    def __str__(self) -> str:
        return f"{self.record_id} @ {self.timestamp:%Y-%m-%d %H:%M}"


class Outcome(models.Model):
    """The true label of a prediction, joined later by the client's prediction id."""

    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="outcomes")
    prediction = models.OneToOneField(PredictionLog, on_delete=models.CASCADE, related_name="outcome")
    label = models.JSONField()
    observed_at = models.DateTimeField()
    received_at = models.DateTimeField()

    class Meta:
        indexes = [
            # Labelled-performance windows: outcomes of one model by observation time.
            models.Index(fields=["model", "observed_at"], name="outcome_model_observed"),
        ]

    def __str__(self) -> str:
        return f"outcome of {self.prediction_id}: {self.label}"


class HealthSample(models.Model):
    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="health_samples")
    timestamp = models.DateTimeField()
    received_at = models.DateTimeField()
    queue_depth = models.PositiveIntegerField(null=True, blank=True)
    request_count = models.PositiveIntegerField(null=True, blank=True)
    error_count = models.PositiveIntegerField(null=True, blank=True)
    cpu = models.FloatField(null=True, blank=True, help_text="CPU use, 0-100 %.")
    memory = models.FloatField(null=True, blank=True, help_text="Memory use in MB.")

    class Meta:
        ordering = ["-timestamp"]
        indexes = [
            # Operations charts: samples of one model over time.
            models.Index(fields=["model", "timestamp"], name="health_model_ts"),
        ]

    def __str__(self) -> str:
        return f"{self.model.slug} health @ {self.timestamp:%Y-%m-%d %H:%M}"


class ReferenceDataset(models.Model):
    """The data a version is compared against (often its validation set). One per version; replaced whole."""

    version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="reference")
    row_count = models.PositiveIntegerField()
    source = models.CharField(max_length=8, choices=[("json", "JSON records"), ("csv", "CSV upload")])
    digest = models.CharField(max_length=64, help_text="SHA-256 of the rows as stored.")
    has_scores = models.BooleanField(default=False)
    has_labels = models.BooleanField(default=False)
    # Bins for profiles, fixed by this reference (`drift.profiles.ProfileSpec`).
    profile_spec = models.JSONField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"reference of {self.version} ({self.row_count} rows)"


class ReferenceRow(models.Model):
    dataset = models.ForeignKey(ReferenceDataset, on_delete=models.CASCADE, related_name="rows")
    features = models.JSONField()
    prediction = models.JSONField()
    score = models.FloatField(null=True, blank=True)
    label = models.JSONField(null=True, blank=True)

    def __str__(self) -> str:
        return f"reference row {self.pk}"


class BatchKind(models.TextChoices):
    PREDICTIONS = "predictions", "Predictions"
    OUTCOMES = "outcomes", "Outcomes"
    REFERENCE = "reference", "Reference"


class IngestionBatch(models.Model):
    """One ingestion request and its tally: monitoring counts refused records from here."""

    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="ingestion_batches")
    version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=BatchKind.choices)
    received_at = models.DateTimeField()
    submitted_by = models.CharField(max_length=200, blank=True)
    partial = models.BooleanField(default=False)
    accepted = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0, help_text="Stored records with value problems.")
    late = models.PositiveIntegerField(default=0)
    is_drill = models.BooleanField(default=False, help_text="A governance drill's synthetic batch.")
    # First refused records' errors (field and problem; never the values of PII fields).
    errors_sample = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            # Data-quality analysis: refused-record share of one model over a window.
            models.Index(fields=["model", "received_at"], name="batch_model_received"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} batch of {self.model.slug} @ {self.received_at:%Y-%m-%d %H:%M}"
