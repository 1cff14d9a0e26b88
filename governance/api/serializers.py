"""Shapes of the governance API: input validation at the edge, output of records."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.api.runbook_serializers import runbook_link
from governance.models import (
    AuditEntry,
    ChannelKind,
    Delivery,
    DriftEvent,
    EscalationStep,
    EventStatus,
    Incident,
    IncidentSeverity,
    IncidentStatus,
    NotificationChannel,
    Policy,
    PolicyVersion,
    ServingMode,
    Severity,
    TimelineEntry,
)

TEXT = {"required": False, "allow_blank": True, "max_length": 10_000}


class AuditEntrySerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug", default=None)
    user = serializers.IntegerField(source="user_id", allow_null=True)

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "actor",
            "user",
            "action",
            "object_type",
            "object_id",
            "model",
            "before",
            "after",
            "reason",
        ]


class RuleSerializer(serializers.Serializer):
    """Documentation of one rule; `governance.policies.validate_rules` checks them (errors name the rule)."""

    signal = serializers.CharField(help_text="e.g. data_drift.share_drifted, performance.accuracy")
    op = serializers.ChoiceField(choices=[">", ">=", "<", "<=", "==", "!="], required=False)
    value = serializers.FloatField(required=False)
    learned = serializers.BooleanField(required=False, help_text="Use the engine's own verdict.")
    windows = serializers.IntegerField(required=False, min_value=1)
    m_of_k = serializers.ListField(child=serializers.IntegerField(), required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    actions = serializers.ListField(child=serializers.DictField(), required=False)
    description = serializers.CharField(required=False)


@extend_schema_field(RuleSerializer(many=True))
class RulesField(serializers.JSONField):
    """Passed as sent to `governance.policies.validate_rules`, whose errors name the rule (rules[1].op)."""


class PolicyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    rules = RulesField()
    reason = serializers.CharField(**TEXT)
    runbook = serializers.IntegerField(required=False, allow_null=True, help_text="A runbook's id.")


class PolicyRunbookSerializer(serializers.Serializer):
    runbook = serializers.IntegerField(allow_null=True, help_text="A runbook's id, or null for none.")
    reason = serializers.CharField(**TEXT)


class PolicyUpdateSerializer(serializers.Serializer):
    rules = RulesField()
    reason = serializers.CharField(max_length=10_000, help_text="Why the policy changes (required).")
    name = serializers.CharField(max_length=200, required=False)


class PolicyVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)

    class Meta:
        model = PolicyVersion
        fields = ["number", "rules", "reason", "created_by", "created_at"]


class PolicySerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    version = serializers.SerializerMethodField()
    rules = serializers.SerializerMethodField()
    versions = PolicyVersionSerializer(many=True, read_only=True)
    runbook = serializers.SerializerMethodField()

    class Meta:
        model = Policy
        fields = [
            "id",
            "model",
            "name",
            "is_active",
            "runbook",
            "version",
            "rules",
            "versions",
            "created_at",
            "updated_at",
        ]

    def _latest(self, obj: Policy) -> PolicyVersion:
        return next(iter(obj.versions.all()))  # prefetched newest first

    def get_version(self, obj: Policy) -> int:
        return self._latest(obj).number

    def get_rules(self, obj: Policy) -> list[dict[str, Any]]:
        return self._latest(obj).rules

    def get_runbook(self, obj: Policy) -> dict[str, Any] | None:
        return runbook_link(obj.runbook)


class EventSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    policy = serializers.IntegerField(source="policy_id", allow_null=True)
    drill = serializers.IntegerField(source="drill_id", allow_null=True, help_text="Set for a drill's event.")

    class Meta:
        model = DriftEvent
        fields = [
            "id",
            "model",
            "drill",
            "policy",
            "signal",
            "severity",
            "title",
            "status",
            "breach_active",
            "detected_at",
            "last_seen_at",
            "windows",
            "latest_value",
            "threshold",
            "acknowledged_at",
            "closed_at",
        ]


class EventDetailSerializer(EventSerializer):
    policy_version = serializers.IntegerField(source="policy_version.number", default=None)
    analyses = serializers.SerializerMethodField()
    incidents = serializers.SerializerMethodField()
    requests = serializers.SerializerMethodField()
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", default=None)
    closed_by = serializers.CharField(source="closed_by.username", default=None)
    history = serializers.SerializerMethodField()
    runbook = serializers.SerializerMethodField()

    class Meta(EventSerializer.Meta):
        fields = [
            *EventSerializer.Meta.fields,
            "policy_version",
            "suspected_cause",
            "actions_taken",
            "results",
            "snapshot",
            "analyses",
            "incidents",
            "requests",
            "acknowledged_by",
            "closed_by",
            "history",
            "runbook",
        ]

    def get_runbook(self, obj: DriftEvent) -> dict[str, Any] | None:
        return runbook_link(obj.policy.runbook if obj.policy else None)

    def get_analyses(self, obj: DriftEvent) -> list[dict[str, Any]]:
        return [
            {"id": r.pk, "window_start": r.window_start, "window_end": r.window_end}
            for r in sorted(obj.runs.all(), key=lambda r: r.window_end)
        ]

    def get_incidents(self, obj: DriftEvent) -> list[dict[str, Any]]:
        return [{"id": i.pk, "severity": i.severity, "status": i.status} for i in obj.incidents.all()]

    def get_requests(self, obj: DriftEvent) -> list[dict[str, Any]]:
        """Holdout evaluations and retraining requests the event made (retraining: its own API)."""
        held = [
            {"id": r.pk, "kind": r.kind, "status": r.status, "created_at": r.created_at}
            for r in obj.action_requests.all()
        ]
        retrain = [
            {
                "id": r.pk,
                "kind": "retraining",
                "status": r.status,
                "created_at": r.created_at,
                "link": f"/api/v1/retraining-requests/{r.pk}/",
            }
            for r in obj.retraining_requests.all()
        ]
        return sorted(held + retrain, key=lambda r: r["created_at"])

    def get_history(self, obj: DriftEvent) -> list[dict[str, Any]]:
        return AuditEntrySerializer(self.context.get("history", []), many=True).data


class EventTransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=EventStatus.choices)
    note = serializers.CharField(**TEXT)
    suspected_cause = serializers.CharField(**TEXT)
    actions_taken = serializers.CharField(**TEXT)
    results = serializers.CharField(**TEXT)


class ServingDecisionSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=ServingMode.choices)
    reason = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True)
    events = serializers.ListField(child=serializers.DictField())


class ServingModeSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=ServingMode.choices)
    reason = serializers.CharField(max_length=2000, help_text="Required: why the mode changes.")


class ChannelSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug", read_only=True)
    signed = serializers.SerializerMethodField()

    class Meta:
        model = NotificationChannel
        fields = [
            "id",
            "model",
            "name",
            "kind",
            "target",
            "min_severity",
            "is_active",
            "signed",
            "created_at",
        ]

    def get_signed(self, obj: NotificationChannel) -> bool:
        return bool(obj.secret)


class ChannelCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    target = serializers.CharField(max_length=500)
    secret = serializers.CharField(max_length=200, required=False, allow_blank=True, write_only=True)
    min_severity = serializers.ChoiceField(choices=Severity.choices, required=False)


class ChannelUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    target = serializers.CharField(max_length=500, required=False)
    secret = serializers.CharField(max_length=200, required=False, allow_blank=True, write_only=True)
    min_severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class DeliverySerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.name")
    kind = serializers.CharField(source="channel.kind")
    model = serializers.CharField(source="channel.model.slug")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "model",
            "channel",
            "kind",
            "event",
            "incident",
            "topic",
            "status",
            "attempts",
            "last_error",
            "response_code",
            "created_at",
            "sent_at",
        ]


class TimelineEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = TimelineEntry
        fields = ["id", "at", "kind", "text", "actor"]


class IncidentSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    commander = serializers.CharField(source="commander.username", default=None)
    scribe = serializers.CharField(source="scribe.username", default=None)
    sme = serializers.CharField(source="sme.username", default=None)
    events = serializers.SerializerMethodField()
    runbook = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "model",
            "title",
            "severity",
            "status",
            "summary",
            "rollback_plan",
            "runbook",
            "commander",
            "scribe",
            "sme",
            "events",
            "opened_by",
            "opened_at",
            "acknowledged_at",
            "resolved_at",
            "escalation_level",
        ]

    def get_events(self, obj: Incident) -> list[int]:
        return [e.pk for e in obj.events.all()]

    def get_runbook(self, obj: Incident) -> dict[str, Any] | None:
        return runbook_link(obj.runbook)


class IncidentDetailSerializer(IncidentSerializer):
    timeline = TimelineEntrySerializer(many=True, read_only=True)

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "timeline"]


class IncidentCreateSerializer(serializers.Serializer):
    model = serializers.SlugField()
    title = serializers.CharField(max_length=300)
    severity = serializers.ChoiceField(choices=IncidentSeverity.choices)
    summary = serializers.CharField(**TEXT)
    rollback_plan = serializers.CharField(**TEXT)
    events = serializers.ListField(child=serializers.IntegerField(), required=False)
    runbook = serializers.IntegerField(required=False, allow_null=True, help_text="A runbook's id.")


class IncidentUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, required=False)
    summary = serializers.CharField(**TEXT)
    rollback_plan = serializers.CharField(**TEXT)
    commander = serializers.IntegerField(required=False, allow_null=True, help_text="A user id.")
    scribe = serializers.IntegerField(required=False, allow_null=True)
    sme = serializers.IntegerField(required=False, allow_null=True)
    runbook = serializers.IntegerField(required=False, allow_null=True, help_text="A runbook's id.")


class IncidentTransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=IncidentStatus.choices)
    note = serializers.CharField(**TEXT)


class TimelineNoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10_000)


class EscalationStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = EscalationStep
        fields = ["level", "channel", "after_minutes"]
        read_only_fields = ["level"]


class EscalationPathSerializer(serializers.Serializer):
    steps = serializers.ListField(child=serializers.DictField(), allow_empty=True)
