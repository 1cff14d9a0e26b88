"""Experiment lifecycle: draft -> running -> stopped -> concluded (or back to running when extended).

Every write runs in one transaction with its audit entry. The definition (metric, effect size, alpha,
duration, guardrails, allocation) is editable only as a draft; `experiment_start` copies it into
`criteria` with the planned sample size and the tuned mixture precision, and nothing changes it
afterwards. Evaluation and the stopping rules live in `drift.services.experiment_evaluation`.
A decision to promote goes through governance's `version_promote`, so it is gated (analysts and admins
only), audited as any promotion is, and announced on the model's channels.
"""

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from drift.models import (
    Decision,
    Experiment,
    ExperimentDecision,
    ExperimentStatus,
    Stage,
    StopReason,
)
from drift.services.experiment_definition import (
    ExperimentSpec,
    arms_replace,
    baseline_moments,
    criteria_for,
    spec_check,
    view,
)
from drift.services.registry import version_set_stage
from governance.services.audit import Actor, audit_record
from monitoring_site.errors import ApplicationError

MAX_REASON = 2000


def _locked(experiment: Experiment) -> Experiment:
    return Experiment.objects.select_for_update().select_related("model").get(pk=experiment.pk)


def _require(experiment: Experiment, *statuses: str, doing: str) -> None:
    if experiment.status not in statuses:
        label = ExperimentStatus(experiment.status).label.lower()
        raise ApplicationError(
            f"Cannot {doing} an experiment that is {label}.",
            errors=[{"field": "status", "message": f"is {experiment.status}"}],
        )


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("A reason is required.", errors=[{"field": "reason", "message": "required"}])
    return reason[:MAX_REASON]


def set_allocation(experiment: Experiment, shares: dict[str, float]) -> None:
    """Route by `shares` from now on, and remember when it changed (SRM and the allocation chart)."""
    if shares == experiment.allocation and experiment.allocation_history:
        return
    experiment.allocation = shares
    experiment.allocation_history = [
        *experiment.allocation_history,
        {"from": timezone.now().isoformat(), "shares": shares},
    ]


def _move_stage(version: Any, stage: str, actor: Actor, reason: str, experiment: Experiment) -> None:
    before = version.stage
    if before == stage:
        return
    version_set_stage(version=version, stage=stage, changed_by=actor.user, reason=reason)
    audit_record(
        actor=actor,
        action="model_version.stage_change",
        obj=version,
        model=experiment.model,
        before={"stage": before},
        after={"stage": stage, "experiment": experiment.pk},
        reason=reason,
    )


@transaction.atomic
def experiment_create(*, spec: ExperimentSpec, actor: Actor) -> Experiment:
    arms, guardrails = spec_check(spec)
    experiment = Experiment.objects.create(
        model=spec.model,
        name=spec.name,
        hypothesis=spec.hypothesis,
        mode=spec.mode,
        primary_metric=spec.primary_metric,
        minimum_detectable_effect=spec.minimum_detectable_effect,
        alpha=spec.alpha,
        planned_days=spec.planned_days,
        guardrails=guardrails,
        bandit_floor=spec.bandit_floor,
        created_by=actor.user,
    )
    arms_replace(experiment, arms)
    audit_record(
        actor=actor, action="experiment.create", obj=experiment, model=spec.model, after=view(experiment)
    )
    return experiment


@transaction.atomic
def experiment_update(*, experiment: Experiment, spec: ExperimentSpec, actor: Actor) -> Experiment:
    """Replace a draft's definition. Once started, the definition is locked (400)."""
    experiment = _locked(experiment)
    if experiment.status != ExperimentStatus.DRAFT:
        raise ApplicationError(
            "The experiment has started: its success criteria and stopping rules are locked.",
            errors=[{"field": "status", "message": f"is {experiment.status}; only drafts can be edited"}],
        )
    arms, guardrails = spec_check(spec)
    before = view(experiment)
    for attr in (
        "name",
        "hypothesis",
        "mode",
        "primary_metric",
        "minimum_detectable_effect",
        "alpha",
        "planned_days",
        "bandit_floor",
    ):
        setattr(experiment, attr, getattr(spec, attr))
    experiment.guardrails = guardrails
    experiment.save()
    arms_replace(experiment, arms)
    audit_record(
        actor=actor,
        action="experiment.update",
        obj=experiment,
        model=experiment.model,
        before=before,
        after=view(experiment),
    )
    return experiment


@transaction.atomic
def experiment_delete(*, experiment: Experiment, actor: Actor) -> None:
    experiment = _locked(experiment)
    _require(experiment, ExperimentStatus.DRAFT, doing="delete")
    audit_record(
        actor=actor,
        action="experiment.delete",
        obj=experiment,
        model=experiment.model,
        before=view(experiment),
    )
    experiment.delete()


@transaction.atomic
def experiment_start(*, experiment: Experiment, actor: Actor) -> Experiment:
    """Lock the criteria, route traffic to the arms and put shadow challengers in canary."""
    experiment = _locked(experiment)
    _require(experiment, ExperimentStatus.DRAFT, doing="start")
    now = timezone.now()
    arms = list(experiment.arms.select_related("version").order_by("position"))
    experiment.criteria = criteria_for(experiment, arms, baseline_moments(experiment, arms[0].version, now))
    experiment.status = ExperimentStatus.RUNNING
    experiment.started_at, experiment.ends_at = now, now + timedelta(days=experiment.planned_days)
    set_allocation(experiment, {a["version"]: a["planned_share"] for a in experiment.criteria["arms"]})
    try:
        with transaction.atomic():
            experiment.save()
    except IntegrityError as exc:
        raise ApplicationError(
            f"Model '{experiment.model.slug}' already has a running experiment; stop it first.", status=409
        ) from exc
    for arm in arms[1:]:
        if arm.version.stage == Stage.SHADOW:
            _move_stage(
                arm.version, Stage.CANARY, actor, f"challenger in experiment {experiment.pk}", experiment
            )
    audit_record(
        actor=actor,
        action="experiment.start",
        obj=experiment,
        model=experiment.model,
        before={"status": ExperimentStatus.DRAFT},
        after={"status": experiment.status, "criteria": experiment.criteria},
    )
    return experiment


def stop_locked(
    experiment: Experiment, *, reason: str, note: str, actor: Actor, evidence: Any = None
) -> None:
    """Stop a locked, running experiment: all traffic back to the control until someone decides."""
    experiment.status = ExperimentStatus.STOPPED
    experiment.stopped_at = timezone.now()
    experiment.stop_reason, experiment.stop_note = reason, note
    control = experiment.criteria["arms"][0]["version"]
    set_allocation(
        experiment, {a["version"]: float(a["version"] == control) for a in experiment.criteria["arms"]}
    )
    experiment.save()
    audit_record(
        actor=actor,
        action="experiment.stop",
        obj=experiment,
        model=experiment.model,
        before={"status": ExperimentStatus.RUNNING},
        after={"status": experiment.status, "stop_reason": reason, "evidence": evidence},
        reason=note,
    )


@transaction.atomic
def experiment_stop(*, experiment: Experiment, reason: str, actor: Actor) -> Experiment:
    """A person stops a running experiment, with a reason."""
    experiment = _locked(experiment)
    _require(experiment, ExperimentStatus.RUNNING, doing="stop")
    latest = experiment.looks.order_by("-number").values_list("results", flat=True).first()
    stop_locked(experiment, reason=StopReason.MANUAL, note=_reason(reason), actor=actor, evidence=latest)
    return experiment


def _promote(experiment: Experiment, winner: Any, others: list[Any], actor: Actor, reason: str) -> None:
    """Promotion is governance's: `version_promote` checks the decider's role, archives the replaced
    version, audits it as `version.promote`, notes it on open incidents and notifies the model's
    channels. Imported here, not at the top: governance's services import drift's."""
    from governance.services.versions import version_promote

    if actor.user is None:
        raise ApplicationError("Only a person (an analyst or an admin) may promote a version.", status=403)
    why = f"experiment {experiment.pk}: {reason}"[:MAX_REASON]
    version_promote(version=winner, by=actor.user, reason=why)
    for version in others:
        if version.stage == Stage.CANARY:
            _move_stage(version, Stage.SHADOW, actor, why, experiment)


def _winner(experiment: Experiment, evidence: dict[str, Any], version: str | None) -> Any:
    challengers = {
        a.version.version: a.version for a in experiment.arms.select_related("version") if not a.is_control
    }
    if version:
        if version not in challengers:
            raise ApplicationError(
                f"'{version}' is not a challenger of this experiment.",
                errors=[{"field": "version", "message": f"one of {', '.join(challengers)}"}],
            )
        return challengers[version]
    if len(challengers) == 1:
        return next(iter(challengers.values()))
    better = [c for c in evidence.get("comparisons", []) if c.get("verdict") == "better"]
    if len(better) == 1:
        return challengers[better[0]["challenger"]]
    raise ApplicationError(
        "Several challengers: name the version to promote.",
        errors=[{"field": "version", "message": "required when several challengers could be promoted"}],
    )


@transaction.atomic
def experiment_decide(
    *,
    experiment: Experiment,
    decision: str,
    reason: str,
    actor: Actor,
    version: str | None = None,
    extend_days: int | None = None,
) -> ExperimentDecision:
    """Promote a challenger, revert to the control, or extend; recorded with the statistics of now."""
    experiment = _locked(experiment)
    _require(experiment, ExperimentStatus.STOPPED, doing="decide on")
    reason = _reason(reason)
    look = experiment.looks.order_by("-number").first()
    evidence = {
        "look": look.number if look else None,
        "at": look.at.isoformat() if look else None,
        "results": look.results if look else None,
        "criteria": experiment.criteria,
        "stop_reason": experiment.stop_reason,
    }
    before = {"status": experiment.status, "stop_reason": experiment.stop_reason}
    challengers = [a.version for a in experiment.arms.select_related("version") if not a.is_control]
    chosen = None
    if decision == Decision.PROMOTE:
        chosen = _winner(experiment, evidence["results"] or {}, version)
        _promote(experiment, chosen, [v for v in challengers if v.pk != chosen.pk], actor, reason)
        experiment.status = ExperimentStatus.CONCLUDED
        set_allocation(
            experiment,
            {a["version"]: float(a["version"] == chosen.version) for a in experiment.criteria["arms"]},
        )
    elif decision == Decision.REVERT:
        for v in challengers:
            if v.stage == Stage.CANARY:
                _move_stage(
                    v, Stage.SHADOW, actor, f"experiment {experiment.pk} reverted: {reason}", experiment
                )
        experiment.status = ExperimentStatus.CONCLUDED
    elif decision == Decision.EXTEND:
        # Always-valid inference allows collecting more data after a stop: the guarantee covers
        # every look, however many, so extending costs no error rate.
        days = extend_days or experiment.planned_days
        experiment.status = ExperimentStatus.RUNNING
        experiment.ends_at = max(experiment.ends_at or timezone.now(), timezone.now()) + timedelta(days=days)
        experiment.stopped_at, experiment.stop_reason, experiment.stop_note = None, "", ""
        last = look.allocation if look and experiment.mode == "bandit" else None
        set_allocation(
            experiment, last or {a["version"]: a["planned_share"] for a in experiment.criteria["arms"]}
        )
    else:
        raise ApplicationError(
            f"Unknown decision '{decision}'.",
            errors=[{"field": "decision", "message": f"one of {', '.join(Decision.values)}"}],
        )
    try:
        with transaction.atomic():
            experiment.save()
    except IntegrityError as exc:
        raise ApplicationError(
            "Another experiment of this model is running; it cannot be extended.", status=409
        ) from exc
    record = ExperimentDecision.objects.create(
        experiment=experiment,
        decision=decision,
        reason=reason,
        version=chosen,
        evidence=evidence,
        decided_by=actor.user,
        actor=actor.name[:200],
        at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action="experiment.decision",
        obj=experiment,
        model=experiment.model,
        before=before,
        after={
            "status": experiment.status,
            "decision": decision,
            "version": chosen.version if chosen else None,
            "evidence": evidence,
        },
        reason=reason,
    )
    return record


__all__ = [
    "experiment_create",
    "experiment_decide",
    "experiment_delete",
    "experiment_start",
    "experiment_stop",
    "experiment_update",
    "set_allocation",
    "stop_locked",
]
