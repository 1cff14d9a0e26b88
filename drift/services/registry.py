"""Writes to the model registry: models, versions with their schema, stage changes."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from drift.models import FeatureSpec, ModelVersion, MonitoredModel, Stage, StageChange, Task
from monitoring_site.errors import ApplicationError

BUSINESS_VALUE_FIELDS = {"tp": "value_tp", "fp": "value_fp", "tn": "value_tn", "fn": "value_fn"}


def _full_clean(instance: Any, prefix: str = "") -> None:
    try:
        instance.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors = [
            {"field": f"{prefix}{name}" if name != "__all__" else prefix.rstrip(".") or None, "message": msg}
            for name, messages in exc.message_dict.items()
            for msg in messages
        ]
        raise ApplicationError("Invalid input. " + errors[0]["message"], errors=errors) from exc


def _apply_business(model: MonitoredModel, business: dict[str, Any] | None) -> None:
    if not business:
        return
    if "kpi" in business:
        model.business_kpi = business["kpi"] or ""
    if "currency" in business:
        model.currency = business["currency"]
    for key, attr in BUSINESS_VALUE_FIELDS.items():
        if key in (business.get("value") or {}):
            setattr(model, attr, business["value"][key])
    if "cost_per_unit_error" in business:
        model.cost_per_unit_error = business["cost_per_unit_error"]


@transaction.atomic
def model_create(
    *,
    slug: str,
    name: str,
    task: str,
    description: str = "",
    owner: str = "",
    positive_label: str = "",
    business: dict[str, Any] | None = None,
) -> MonitoredModel:
    if MonitoredModel.objects.filter(slug=slug).exists():
        raise ApplicationError(
            f"A model with slug '{slug}' already exists.",
            errors=[{"field": "slug", "message": "already taken"}],
            status=409,
        )
    model = MonitoredModel(
        slug=slug, name=name, task=task, description=description, owner=owner, positive_label=positive_label
    )
    _apply_business(model, business)
    _full_clean(model)
    try:
        model.save()
    except IntegrityError as exc:  # a concurrent create with the same slug
        raise ApplicationError(f"A model with slug '{slug}' already exists.", status=409) from exc
    return model


@transaction.atomic
def model_update(*, model: MonitoredModel, **changes: Any) -> MonitoredModel:
    business = changes.pop("business", None)
    for attr in ("name", "description", "owner", "positive_label"):
        if attr in changes:
            setattr(model, attr, changes[attr])
    _apply_business(model, business)
    _full_clean(model)
    model.save()
    return model


def _check_schema(features: list[dict[str, Any]], task: str) -> list[FeatureSpec]:
    if not features:
        raise ApplicationError(
            "A version needs a schema with at least one feature.",
            errors=[{"field": "schema.features", "message": "must not be empty"}],
        )
    seen: set[str] = set()
    specs = []
    for position, feature in enumerate(features):
        prefix = f"schema.features[{position}]."
        name = feature["name"]
        if name in seen:
            raise ApplicationError(
                f"Feature '{name}' is declared twice.",
                errors=[{"field": f"{prefix}name", "message": "duplicate"}],
            )
        seen.add(name)
        if feature.get("pii") == "hash" and feature.get("type") != "categorical":
            raise ApplicationError(
                f"Feature '{name}': only categorical features can be hashed (a hash keeps equality only).",
                errors=[{"field": f"{prefix}pii", "message": "hash is only for categorical features"}],
            )
        spec = FeatureSpec(
            position=position,
            name=name,
            type=feature["type"],
            role=feature.get("role", "input"),
            pii=feature.get("pii", "keep"),
            nullable=feature.get("nullable", True),
            min_value=feature.get("min"),
            max_value=feature.get("max"),
            categories=[str(c) for c in feature.get("categories") or []],
            source=feature.get("source", ""),
            transformation=feature.get("transformation", ""),
            description=feature.get("description", ""),
        )
        _full_clean_spec(spec, prefix)
        specs.append(spec)
    return specs


def _full_clean_spec(spec: FeatureSpec, prefix: str) -> None:
    try:
        spec.clean()
        spec.clean_fields(exclude=["version"])
    except ValidationError as exc:
        errors = [
            {"field": f"{prefix}{name}", "message": msg}
            for name, messages in exc.message_dict.items()
            for msg in messages
        ]
        raise ApplicationError(
            f"Invalid feature '{spec.name}'. " + errors[0]["message"], errors=errors
        ) from exc


@transaction.atomic
def version_create(
    *,
    model: MonitoredModel,
    version: str,
    features: list[dict[str, Any]],
    stage: str = Stage.SHADOW,
    training_data: dict[str, str] | None = None,
    code_version: str = "",
    feature_set_version: str = "",
    created_by: Any = None,
) -> ModelVersion:
    """Register a version with its feature schema. A schema never changes: a new schema is a new version."""
    if ModelVersion.objects.filter(model=model, version=version).exists():
        raise ApplicationError(
            f"Model '{model.slug}' already has a version '{version}'.",
            errors=[{"field": "version", "message": "already exists"}],
            status=409,
        )
    specs = _check_schema(features, model.task)
    user = created_by if getattr(created_by, "pk", None) else None
    mv = ModelVersion(
        model=model,
        version=version,
        stage=stage,
        training_data_uri=(training_data or {}).get("uri", ""),
        training_data_digest=(training_data or {}).get("digest", ""),
        code_version=code_version,
        feature_set_version=feature_set_version,
        created_by=user,
    )
    _full_clean(mv)
    try:
        with transaction.atomic():
            mv.save()
    except IntegrityError as exc:  # a concurrent request registered the same version
        raise ApplicationError(
            f"Model '{model.slug}' already has a version '{version}'.",
            errors=[{"field": "version", "message": "already exists"}],
            status=409,
        ) from exc
    for spec in specs:
        spec.version = mv
    FeatureSpec.objects.bulk_create(specs)
    StageChange.objects.create(
        version=mv, from_stage="", to_stage=stage, changed_by=user, reason="registered"
    )
    if stage == Stage.PRODUCTION:
        _archive_other_production(mv, user)
    return mv


def _archive_other_production(mv: ModelVersion, user: Any) -> None:
    """One production version per model: the previous one moves to archived, on the record."""
    for other in (
        ModelVersion.objects.select_for_update()
        .filter(model=mv.model, stage=Stage.PRODUCTION)
        .exclude(pk=mv.pk)
    ):
        StageChange.objects.create(
            version=other,
            from_stage=other.stage,
            to_stage=Stage.ARCHIVED,
            changed_by=user,
            reason=f"replaced by {mv.version}",
        )
        other.stage = Stage.ARCHIVED
        other.save(update_fields=["stage"])


@transaction.atomic
def version_set_stage(
    *, version: ModelVersion, stage: str, changed_by: Any = None, reason: str = ""
) -> ModelVersion:
    if stage not in Stage.values:
        raise ApplicationError(
            f"Unknown stage '{stage}'.",
            errors=[{"field": "stage", "message": f"one of {', '.join(Stage.values)}"}],
        )
    locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if locked.stage == stage:
        return locked
    user = changed_by if getattr(changed_by, "pk", None) else None
    StageChange.objects.create(
        version=locked, from_stage=locked.stage, to_stage=stage, changed_by=user, reason=reason
    )
    locked.stage = stage
    locked.save(update_fields=["stage"])
    if stage == Stage.PRODUCTION:
        _archive_other_production(locked, user)
    return locked


__all__ = ["Task", "model_create", "model_update", "version_create", "version_set_stage"]
