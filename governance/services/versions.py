"""Replacing the production version: promote a version, or roll back to the one before. Audited.

How the serving gate follows: it does not move by itself. The gate's mode stands for events about the
data the model sees, which a new version does not by itself resolve, and nobody has yet watched the new
version serve. The person promoting or rolling back may pass `serving_mode` (with the same reason) to
set the gate in the same transaction, recorded as their own `serving_mode.change`; otherwise the mode
stays as it was. Policies judge each version on its own history, so the new version's persistence
streaks start afresh; open events stay open for a person to close.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from drift.models import ModelVersion, MonitoredModel, Stage, StageChange
from drift.roles import ANALYST, role_at_least, user_role
from drift.services.registry import version_set_stage
from governance.models import RetrainingRequest, RetrainingStatus, TimelineKind
from governance.notifications import Message
from governance.services.audit import Actor, audit_record
from governance.services.gate import MAX_REASON, serving_mode_set
from governance.services.incidents import incident_timeline_auto
from governance.services.notifications import notify
from monitoring_site.errors import ApplicationError


def _production(model: MonitoredModel) -> ModelVersion | None:
    return model.versions.filter(stage=Stage.PRODUCTION).order_by("-created_at", "-id").first()


def _checked(by: Any, reason: str) -> str:
    if not role_at_least(user_role(by), ANALYST):
        raise ApplicationError("Only an analyst or an admin may change the production version.", status=403)
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise ApplicationError(
            "Changing the production version needs a written reason.",
            errors=[{"field": "reason", "message": f"required, at most {MAX_REASON} characters"}],
        )
    return reason


def _replace(
    *,
    model: MonitoredModel,
    new: ModelVersion,
    old: ModelVersion | None,
    action: str,
    by: Any,
    reason: str,
    serving_mode: str | None,
) -> ModelVersion:
    actor = Actor.of(by)
    version_set_stage(
        version=new, stage=Stage.PRODUCTION, changed_by=actor.user, reason=f"{action}: {reason}"
    )
    produced_by = RetrainingRequest.objects.filter(
        result_version=new, status=RetrainingStatus.COMPLETED
    ).first()
    after = {"production": new.version, "retraining_request": getattr(produced_by, "pk", None)}
    entry = audit_record(
        actor=actor,
        action=f"version.{action}",
        obj=new,
        model=model,
        before={"production": old.version if old else None},
        after=after,
        reason=reason,
    )
    verb = "promoted to production" if action == "promote" else "restored to production (rollback)"
    text = f"{model.name}: version {new.version} {verb}" + (f", replacing {old.version}" if old else "")
    text += f", by {actor.name}."
    incident_timeline_auto(model=model, kind=TimelineKind.MITIGATION, text=f"{text} {reason}", actor=actor)
    notify(
        model=model,
        message=Message(
            topic=f"version:{model.pk}:{entry.pk}",
            kind="version",
            title=f"{model.slug}: {new.version} in production",
            text=f"{text}\nReason: {reason}",
            severity="warning",
            model=model.slug,
            status=action,
            dedup_key=f"version-{model.slug}",
            link=f"/api/v1/models/{model.slug}/versions/{new.version}/",
            at=timezone.now().isoformat(),
            details={"from": old.version if old else None, "to": new.version},
        ),
    )
    if serving_mode is not None:
        serving_mode_set(model=model, mode=serving_mode, reason=f"{reason} ({new.version} {verb})", by=by)
    return ModelVersion.objects.get(pk=new.pk)


@transaction.atomic
def version_promote(
    *, version: ModelVersion, by: Any, reason: str, serving_mode: str | None = None
) -> ModelVersion:
    """Make `version` the production version (the current one is archived, on the record)."""
    reason = _checked(by, reason)
    model = MonitoredModel.objects.select_for_update().get(pk=version.model_id)
    version = ModelVersion.objects.get(pk=version.pk)
    old = _production(model)
    if old is not None and old.pk == version.pk:
        raise ApplicationError(f"Version {version.version} is already in production.", status=409)
    return _replace(
        model=model, new=version, old=old, action="promote", by=by, reason=reason, serving_mode=serving_mode
    )


def previous_production(version: ModelVersion) -> ModelVersion | None:
    """The version that was in production most recently before `version` took over."""
    change = (
        StageChange.objects.filter(version__model_id=version.model_id, to_stage=Stage.PRODUCTION)
        .exclude(version=version)
        .select_related("version")
        .order_by("-changed_at", "-id")
        .first()
    )
    return change.version if change else None


@transaction.atomic
def version_rollback(
    *, version: ModelVersion, by: Any, reason: str, serving_mode: str | None = None
) -> ModelVersion:
    """Take `version` (the production one) out of production and put back the one it replaced."""
    reason = _checked(by, reason)
    model = MonitoredModel.objects.select_for_update().get(pk=version.model_id)
    version = ModelVersion.objects.get(pk=version.pk)
    if version.stage != Stage.PRODUCTION:
        raise ApplicationError(
            f"Version {version.version} is not in production ({version.stage}); only the production "
            "version can be rolled back.",
            status=409,
        )
    target = previous_production(version)
    if target is None:
        raise ApplicationError(
            f"Version {version.version} replaced no earlier production version: nothing to roll back to.",
            status=409,
        )
    return _replace(
        model=model,
        new=target,
        old=version,
        action="rollback",
        by=by,
        reason=reason,
        serving_mode=serving_mode,
    )


@transaction.atomic
def version_stage_change(*, version: ModelVersion, stage: str, by: Any, reason: str = "") -> ModelVersion:
    """Move a version to another stage, on the record. Production goes through `version_promote` (a
    written reason, the old version archived, people told); the other stages keep the stage history and
    add an audit entry. Setting the stage a version already has changes nothing."""
    current = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if current.stage == stage:
        return current
    if stage == Stage.PRODUCTION:
        return version_promote(version=current, by=by, reason=reason)
    actor = Actor.of(by)
    moved = version_set_stage(version=current, stage=stage, changed_by=actor.user, reason=reason)
    audit_record(
        actor=actor,
        action="version.stage",
        obj=moved,
        model=moved.model,
        before={"stage": current.stage},
        after={"stage": moved.stage},
        reason=reason,
    )
    return moved
