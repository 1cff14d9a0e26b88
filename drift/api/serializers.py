"""Request validation and answer shapes of the v1 registry and telemetry API."""

from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from drift.models import (
    FeatureRole,
    FeatureSpec,
    FeatureType,
    HealthSample,
    ModelVersion,
    MonitoredModel,
    PiiHandling,
    PredictionLog,
    PredictionStatus,
    Stage,
    Task,
)


class BusinessValueSerializer(serializers.Serializer):
    tp = serializers.FloatField(required=False, allow_null=True)
    fp = serializers.FloatField(required=False, allow_null=True)
    tn = serializers.FloatField(required=False, allow_null=True)
    fn = serializers.FloatField(required=False, allow_null=True)


class BusinessSerializer(serializers.Serializer):
    kpi = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, help_text="ISO 4217 code, e.g. EUR.")
    value = BusinessValueSerializer(required=False, help_text="Value of each outcome (negative for a cost).")
    cost_per_unit_error = serializers.FloatField(required=False, allow_null=True, min_value=0)


class ModelCreateSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=80)
    name = serializers.CharField(max_length=200)
    task = serializers.ChoiceField(choices=Task.choices)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    owner = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    positive_label = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    business = BusinessSerializer(required=False)

    def validate_slug(self, value: str) -> str:
        if value != value.lower():
            raise serializers.ValidationError("use lower-case letters, digits and hyphens")
        return value


class ModelUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    owner = serializers.CharField(required=False, allow_blank=True, max_length=200)
    positive_label = serializers.CharField(required=False, allow_blank=True, max_length=100)
    business = BusinessSerializer(required=False)


class FeatureSerializer(serializers.Serializer):
    name = serializers.RegexField(r"^[A-Za-z_][A-Za-z0-9_.-]*$", max_length=100)
    type = serializers.ChoiceField(choices=FeatureType.choices)
    role = serializers.ChoiceField(choices=FeatureRole.choices, default=FeatureRole.INPUT)
    pii = serializers.ChoiceField(choices=PiiHandling.choices, default=PiiHandling.KEEP)
    nullable = serializers.BooleanField(default=True)
    min = serializers.FloatField(required=False, allow_null=True)
    max = serializers.FloatField(required=False, allow_null=True)
    categories = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=10_000
    )
    source = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    transformation = serializers.CharField(required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class SchemaSerializer(serializers.Serializer):
    features = FeatureSerializer(many=True, allow_empty=False, max_length=2000)


class TrainingDataSerializer(serializers.Serializer):
    uri = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    digest = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class VersionCreateSerializer(serializers.Serializer):
    version = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)
    stage = serializers.ChoiceField(choices=Stage.choices, default=Stage.SHADOW)
    schema = SchemaSerializer()
    training_data = TrainingDataSerializer(required=False)
    code_version = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    feature_set_version = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class VersionStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class FeatureOutSerializer(serializers.ModelSerializer):
    min = serializers.FloatField(source="min_value", allow_null=True)
    max = serializers.FloatField(source="max_value", allow_null=True)

    class Meta:
        model = FeatureSpec
        fields = [
            "name",
            "type",
            "role",
            "pii",
            "nullable",
            "min",
            "max",
            "categories",
            "source",
            "transformation",
            "description",
        ]


class VersionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ["version", "stage", "created_at"]


class VersionOutSerializer(serializers.ModelSerializer):
    schema = serializers.SerializerMethodField()
    training_data = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", default=None)
    stage_history = serializers.SerializerMethodField()
    reference = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "version",
            "stage",
            "schema",
            "training_data",
            "code_version",
            "feature_set_version",
            "created_by",
            "created_at",
            "stage_history",
            "reference",
        ]

    def get_schema(self, obj: ModelVersion) -> dict[str, Any]:
        return {"features": FeatureOutSerializer(obj.features.all(), many=True).data}

    def get_training_data(self, obj: ModelVersion) -> dict[str, str]:
        return {"uri": obj.training_data_uri, "digest": obj.training_data_digest}

    def get_stage_history(self, obj: ModelVersion) -> list[dict[str, Any]]:
        return [
            {
                "from": c.from_stage or None,
                "to": c.to_stage,
                "by": c.changed_by.username if c.changed_by else None,
                "at": c.changed_at.isoformat(),
                "reason": c.reason,
            }
            for c in obj.stage_history.all()
        ]

    def get_reference(self, obj: ModelVersion) -> dict[str, Any] | None:
        ref = getattr(obj, "reference", None)
        if ref is None:
            return None
        return {
            "rows": ref.row_count,
            "source": ref.source,
            "digest": ref.digest,
            "has_scores": ref.has_scores,
            "has_labels": ref.has_labels,
            "uploaded_at": ref.created_at.isoformat(),
        }


class HealthSerializer(serializers.ModelSerializer):
    class Meta:
        model = HealthSample
        fields = ["timestamp", "queue_depth", "request_count", "error_count", "cpu", "memory", "received_at"]


class ModelOutSerializer(serializers.ModelSerializer):
    business = serializers.SerializerMethodField()
    versions = VersionSummarySerializer(many=True, read_only=True)
    serving_mode = serializers.SerializerMethodField()
    latest_health = serializers.SerializerMethodField()

    class Meta:
        model = MonitoredModel
        fields = [
            "slug",
            "name",
            "task",
            "description",
            "owner",
            "positive_label",
            "business",
            "versions",
            "serving_mode",
            "latest_health",
            "created_at",
            "updated_at",
        ]

    def get_business(self, obj: MonitoredModel) -> dict[str, Any]:
        return {
            "kpi": obj.business_kpi,
            "currency": obj.currency,
            "value": {"tp": obj.value_tp, "fp": obj.value_fp, "tn": obj.value_tn, "fn": obj.value_fn},
            "cost_per_unit_error": obj.cost_per_unit_error,
        }

    def get_serving_mode(self, obj: MonitoredModel) -> str:
        from governance.selectors import serving_mode_of

        return serving_mode_of(obj)

    def get_latest_health(self, obj: MonitoredModel) -> dict[str, Any] | None:
        sample = obj.health_samples.order_by("-timestamp").first()
        return HealthSerializer(sample).data if sample else None


# --- Documentation-only shapes for the ingestion endpoints (the views parse the bodies themselves, fast) ---


class PredictionRecordSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=200, help_text="The client's id, unique per model.")
    timestamp = serializers.DateTimeField()
    features = serializers.DictField()
    prediction = serializers.JSONField()
    score = serializers.FloatField(required=False, allow_null=True)
    latency_ms = serializers.FloatField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=PredictionStatus.choices, required=False)
    attributions = serializers.DictField(child=serializers.FloatField(), required=False)
    lineage = serializers.DictField(
        required=False, help_text="source, pipeline_version, feature_timestamps, …"
    )


class PredictionBatchSerializer(serializers.Serializer):
    version = serializers.CharField()
    records = PredictionRecordSerializer(many=True)


class OutcomeRecordSerializer(serializers.Serializer):
    prediction_id = serializers.CharField()
    label = serializers.JSONField()
    timestamp = serializers.DateTimeField(required=False)


class OutcomeBatchSerializer(serializers.Serializer):
    records = OutcomeRecordSerializer(many=True)


class RejectedSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.CharField(allow_null=True)
    errors = serializers.ListField(child=serializers.DictField())


class IngestResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = RejectedSerializer(many=True)
    flagged = serializers.IntegerField(
        help_text="Stored records with value problems (range, category, null)."
    )
    late = serializers.IntegerField(help_text="Stored records older than the lateness bound.")


class ReferenceRowSerializer(serializers.Serializer):
    features = serializers.DictField()
    prediction = serializers.JSONField()
    score = serializers.FloatField(required=False, allow_null=True)
    label = serializers.JSONField(required=False)


class ReferenceUploadSerializer(serializers.Serializer):
    records = ReferenceRowSerializer(many=True)


class PredictionOutSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="record_id")
    version = serializers.CharField(source="version.version")

    class Meta:
        model = PredictionLog
        fields = [
            "id",
            "version",
            "timestamp",
            "received_at",
            "features",
            "prediction",
            "score",
            "latency_ms",
            "status",
            "attributions",
            "lineage",
            "is_late",
            "value_issues",
        ]


class HealthInSerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField(required=False, help_text="When measured; default: when received.")
    queue_depth = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    request_count = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    error_count = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    cpu = serializers.FloatField(
        required=False, allow_null=True, min_value=0, help_text="CPU use, 0 to 100 %."
    )
    memory = serializers.FloatField(
        required=False, allow_null=True, min_value=0, help_text="Memory use in MB."
    )


def page_of(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """The documented shape of a paginated list of `serializer_class` (``?limit=&offset=``)."""
    return inline_serializer(
        name=f"{serializer_class.__name__.removesuffix('Serializer')}Page",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )
