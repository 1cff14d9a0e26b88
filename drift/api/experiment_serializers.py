"""Shapes of the experiments API: typed parsing at the edge, the service does the real checks."""

from typing import Any

from rest_framework import serializers

from drift.models import (
    Decision,
    Experiment,
    ExperimentDecision,
    ExperimentMode,
    GuardrailMetric,
    PrimaryMetric,
)


class GuardrailSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=GuardrailMetric.choices)
    margin = serializers.FloatField(
        min_value=0,
        help_text="latency_p95: relative (0.1 = p95 up to 10 % slower); others: absolute "
        "(error_rate 0.005 = half a point; fairness_ratio drop; calibration_error rise).",
    )
    feature = serializers.CharField(
        required=False, max_length=100, help_text="fairness_ratio: sensitive feature."
    )


class ExperimentWriteSerializer(serializers.Serializer):
    model = serializers.SlugField(max_length=80, help_text="Slug of the model (create only).")
    name = serializers.CharField(max_length=200)
    hypothesis = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    control = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)
    challengers = serializers.ListField(
        child=serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64),
        min_length=1,
        max_length=5,
    )
    allocation = serializers.DictField(
        child=serializers.FloatField(min_value=0, max_value=1),
        required=False,
        help_text="Share of traffic per version in A/B mode, summing to 1 (default: even).",
    )
    primary_metric = serializers.ChoiceField(choices=PrimaryMetric.choices)
    minimum_detectable_effect = serializers.FloatField(
        help_text="Smallest improvement worth detecting, in the metric's units (0.02 = 2 points)."
    )
    alpha = serializers.FloatField(default=0.05)
    planned_days = serializers.IntegerField(min_value=1, max_value=365, default=14)
    guardrails = GuardrailSerializer(many=True, required=False, default=list)
    mode = serializers.ChoiceField(choices=ExperimentMode.choices, default=ExperimentMode.AB)
    bandit_floor = serializers.FloatField(min_value=0, max_value=0.5, default=0.05)


class StopSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    reason = serializers.CharField(max_length=2000)
    version = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64, required=False, help_text="promote: which challenger."
    )
    extend_days = serializers.IntegerField(min_value=1, max_value=365, required=False)


class DecisionOutSerializer(serializers.ModelSerializer):
    version = serializers.CharField(source="version.version", allow_null=True, default=None)

    class Meta:
        model = ExperimentDecision
        fields = ["id", "decision", "reason", "version", "actor", "at", "evidence"]


class ExperimentOutSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    arms = serializers.SerializerMethodField()
    decisions = serializers.SerializerMethodField()

    class Meta:
        model = Experiment
        fields = [
            "id",
            "model",
            "name",
            "hypothesis",
            "status",
            "mode",
            "primary_metric",
            "minimum_detectable_effect",
            "alpha",
            "planned_days",
            "guardrails",
            "bandit_floor",
            "arms",
            "allocation",
            "criteria",
            "created_at",
            "started_at",
            "ends_at",
            "stopped_at",
            "stop_reason",
            "stop_note",
            "decisions",
        ]

    def get_arms(self, obj: Experiment) -> list[dict[str, Any]]:
        return [
            {
                "version": a.version.version,
                "role": "control" if a.is_control else "challenger",
                "planned_share": a.planned_share,
            }
            for a in sorted(obj.arms.all(), key=lambda a: a.position)
        ]

    def get_decisions(self, obj: Experiment) -> list[dict[str, Any]]:
        # The evidence is large and shown by the results endpoint; the list shows what was decided.
        return [
            {"decision": d.decision, "reason": d.reason, "actor": d.actor, "at": d.at}
            for d in obj.decisions.all()
        ]


class AllocationSerializer(serializers.Serializer):
    model = serializers.CharField()
    experiment = serializers.IntegerField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    mode = serializers.CharField(allow_null=True)
    arms = serializers.ListField(child=serializers.DictField())
    updated_at = serializers.CharField(allow_null=True)
