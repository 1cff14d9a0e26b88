"""Shapes of the runbook API. Bodies are Markdown; answers carry it rendered (`html`, safe)."""

from typing import Any

from rest_framework import serializers

from governance.markdown import render_markdown
from governance.models import Runbook, RunbookVersion


class RunbookVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)
    html = serializers.SerializerMethodField(help_text="The body rendered as safe HTML.")

    class Meta:
        model = RunbookVersion
        fields = ["number", "title", "body", "html", "reason", "created_by", "created_at"]

    def get_html(self, obj: RunbookVersion) -> str:
        return render_markdown(obj.body)


class RunbookVersionSummarySerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)

    class Meta:
        model = RunbookVersion
        fields = ["number", "title", "reason", "created_by", "created_at"]


class RunbookSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug", default=None)
    version = serializers.SerializerMethodField()
    title = serializers.SerializerMethodField()

    class Meta:
        model = Runbook
        fields = ["id", "slug", "model", "title", "version", "is_active", "created_at", "updated_at"]

    def _latest(self, obj: Runbook) -> RunbookVersion:
        return next(iter(obj.versions.all()))  # prefetched newest first

    def get_version(self, obj: Runbook) -> int:
        return self._latest(obj).number

    def get_title(self, obj: Runbook) -> str:
        return self._latest(obj).title


class RunbookDetailSerializer(RunbookSerializer):
    body = serializers.SerializerMethodField()
    html = serializers.SerializerMethodField(help_text="The current body rendered as safe HTML.")
    versions = RunbookVersionSummarySerializer(many=True, read_only=True)

    class Meta(RunbookSerializer.Meta):
        fields = [*RunbookSerializer.Meta.fields, "body", "html", "versions"]

    def get_body(self, obj: Runbook) -> str:
        return self._latest(obj).body

    def get_html(self, obj: Runbook) -> str:
        return render_markdown(self._latest(obj).body)


class RunbookCreateSerializer(serializers.Serializer):
    slug = serializers.RegexField(r"^[a-z0-9][a-z0-9-]*$", max_length=80)
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=100_000)
    model = serializers.SlugField(required=False, allow_null=True, help_text="Empty: shared by every model.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RunbookUpdateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=100_000)
    reason = serializers.CharField(max_length=2000, help_text="Why it changes (required).")
    title = serializers.CharField(max_length=200, required=False)


def runbook_link(runbook: Runbook | None) -> dict[str, Any] | None:
    """How policies, incidents and events name their runbook."""
    if runbook is None:
        return None
    return {"id": runbook.pk, "slug": runbook.slug, "link": f"/api/v1/runbooks/{runbook.pk}/"}
