from django.contrib import admin, messages
from django.http import HttpRequest

from drift.models import (
    AnalysisRun,
    Experiment,
    ExperimentArm,
    ExperimentDecision,
    FeatureSpec,
    HealthSample,
    IngestionBatch,
    IntegrationKey,
    ModelVersion,
    MonitoredModel,
    Outcome,
    PredictionLog,
    ProfileFragment,
    ReferenceDataset,
    ReferenceRow,
    StageChange,
)
from drift.services.keys import integration_key_create


class ModelVersionInline(admin.TabularInline):
    model = ModelVersion
    fields = ["version", "stage", "code_version", "created_at"]
    readonly_fields = ["created_at"]
    extra = 0
    show_change_link = True


@admin.register(MonitoredModel)
class MonitoredModelAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "task", "owner", "currency", "created_at"]
    list_filter = ["task"]
    search_fields = ["slug", "name", "owner", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ModelVersionInline]
    fieldsets = [
        (None, {"fields": ["slug", "name", "task", "description", "owner", "positive_label"]}),
        (
            "Business value",
            {
                "fields": [
                    "business_kpi",
                    "currency",
                    "value_tp",
                    "value_fp",
                    "value_tn",
                    "value_fn",
                    "cost_per_unit_error",
                ]
            },
        ),
        ("Analysis", {"fields": ["analysis_window", "analysis_enabled", "fairness_four_fifths"]}),
    ]


class FeatureSpecInline(admin.TabularInline):
    model = FeatureSpec
    fields = [
        "position",
        "name",
        "type",
        "role",
        "pii",
        "nullable",
        "min_value",
        "max_value",
        "categories",
        "source",
    ]
    extra = 0


class StageChangeInline(admin.TabularInline):
    model = StageChange
    fields = ["from_stage", "to_stage", "changed_by", "reason", "changed_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "model",
        "version",
        "stage",
        "code_version",
        "feature_set_version",
        "created_at",
    ]
    list_filter = ["stage", "model"]
    search_fields = ["version", "model__slug", "code_version", "training_data_uri"]
    list_select_related = ["model"]
    readonly_fields = ["created_at", "created_by"]
    inlines = [FeatureSpecInline, StageChangeInline]


@admin.register(FeatureSpec)
class FeatureSpecAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "type", "role", "pii", "nullable", "min_value", "max_value"]
    list_filter = ["type", "role", "pii", "version__model"]
    search_fields = ["name", "source", "transformation", "description"]
    list_select_related = ["version__model"]


@admin.register(PredictionLog)
class PredictionLogAdmin(admin.ModelAdmin):
    list_display = [
        "record_id",
        "model",
        "version",
        "timestamp",
        "prediction",
        "score",
        "latency_ms",
        "status",
        "is_late",
    ]
    list_filter = ["status", "is_late", "model", "version"]
    search_fields = ["record_id"]
    date_hierarchy = "timestamp"
    list_select_related = ["model", "version"]
    # Counting millions of rows for the paginator would make the page unusable.
    show_full_result_count = False
    raw_id_fields = ["model", "version"]


@admin.register(Outcome)
class OutcomeAdmin(admin.ModelAdmin):
    list_display = ["prediction", "model", "label", "observed_at", "received_at"]
    list_filter = ["model"]
    search_fields = ["prediction__record_id"]
    raw_id_fields = ["prediction", "model"]
    show_full_result_count = False


@admin.register(HealthSample)
class HealthSampleAdmin(admin.ModelAdmin):
    list_display = ["model", "timestamp", "queue_depth", "request_count", "error_count", "cpu", "memory"]
    list_filter = ["model"]
    date_hierarchy = "timestamp"


@admin.register(ReferenceDataset)
class ReferenceDatasetAdmin(admin.ModelAdmin):
    list_display = ["version", "row_count", "source", "has_scores", "has_labels", "uploaded_by", "created_at"]
    list_filter = ["source", "version__model"]
    readonly_fields = ["digest", "created_at"]


@admin.register(IngestionBatch)
class IngestionBatchAdmin(admin.ModelAdmin):
    list_display = [
        "model",
        "kind",
        "received_at",
        "submitted_by",
        "accepted",
        "duplicates",
        "rejected",
        "flagged",
        "late",
        "partial",
    ]
    list_filter = ["kind", "partial", "model"]
    search_fields = ["submitted_by"]
    date_hierarchy = "received_at"


@admin.register(IntegrationKey)
class IntegrationKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "model", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["model"]
    search_fields = ["name", "prefix"]
    fields = ["model", "name", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: IntegrationKey, form: object, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key, plain = integration_key_create(model=obj.model, name=obj.name, created_by=request.user)
        obj.pk = key.pk
        obj.key_hash, obj.prefix = key.key_hash, key.prefix
        messages.warning(
            request, f"Integration key for {obj.model.slug}: {plain} — copy it now; it is not shown again."
        )

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: object) -> None:
        from django.utils import timezone

        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())  # type: ignore[attr-defined]
        messages.info(request, f"Revoked {count} key(s).")


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    list_display = ["version", "from_stage", "to_stage", "changed_by", "changed_at", "reason"]
    list_filter = ["to_stage", "version__model"]
    search_fields = ["version__version", "version__model__slug", "reason"]
    list_select_related = ["version__model", "changed_by"]
    date_hierarchy = "changed_at"

    # Stage history is a record: it is written by the registry service, never edited by hand.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ReferenceRow)
class ReferenceRowAdmin(admin.ModelAdmin):
    list_display = ["id", "dataset", "prediction", "score", "label"]
    list_filter = ["dataset__version__model"]
    raw_id_fields = ["dataset"]
    show_full_result_count = False


@admin.register(ProfileFragment)
class ProfileFragmentAdmin(admin.ModelAdmin):
    list_display = ["version", "hour", "rows", "spec_digest", "created_at"]
    list_filter = ["version__model"]
    date_hierarchy = "hour"
    list_select_related = ["version__model"]
    raw_id_fields = ["version"]
    show_full_result_count = False


@admin.register(AnalysisRun)
class AnalysisRunAdmin(admin.ModelAdmin):
    list_display = ["id", "version", "kind", "window_start", "window_end", "status", "trigger", "finished_at"]
    list_filter = ["status", "kind", "trigger"]
    search_fields = ["model__slug", "version__version", "narrative"]
    # Runs are written by the analysis service only; the admin shows them.
    readonly_fields = [f.name for f in AnalysisRun._meta.fields]


class ExperimentArmInline(admin.TabularInline):
    model = ExperimentArm
    fields = ["version", "is_control", "planned_share", "position"]
    extra = 0


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "model",
        "status",
        "mode",
        "primary_metric",
        "started_at",
        "ends_at",
        "stop_reason",
    ]
    list_filter = ["status", "mode", "primary_metric", "model"]
    search_fields = ["name", "hypothesis", "model__slug"]
    list_select_related = ["model"]
    inlines = [ExperimentArmInline]
    # Locked criteria, looks and decisions are written by the experiment services (audited).
    readonly_fields = [
        "criteria",
        "allocation",
        "allocation_history",
        "started_at",
        "stopped_at",
        "stop_reason",
        "stop_note",
        "last_evaluated_at",
        "created_by",
        "created_at",
    ]


@admin.register(ExperimentDecision)
class ExperimentDecisionAdmin(admin.ModelAdmin):
    list_display = ["experiment", "decision", "version", "decided_by", "at"]
    list_filter = ["decision"]
    search_fields = ["experiment__name", "reason"]
    readonly_fields = [f.name for f in ExperimentDecision._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
