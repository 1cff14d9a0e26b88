"""Policies: versioned rules per model, each rule's verdict per analysis, and the requests they make."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from drift.models import AnalysisRun, ModelVersion, MonitoredModel


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class Policy(models.Model):
    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="policies")
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    runbook = models.ForeignKey(
        "governance.Runbook",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="policies",
        help_text="What to do when this policy fires (its incidents link it too).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "name"], condition=Q(is_active=True), name="uniq_active_policy_name"
            )
        ]
        indexes = [
            # policies_evaluate: the active policies of a run's model.
            models.Index(fields=["model", "is_active"], name="policy_model_active"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.model.slug})"


class PolicyVersion(models.Model):
    """The rules as they were at one time: a change makes a new version, the old ones stay."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    rules = models.JSONField(help_text="governance.policies rule dicts, validated.")
    reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="uniq_policy_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.policy.name} v{self.number}"


class RuleEvaluation(models.Model):
    """One rule's verdict on one analysis run: the history that persistence (N windows, M of K) reads.

    A rule is identified across policy versions by `rule_key` (a digest of its condition), so changing
    its actions or severity keeps the history, and changing its condition starts a fresh one.
    """

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="evaluations")
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="+")
    rule_key = models.CharField(max_length=16)
    rule_index = models.PositiveSmallIntegerField()
    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="rule_evaluations")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    window_end = models.DateTimeField()
    breached = models.BooleanField(null=True, help_text="None: the signal was unknown in this run.")
    fired = models.BooleanField(default=False, help_text="Breached for long enough (persistence met).")
    value = models.FloatField(null=True)
    threshold = models.FloatField(null=True)
    acted = models.BooleanField(default=False, help_text="This run started a breach and its actions ran.")
    evaluated_at = models.DateTimeField()

    class Meta:
        constraints = [
            # policies_evaluate is idempotent per run: re-evaluating updates this row.
            models.UniqueConstraint(fields=["policy", "rule_key", "run"], name="uniq_rule_evaluation")
        ]
        indexes = [
            # The rule's earlier verdicts on the same version, newest window first.
            models.Index(fields=["policy", "rule_key", "version", "-window_end"], name="rule_eval_history"),
        ]

    def __str__(self) -> str:
        return f"{self.policy_id}/{self.rule_key} run {self.run_id}: {self.breached}"


class RequestKind(models.TextChoices):
    RETRAINING = "retraining", "Retraining"
    HOLDOUT = "holdout", "Holdout evaluation"


class RequestStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    SCHEDULED = "scheduled", "Scheduled"
    DONE = "done", "Done"


class ActionRequest(models.Model):
    """A holdout evaluation a policy asked for. (Retraining requests were kept here too; they moved to
    `RetrainingRequest`, which has its own lifecycle and calls the model's pipeline.)"""

    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="action_requests")
    kind = models.CharField(max_length=16, choices=RequestKind.choices)
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.REQUESTED)
    policy = models.ForeignKey(Policy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event = models.ForeignKey(
        "governance.DriftEvent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_requests",
    )
    run = models.ForeignKey(AnalysisRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    requested_by = models.CharField(max_length=200)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The model's open requests (admin list, the retraining pipeline's poll).
            models.Index(fields=["model", "kind", "status"], name="action_request_open"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.model.slug} ({self.status})"
