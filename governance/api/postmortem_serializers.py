"""Shapes of the postmortem API."""

from rest_framework import serializers

from governance.models import ActionItem, ActionItemStatus, Postmortem, PostmortemStatus

TEXT = {"required": False, "allow_blank": True, "max_length": 20_000}


class ActionItemSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", default=None)
    owner_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "postmortem",
            "title",
            "owner",
            "owner_id",
            "due_date",
            "status",
            "created_at",
            "done_at",
        ]


class PostmortemSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="incident.model.slug")
    created_by = serializers.CharField(source="created_by.username", default=None)
    published_by = serializers.CharField(source="published_by.username", default=None)

    class Meta:
        model = Postmortem
        fields = [
            "id",
            "incident",
            "model",
            "status",
            "title",
            "created_by",
            "created_at",
            "updated_at",
            "published_at",
            "published_by",
        ]


class PostmortemDetailSerializer(PostmortemSerializer):
    action_items = ActionItemSerializer(many=True, read_only=True)

    class Meta(PostmortemSerializer.Meta):
        fields = [
            *PostmortemSerializer.Meta.fields,
            "summary",
            "impact_notes",
            "trigger",
            "root_cause",
            "detection",
            "resolution",
            "mitigation",
            "went_well",
            "went_badly",
            "lucky",
            "facts",
            "facts_at",
            "action_items",
        ]


class PostmortemCreateSerializer(serializers.Serializer):
    incident = serializers.IntegerField()
    title = serializers.CharField(required=False, allow_blank=True, max_length=300)


class PostmortemUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, max_length=300)
    summary = serializers.CharField(**TEXT)
    impact_notes = serializers.CharField(**TEXT)
    trigger = serializers.CharField(**TEXT)
    root_cause = serializers.CharField(**TEXT)
    detection = serializers.CharField(**TEXT)
    resolution = serializers.CharField(**TEXT)
    mitigation = serializers.CharField(**TEXT)
    went_well = serializers.CharField(**TEXT)
    went_badly = serializers.CharField(**TEXT)
    lucky = serializers.CharField(**TEXT)


class PostmortemTransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=PostmortemStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ActionItemCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    owner = serializers.IntegerField(required=False, allow_null=True, help_text="A user id.")
    due_date = serializers.DateField(required=False, allow_null=True)


class ActionItemUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, max_length=300)
    owner = serializers.IntegerField(required=False, allow_null=True, help_text="A user id.")
    due_date = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=ActionItemStatus.choices, required=False)
