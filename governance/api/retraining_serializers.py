"""Shapes of the retraining and version-replacement API."""

from typing import Any

from rest_framework import serializers

from governance.models import RetrainingPipeline, RetrainingRequest, RetrainingStatus, ServingMode
from governance.services.retraining import masked_url


class RetrainingRequestSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    decided_by = serializers.CharField(source="decided_by.username", default=None)
    result_version = serializers.CharField(source="result_version.version", default=None)
    pipeline = serializers.SerializerMethodField()

    class Meta:
        model = RetrainingRequest
        fields = [
            "id",
            "model",
            "status",
            "reason",
            "event",
            "policy",
            "run",
            "requested_by",
            "created_at",
            "updated_at",
            "decided_by",
            "decided_at",
            "note",
            "external_id",
            "result_version",
            "completed_at",
            "pipeline",
        ]

    def get_pipeline(self, obj: RetrainingRequest) -> dict[str, Any]:
        return {
            "call": obj.call_status,
            "attempts": obj.call_attempts,
            "response_code": obj.call_response_code,
            "error": obj.call_error,
            "called_at": obj.called_at,
        }


class RetrainingRequestCreateSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=10_000)
    event = serializers.IntegerField(required=False, allow_null=True, help_text="A drift event's id.")


class RetrainingTransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=RetrainingStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    external_id = serializers.CharField(required=False, allow_blank=True, max_length=200)
    version = serializers.CharField(required=False, max_length=64, help_text="The version it produced.")


class RetrainingPipelineSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = RetrainingPipeline
        fields = ["url", "is_active", "updated_at"]

    def get_url(self, obj: RetrainingPipeline) -> str:
        return masked_url(obj.url)


class RetrainingPipelineSetSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500)
    secret = serializers.CharField(required=False, allow_blank=True, max_length=200, write_only=True)
    is_active = serializers.BooleanField(required=False, default=True)


class VersionChangeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Required: why the production version changes.")
    serving_mode = serializers.ChoiceField(
        choices=ServingMode.choices,
        required=False,
        help_text="Also set the serving gate to this mode; omitted: the gate keeps its mode.",
    )


class VersionChangeResultSerializer(serializers.Serializer):
    model = serializers.CharField()
    production = serializers.CharField()
    previous = serializers.CharField(allow_null=True)
    serving = serializers.DictField()
