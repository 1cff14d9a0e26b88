"""The model registry: monitored models, their versions, stage history and feature schemas."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models


class Task(models.TextChoices):
    BINARY = "binary_classification", "Binary classification"
    MULTICLASS = "multiclass_classification", "Multiclass classification"
    REGRESSION = "regression", "Regression"


class AnalysisWindow(models.TextChoices):
    HOURLY = "hourly", "Hourly"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class MonitoredModel(models.Model):
    slug = models.SlugField(max_length=80, unique=True, validators=[RegexValidator(r"^[a-z0-9][a-z0-9-]*$")])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    task = models.CharField(max_length=32, choices=Task.choices)
    owner = models.CharField(
        max_length=200, blank=True, help_text="Person or team accountable for the model."
    )
    positive_label = models.CharField(
        max_length=100, blank=True, help_text="Label of the positive class (binary classification)."
    )
    # Business settings: what an outcome is worth, so drift can be told in money.
    business_kpi = models.TextField(
        blank=True, help_text="One sentence: the business result the model serves."
    )
    currency = models.CharField(max_length=3, default="USD")
    value_tp = models.FloatField(null=True, blank=True, help_text="Value of a true positive.")
    value_fp = models.FloatField(
        null=True, blank=True, help_text="Value of a false positive (negative = cost)."
    )
    value_tn = models.FloatField(null=True, blank=True, help_text="Value of a true negative.")
    value_fn = models.FloatField(
        null=True, blank=True, help_text="Value of a false negative (negative = cost)."
    )
    cost_per_unit_error = models.FloatField(
        null=True, blank=True, help_text="Regression: cost of one unit of absolute error."
    )
    # Analysis schedule: the dispatcher analyses each complete window of this length.
    analysis_window = models.CharField(
        max_length=8,
        choices=AnalysisWindow.choices,
        default=AnalysisWindow.DAILY,
        help_text="Length of the windows analysed automatically (UTC-aligned).",
    )
    analysis_enabled = models.BooleanField(default=True, help_text="Analyse complete windows automatically.")
    fairness_four_fifths = models.BooleanField(
        default=False,
        help_text="Judge selection-rate ratios by the four-fifths rule (a hiring rule of thumb).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.task == Task.REGRESSION and self.positive_label:
            raise ValidationError({"positive_label": "A regression model has no positive label."})
        if self.task != Task.REGRESSION and self.cost_per_unit_error is not None:
            raise ValidationError(
                {"cost_per_unit_error": "Only regression models have a cost per unit of error."}
            )


class Stage(models.TextChoices):
    SHADOW = "shadow", "Shadow"
    CANARY = "canary", "Canary"
    PRODUCTION = "production", "Production"
    ARCHIVED = "archived", "Archived"


class ModelVersion(models.Model):
    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=64, validators=[RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")])
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.SHADOW)
    training_data_uri = models.CharField(max_length=500, blank=True)
    training_data_digest = models.CharField(max_length=200, blank=True)
    code_version = models.CharField(max_length=200, blank=True)
    feature_set_version = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "created_at"]
        constraints = [models.UniqueConstraint(fields=["model", "version"], name="uniq_version_per_model")]

    def __str__(self) -> str:
        return f"{self.model.slug}@{self.version}"


class StageChange(models.Model):
    """Every stage a version has held, who moved it and why."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="stage_history")
    from_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=Stage.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.version}: {self.from_stage or '—'} → {self.to_stage}"


class FeatureType(models.TextChoices):
    NUMERIC = "numeric", "Numeric"
    CATEGORICAL = "categorical", "Categorical"
    BOOLEAN = "boolean", "Boolean"


class FeatureRole(models.TextChoices):
    INPUT = "input", "Model input"
    SENSITIVE = "sensitive", "Sensitive attribute (fairness)"
    SEGMENT = "segment", "Segment (for slicing)"


class PiiHandling(models.TextChoices):
    KEEP = "keep", "Keep as sent"
    HASH = "hash", "Store a keyed hash"
    DROP = "drop", "Never store"


class FeatureSpec(models.Model):
    """One feature of a version's schema: the versioned metadata that explains later why behaviour changed."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="features")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=100, validators=[RegexValidator(r"^[A-Za-z_][A-Za-z0-9_.-]*$")])
    type = models.CharField(max_length=16, choices=FeatureType.choices)
    role = models.CharField(max_length=16, choices=FeatureRole.choices, default=FeatureRole.INPUT)
    pii = models.CharField(max_length=8, choices=PiiHandling.choices, default=PiiHandling.KEEP)
    nullable = models.BooleanField(default=True)
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)
    categories = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=300, blank=True, help_text="Where the value comes from.")
    transformation = models.TextField(blank=True, help_text="How the value is derived from its source.")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["version", "position"]
        constraints = [models.UniqueConstraint(fields=["version", "name"], name="uniq_feature_per_version")]

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"

    def clean(self) -> None:
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            raise ValidationError({"min_value": "min must not exceed max."})
        if self.type != FeatureType.NUMERIC and (self.min_value is not None or self.max_value is not None):
            raise ValidationError({"min_value": "Only numeric features have a range."})
        if self.type != FeatureType.CATEGORICAL and self.categories:
            raise ValidationError({"categories": "Only categorical features declare categories."})
