"""Governance in the admin: read-only. Every change goes through a service, which writes its audit
entry; an admin form would bypass both, so the API is the way to change these records."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from governance.models import (
    ActionItem,
    ActionRequest,
    Annotation,
    AuditEntry,
    Delivery,
    DriftEvent,
    Drill,
    EscalationStep,
    ImprovementTask,
    Incident,
    NotificationChannel,
    Policy,
    PolicyVersion,
    Postmortem,
    RetrainingPipeline,
    RetrainingRequest,
    RuleEvaluation,
    Runbook,
    RunbookVersion,
    ServingState,
    TimelineEntry,
)


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    pass


class ReadOnlyInline(ReadOnly, admin.TabularInline):
    extra = 0


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id", "model"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor", "action", "object_id", "reason"]
    date_hierarchy = "at"
    list_select_related = ["model"]


class PolicyVersionInline(ReadOnlyInline):
    model = PolicyVersion
    fields = ["number", "rules", "reason", "created_by", "created_at"]
    readonly_fields = fields


@admin.register(Policy)
class PolicyAdmin(ReadOnlyAdmin):
    list_display = ["name", "model", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "model__slug"]
    inlines = [PolicyVersionInline]


@admin.register(RuleEvaluation)
class RuleEvaluationAdmin(ReadOnlyAdmin):
    list_display = ["policy", "rule_index", "run", "breached", "fired", "value", "threshold", "acted"]
    list_filter = ["breached", "fired"]


@admin.register(DriftEvent)
class DriftEventAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "title",
        "model",
        "severity",
        "status",
        "breach_active",
        "windows",
        "detected_at",
        "drill",
    ]
    list_filter = ["status", "severity", "breach_active"]
    search_fields = ["title", "signal", "model__slug"]
    list_select_related = ["model"]


@admin.register(ServingState)
class ServingStateAdmin(ReadOnlyAdmin):
    list_display = ["model", "mode", "since", "changed_by_actor"]
    list_filter = ["mode"]


@admin.register(NotificationChannel)
class NotificationChannelAdmin(ReadOnlyAdmin):
    list_display = ["name", "model", "kind", "min_severity", "is_active"]
    list_filter = ["kind", "is_active"]
    exclude = ["secret"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["topic", "channel", "status", "attempts", "response_code", "created_at", "sent_at"]
    list_filter = ["status", "channel__kind"]
    search_fields = ["topic", "last_error"]
    list_select_related = ["channel"]


class TimelineInline(ReadOnlyInline):
    model = TimelineEntry
    fields = ["at", "kind", "text", "actor"]
    readonly_fields = fields


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "model", "severity", "status", "commander", "opened_at"]
    list_filter = ["status", "severity"]
    inlines = [TimelineInline]


@admin.register(EscalationStep)
class EscalationStepAdmin(ReadOnlyAdmin):
    list_display = ["model", "level", "channel", "after_minutes"]


@admin.register(ActionRequest)
class ActionRequestAdmin(ReadOnlyAdmin):
    list_display = ["kind", "model", "status", "requested_by", "event", "created_at"]
    list_filter = ["kind", "status"]


class RunbookVersionInline(ReadOnlyInline):
    model = RunbookVersion
    fields = ["number", "title", "reason", "created_by", "created_at"]
    readonly_fields = fields


@admin.register(Runbook)
class RunbookAdmin(ReadOnlyAdmin):
    list_display = ["slug", "model", "is_active", "updated_at"]
    list_filter = ["is_active"]
    inlines = [RunbookVersionInline]


class ActionItemInline(ReadOnlyInline):
    model = ActionItem
    fields = ["title", "owner", "due_date", "status", "done_at"]
    readonly_fields = fields


@admin.register(Postmortem)
class PostmortemAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "incident", "status", "created_at", "published_at"]
    list_filter = ["status"]
    inlines = [ActionItemInline]


@admin.register(RetrainingRequest)
class RetrainingRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "model", "status", "requested_by", "event", "call_status", "created_at"]
    list_filter = ["status", "call_status"]


@admin.register(RetrainingPipeline)
class RetrainingPipelineAdmin(ReadOnlyAdmin):
    list_display = ["model", "is_active", "updated_at"]
    exclude = ["secret", "url"]  # credentials: the API shows the URL masked


@admin.register(Drill)
class DrillAdmin(ReadOnlyAdmin):
    list_display = ["id", "model", "scenario", "magnitude", "status", "gate_mode", "started_at", "ended_at"]
    list_filter = ["status", "scenario"]


@admin.register(Annotation)
class AnnotationAdmin(ReadOnlyAdmin):
    list_display = ["id", "model", "target", "category", "status", "created_by", "created_at"]
    list_filter = ["status", "category", "target"]


@admin.register(ImprovementTask)
class ImprovementTaskAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "model", "status", "event", "retraining_request", "created_at"]
    list_filter = ["status"]
