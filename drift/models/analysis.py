"""Analyses: one run per (version, kind, window), its results per section and per feature, and what is
cached between runs (learned thresholds, the reference's profile)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from drift.models.registry import ModelVersion, MonitoredModel
from drift.models.telemetry import ReferenceDataset


class RunKind(models.TextChoices):
    ANALYSIS = "analysis", "Window analysis"
    HOLDOUT = "holdout", "Rolling holdout evaluation"
    DRILL = "drill", "Drill analysis (synthetic telemetry)"


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Manual"


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    NO_DATA = "no_data", "No data"
    NEEDS_REFERENCE = "needs_reference", "Needs a reference"
    FAILED = "failed", "Failed"


FINISHED_STATUSES = (RunStatus.DONE, RunStatus.NO_DATA, RunStatus.NEEDS_REFERENCE, RunStatus.FAILED)


class Section(models.TextChoices):
    DATA_DRIFT = "data_drift", "Data drift"
    DATA_QUALITY = "data_quality", "Data quality"
    PERFORMANCE = "performance", "Performance"
    ESTIMATED_PERFORMANCE = "estimated_performance", "Estimated performance"
    CALIBRATION = "calibration", "Calibration"
    FAIRNESS = "fairness", "Fairness"
    CONCEPT_DRIFT = "concept_drift", "Concept drift"
    ATTRIBUTION = "attribution", "Attribution and confidence"
    OPERATIONS = "operations", "Operations"


class SectionStatus(models.TextChoices):
    OK = "ok", "OK"
    NO_DATA = "no_data", "No data"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    ERROR = "error", "Error"


class AnalysisRun(models.Model):
    """One analysis of one version over one window; re-running the window reuses this row."""

    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="analyses")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="analyses")
    kind = models.CharField(max_length=16, choices=RunKind.choices, default=RunKind.ANALYSIS)
    trigger = models.CharField(max_length=16, choices=RunTrigger.choices, default=RunTrigger.SCHEDULE)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField(help_text="Exclusive.")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.PENDING)
    reason = models.TextField(blank=True, help_text="Why the run is not done, in plain words.")
    narrative = models.TextField(blank=True)
    rows = models.PositiveIntegerField(default=0, help_text="Predictions in the window (from profiles).")
    labelled_rows = models.PositiveIntegerField(default=0)
    reference_digest = models.CharField(max_length=16, blank=True, help_text="The reference compared with.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # Passing windows feed the learned thresholds once, not again on every re-run of the same window.
    thresholds_fed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-window_start", "-id"]
        constraints = [
            # One run per window: dispatch and manual requests get_or_create on it, never duplicate.
            models.UniqueConstraint(
                fields=["version", "kind", "window_start", "window_end"], name="uniq_analysis_window"
            ),
            models.CheckConstraint(
                condition=Q(window_end__gt=F("window_start")), name="analysis_window_order"
            ),
        ]
        indexes = [
            # The model's run list (API, pages), newest window first.
            models.Index(fields=["model", "-window_start"], name="analysis_model_window"),
            # The dispatcher: pending runs to (re-)enqueue and stuck running ones.
            models.Index(fields=["status", "enqueued_at"], name="analysis_status_enqueued"),
            # Control-limit history: earlier runs of a version and kind.
            models.Index(fields=["version", "kind", "window_end"], name="analysis_version_history"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.version} {self.kind} {self.window_start:%Y-%m-%d %H:%M}/{self.window_end:%Y-%m-%d %H:%M}"
        )


class AnalysisResult(models.Model):
    """One section of a run's results (JSON-ready dict with a `status` and, when not ok, a `reason`)."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="results")
    section = models.CharField(max_length=32, choices=Section.choices)
    status = models.CharField(max_length=16, choices=SectionStatus.choices)
    reason = models.TextField(blank=True)
    data = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "section"], name="uniq_result_section")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.section}: {self.status}"


class FeatureResult(models.Model):
    """One feature's drift verdict in a run: queried across runs for a feature's history."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="feature_results")
    feature = models.CharField(max_length=100)
    mode = models.CharField(max_length=8, help_text="samples (exact test) or binned.")
    method = models.CharField(max_length=16)
    statistic = models.FloatField(null=True)
    p_value = models.FloatField(null=True)
    effect_method = models.CharField(max_length=16)
    effect_size = models.FloatField(null=True)
    threshold = models.FloatField(null=True)
    drifted = models.BooleanField(default=False)
    testable = models.BooleanField(default=True)
    n_current = models.PositiveIntegerField(default=0)
    reason = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "feature"], name="uniq_feature_result")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.feature}: {'drifted' if self.drifted else 'stable'}"


class LearnedThreshold(models.Model):
    """A threshold learned from the reference for one window-size bucket (a power of two), adapted since.

    Learning simulates hundreds of reference chunks; caching makes it a one-off per reference and
    bucket, and each window rescales it to its own size (`drift.stats.thresholds.rescale_threshold`).
    """

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="learned_thresholds")
    reference_digest = models.CharField(max_length=16, help_text="The reference it was learned from.")
    feature = models.CharField(max_length=100)
    mode = models.CharField(max_length=8)
    method = models.CharField(max_length=16)
    window_bucket = models.PositiveSmallIntegerField(help_text="log2 of the window size it was learned for.")
    state = models.JSONField(help_text="drift.stats.thresholds.LearnedThreshold as a dict.")
    value = models.FloatField()
    passes = models.PositiveIntegerField(default=0, help_text="Passing windows fed into the null.")
    false_alarms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "reference_digest", "feature", "mode", "method", "window_bucket"],
                name="uniq_learned_threshold",
            )
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.feature} {self.method} 2^{self.window_bucket}: {self.value:.4g}"


class ReferenceProfile(models.Model):
    """The reference's sketch (same bins as the fragments) and its label summaries, computed once."""

    reference = models.OneToOneField(ReferenceDataset, on_delete=models.CASCADE, related_name="profile")
    reference_digest = models.CharField(max_length=16)
    sketch = models.JSONField()
    labelled = models.JSONField(default=dict, help_text="Performance, calibrator, per-bin target rates.")
    # When an analysis last asked for the version's profiles to be rebuilt (stale fragments), so that
    # many queued runs of the same version ask once rather than each.
    rebuild_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"profile of {self.reference}"
