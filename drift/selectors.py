"""Reads: permission-scoped lookups shared by the API, pages, tasks and commands."""

from typing import Any

from django.db import connection
from django.db.models import QuerySet

from drift.models import FeatureSpec, ModelVersion, MonitoredModel, PredictionLog
from drift.roles import user_role
from drift.validation import FeatureRule, Schema, parse_timestamp
from monitoring_site.auth import is_integration
from monitoring_site.errors import ApplicationError, NotFound

MAX_VERSION_LENGTH = ModelVersion._meta.get_field("version").max_length


def models_visible_to(principal: Any) -> QuerySet[MonitoredModel]:
    """Every model for people with a role; only its own model for an integration key."""
    qs = MonitoredModel.objects.all()
    if is_integration(principal):
        return qs.filter(pk=principal.model_id)
    if user_role(principal) is None:
        return qs.none()
    return qs


def model_for(principal: Any, slug: str) -> MonitoredModel:
    """The model named by `slug`, or 404; 403 when an integration key belongs to another model."""
    model = MonitoredModel.objects.filter(slug=slug).first()
    if model is None:
        raise NotFound(f"No model with slug '{slug}'.", field="slug")
    if is_integration(principal) and principal.model_id != model.pk:
        raise ApplicationError(
            f"This integration key belongs to another model and cannot be used for '{slug}'.", status=403
        )
    return model


def version_for(model: MonitoredModel, version: str, *, status: int = 404) -> ModelVersion:
    """The model's version named `version`; `status` is 404 when it came from the path, 400 from a body."""
    # Names that cannot be stored are not looked up (PostgreSQL refuses text with NUL in a query).
    plausible = len(version) <= MAX_VERSION_LENGTH and "\x00" not in version
    found = ModelVersion.objects.filter(model=model, version=version).first() if plausible else None
    if found is None:
        shown = version if plausible else version[:MAX_VERSION_LENGTH].replace("\x00", "") + "…"
        known = list(model.versions.order_by("-created_at").values_list("version", flat=True)[:10])
        hint = f" Known versions: {', '.join(known)}." if known else " The model has no versions yet."
        raise ApplicationError(
            f"Model '{model.slug}' has no version '{shown}'.{hint}",
            errors=[{"field": "version", "message": f"unknown version '{shown}'"}],
            status=status,
        )
    return found


def schema_for(version: ModelVersion) -> Schema:
    specs = FeatureSpec.objects.filter(version=version).order_by("position")
    return Schema(
        tuple(
            FeatureRule(
                name=s.name,
                type=s.type,
                pii=s.pii,
                nullable=s.nullable,
                min_value=s.min_value,
                max_value=s.max_value,
                categories=frozenset(str(c) for c in s.categories) if s.categories else None,
            )
            for s in specs
        )
    )


def prediction_of_record(model: MonitoredModel, record_id: str) -> QuerySet[PredictionLog]:
    """The model's prediction sent with the client's `record_id` (an empty queryset when none).

    On PostgreSQL through the key table (migration 0007), which names the row's id and time: a filter
    on record_id alone would read every partition's rows of the model."""
    qs = PredictionLog.objects.filter(model=model)
    if connection.vendor != "postgresql":
        return qs.filter(record_id=record_id)
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT prediction_id, "timestamp" FROM drift_predictionkey '
            "WHERE model_id = %s AND record_id = %s",
            [model.pk, record_id],
        )
        found = cursor.fetchone()
    return qs.filter(pk=found[0], timestamp=found[1]) if found else qs.none()


def predictions_of(
    model: MonitoredModel, *, version: str | None = None, start: str | None = None, end: str | None = None
) -> QuerySet[PredictionLog]:
    """The model's predictions (not a drill's), newest first; `start` (inclusive) and `end` (exclusive)
    are ISO 8601."""
    qs = (
        PredictionLog.objects.filter(model=model, is_drill=False)
        .select_related("version")
        .order_by("-timestamp", "-id")
    )
    if version:
        qs = qs.filter(version=version_for(model, version, status=400))
    for name, text, lookup in (("start", start, "timestamp__gte"), ("end", end, "timestamp__lt")):
        if text:
            when = parse_timestamp(text)
            if when is None:
                raise ApplicationError(
                    f"'{name}' is not an ISO 8601 time.",
                    errors=[{"field": name, "message": "not an ISO 8601 time"}],
                )
            qs = qs.filter(**{lookup: when})
    return qs
