"""Champion/challenger experiments: arms, looks at the data, and the decisions taken on them."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from drift.models.registry import ModelVersion, MonitoredModel


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RUNNING = "running", "Running"
    STOPPED = "stopped", "Stopped, awaiting a decision"
    CONCLUDED = "concluded", "Concluded"


class ExperimentMode(models.TextChoices):
    AB = "ab", "A/B test (fixed allocation)"
    BANDIT = "bandit", "Bandit (Thompson sampling allocation)"


class PrimaryMetric(models.TextChoices):
    ACCURACY = "accuracy", "Accuracy"
    ERROR_RATE = "error_rate", "Error rate"
    TRUE_POSITIVE_RATE = "true_positive_rate", "True positive rate"
    TRUE_NEGATIVE_RATE = "true_negative_rate", "True negative rate"
    PRECISION = "precision", "Precision"
    BUSINESS_VALUE = "business_value", "Business value per prediction"
    MEAN_ABSOLUTE_ERROR = "mean_absolute_error", "Mean absolute error"


class GuardrailMetric(models.TextChoices):
    LATENCY_P95 = "latency_p95", "Latency p95"
    ERROR_RATE = "error_rate", "Serving error rate"
    FAIRNESS_RATIO = "fairness_ratio", "Fairness (selection-rate ratio)"
    CALIBRATION_ERROR = "calibration_error", "Calibration error (ECE)"


class StopReason(models.TextChoices):
    SUCCESS = "success", "Success"
    FUTILITY = "futility", "Futility"
    GUARDRAIL = "guardrail", "Guardrail breach"
    SAMPLE_RATIO_MISMATCH = "sample_ratio_mismatch", "Sample-ratio mismatch"
    PLANNED_DURATION = "planned_duration", "Planned duration reached"
    MANUAL = "manual", "Stopped by a person"


class Decision(models.TextChoices):
    PROMOTE = "promote", "Promote the challenger"
    REVERT = "revert", "Revert to the control"
    EXTEND = "extend", "Extend the experiment"


class Experiment(models.Model):
    """A control version against one or more challengers of the same model.

    Metric, effect size, alpha, duration, guardrails and allocation are editable while a draft; at
    start they are copied into `criteria` with the tuned mixture precision and never change again, so
    the stopping rules cannot be bent after the data is seen.
    """

    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="experiments")
    name = models.CharField(max_length=200)
    hypothesis = models.TextField(blank=True, help_text="What the challenger should improve, and why.")
    status = models.CharField(max_length=16, choices=ExperimentStatus.choices, default=ExperimentStatus.DRAFT)
    mode = models.CharField(max_length=8, choices=ExperimentMode.choices, default=ExperimentMode.AB)
    primary_metric = models.CharField(max_length=32, choices=PrimaryMetric.choices)
    minimum_detectable_effect = models.FloatField(
        help_text="Smallest improvement worth detecting, in the metric's units (0.02 = 2 points)."
    )
    alpha = models.FloatField(default=0.05, help_text="Error rate of the always-valid test.")
    planned_days = models.PositiveIntegerField(default=14)
    # [{"metric": "latency_p95", "margin": 0.1}, {"metric": "fairness_ratio", "margin": 0.05,
    #   "feature": "gender"}]: see drift.engine.experiments.GUARDRAILS for units.
    guardrails = models.JSONField(default=list, blank=True)
    bandit_floor = models.FloatField(default=0.05, help_text="Smallest traffic share of any arm (bandit).")
    criteria = models.JSONField(null=True, blank=True, help_text="Locked at start; rules read only this.")
    # What the serving system routes by ({version: share}); GET /models/{slug}/allocation/ reads it.
    allocation = models.JSONField(default=dict, blank=True)
    # [{"from": ISO time, "shares": {version: share}}]: what was in force when, for the sample-ratio
    # check (expected counts hour by hour) and the allocation-over-time chart. Appended on change only.
    allocation_history = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Planned end, set at start.")
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=24, choices=StopReason.choices, blank=True)
    stop_note = models.TextField(blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Two experiments splitting one model's traffic would each see the other's arms as noise.
            models.UniqueConstraint(
                fields=["model"],
                condition=Q(status="running"),
                name="one_running_experiment_per_model",
            ),
        ]
        indexes = [
            # The periodic evaluation: running experiments, least recently evaluated first.
            models.Index(fields=["status", "last_evaluated_at"], name="experiment_status_eval"),
            # GET /api/v1/experiments/?model=…: one model's experiments, newest first.
            models.Index(fields=["model", "-created_at"], name="experiment_model_created"),
        ]

    def __str__(self) -> str:
        return f"{self.model.slug}: {self.name}"


class ExperimentArm(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="arms")
    # RESTRICT, not PROTECT: a version in an experiment cannot be deleted on its own (its evidence
    # would go), but deleting the whole model takes its experiments and versions together.
    version = models.ForeignKey(ModelVersion, on_delete=models.RESTRICT, related_name="experiment_arms")
    is_control = models.BooleanField(default=False)
    planned_share = models.FloatField(help_text="Share of traffic in A/B mode (arms sum to 1).")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["experiment", "position"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "version"], name="uniq_arm_version_per_experiment"),
        ]

    def __str__(self) -> str:
        return f"{self.version} ({'control' if self.is_control else 'challenger'})"


class ExperimentLook(models.Model):
    """One evaluation: the statistics as known then, and what the rules concluded. Append-only."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="looks")
    number = models.PositiveIntegerField()
    at = models.DateTimeField()
    data_start = models.DateTimeField()
    data_end = models.DateTimeField()
    results = models.JSONField()
    allocation = models.JSONField(default=dict)
    stop_reason = models.CharField(max_length=24, choices=StopReason.choices, blank=True)

    class Meta:
        ordering = ["experiment", "number"]
        constraints = [
            # Also the index of the results page: one experiment's looks in order.
            models.UniqueConstraint(fields=["experiment", "number"], name="uniq_look_number"),
        ]

    def __str__(self) -> str:
        return f"look {self.number} of experiment {self.experiment_id}"


class ExperimentDecision(models.Model):
    """Promote, revert or extend, with the statistics it rested on (copied, so later looks never change
    the record of why)."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="decisions")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    reason = models.TextField()
    version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    evidence = models.JSONField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.CharField(max_length=200)
    at = models.DateTimeField()

    class Meta:
        ordering = ["experiment", "at", "id"]

    def __str__(self) -> str:
        return f"{self.decision} on experiment {self.experiment_id}"
