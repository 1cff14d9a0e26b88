"""Policies: create, change (a new version each time), deactivate; evaluate them on an analysis run."""

import itertools
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from drift.models import AnalysisRun, MonitoredModel, RunKind, RunStatus
from drift.selectors_analysis import analysis_results
from governance.models import (
    CLOSED_STATUSES,
    DriftEvent,
    Drill,
    DrillStatus,
    Policy,
    PolicyVersion,
    RuleEvaluation,
    Runbook,
)
from governance.policies import RuleVerdict, evaluate_rule, history_needed, rule_key, validate_rules
from governance.services.actions import policy_actions_apply
from governance.services.audit import Actor, audit_record
from governance.services.events import drift_event_breach_stopped, drift_event_record_breach
from governance.services.runbooks import check_linkable
from monitoring_site.errors import ApplicationError

log = logging.getLogger(__name__)
MAX_NAME = 200


def _rules(rules: Any) -> list[dict[str, Any]]:
    clean, errors = validate_rules(rules)
    if errors:
        first = errors[0]
        raise ApplicationError(f"Invalid policy rules. {first['field']}: {first['message']}", errors=errors)
    return clean


def _name(name: Any) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME:
        raise ApplicationError(
            "A policy needs a name.",
            errors=[{"field": "name", "message": f"required, at most {MAX_NAME} characters"}],
        )
    return name


def _unique_name(model: MonitoredModel, name: str, exclude: int | None = None) -> None:
    if Policy.objects.filter(model=model, name=name, is_active=True).exclude(pk=exclude).exists():
        raise ApplicationError(
            f"Model '{model.slug}' already has an active policy named '{name}'.",
            errors=[{"field": "name", "message": "already used by an active policy of this model"}],
        )


@transaction.atomic
def policy_create(
    *,
    model: MonitoredModel,
    name: str,
    rules: Any,
    by: Any,
    reason: str = "",
    runbook: Runbook | None = None,
) -> Policy:
    name, clean = _name(name), _rules(rules)
    _unique_name(model, name)
    check_linkable(runbook, model)
    actor = Actor.of(by)
    policy = Policy.objects.create(model=model, name=name, runbook=runbook)
    PolicyVersion.objects.create(policy=policy, number=1, rules=clean, reason=reason, created_by=actor.user)
    audit_record(
        actor=actor,
        action="policy.create",
        obj=policy,
        model=model,
        after={"name": name, "version": 1, "rules": clean, "runbook": getattr(runbook, "pk", None)},
        reason=reason,
    )
    return policy


def latest_version(policy: Policy) -> PolicyVersion:
    return policy.versions.order_by("-number").first()  # type: ignore[return-value]


@transaction.atomic
def policy_update(
    *, policy: Policy, rules: Any, reason: str, by: Any, name: str | None = None
) -> PolicyVersion:
    """A new version with `rules` (the earlier ones stay); a change needs a reason."""
    policy = Policy.objects.select_for_update().select_related("model").get(pk=policy.pk)
    if not policy.is_active:
        raise ApplicationError("This policy was deactivated; create a new one instead.", status=409)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            "A policy change needs a reason.", errors=[{"field": "reason", "message": "required"}]
        )
    clean, actor, current = _rules(rules), Actor.of(by), latest_version(policy)
    before = {"name": policy.name, "version": current.number, "rules": current.rules}
    if name is not None and _name(name) != policy.name:
        _unique_name(policy.model, name.strip(), exclude=policy.pk)
        policy.name = name.strip()
        policy.save(update_fields=["name", "updated_at"])
    pv = PolicyVersion.objects.create(
        policy=policy, number=current.number + 1, rules=clean, reason=reason, created_by=actor.user
    )
    audit_record(
        actor=actor,
        action="policy.update",
        obj=policy,
        model=policy.model,
        before=before,
        after={"name": policy.name, "version": pv.number, "rules": clean},
        reason=reason,
    )
    return pv


@transaction.atomic
def policy_deactivate(*, policy: Policy, by: Any, reason: str = "") -> Policy:
    """Stop evaluating the policy; its versions, evaluations and events stay."""
    policy = Policy.objects.select_for_update().select_related("model").get(pk=policy.pk)
    if not policy.is_active:
        return policy
    policy.is_active = False
    policy.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=Actor.of(by),
        action="policy.deactivate",
        obj=policy,
        model=policy.model,
        before={"is_active": True},
        after={"is_active": False},
        reason=reason,
    )
    return policy


def _history(
    policy: Policy, key: str, run: AnalysisRun, needed: int, drill: Drill | None = None
) -> tuple[list[bool | None], bool, list[int]]:
    """The rule's earlier known verdicts on the run's version (oldest first); whether the latest of
    them fired (then this run continues a breach rather than starting one); the runs of the breaching
    streak that leads up to this run (an event opened now links them too).

    Drill runs never count in the history. A drill's window is judged as the next real window would be
    (persistence counts the real verdicts before it), but its breach is its own: it starts afresh and
    links no real runs."""
    earlier = list(
        RuleEvaluation.objects.filter(
            policy=policy,
            rule_key=key,
            version=run.version_id,
            window_end__lt=run.window_end,
            breached__isnull=False,
        )
        .exclude(run__kind=RunKind.DRILL)
        .order_by("-window_end")
        .values_list("breached", "fired", "run_id")[:needed]
    )
    history = [b for b, _, _ in reversed(earlier)]
    if drill is not None:
        return history, False, []
    streak = list(itertools.takewhile(lambda row: row[0], earlier))
    return history, bool(earlier and earlier[0][1]), [r for _, _, r in streak]


def _latest_window(event: DriftEvent) -> Any:
    return event.runs.aggregate(latest=Max("window_end"))["latest"]


def _evaluate_rule(
    policy: Policy,
    pv: PolicyVersion,
    index: int,
    rule: dict[str, Any],
    run: AnalysisRun,
    results: dict,
    drill: Drill | None,
) -> RuleVerdict:
    key = rule_key(rule)
    history, continuing, streak = _history(policy, key, run, history_needed(rule), drill)
    verdict = evaluate_rule(rule, results, history, index=index)
    row, _ = RuleEvaluation.objects.select_for_update().get_or_create(
        policy=policy,
        rule_key=key,
        run=run,
        defaults={
            "policy_version": pv,
            "rule_index": index,
            "version_id": run.version_id,
            "window_end": run.window_end,
            "evaluated_at": timezone.now(),
        },
    )
    already_acted = row.acted
    row.policy_version, row.rule_index, row.evaluated_at = pv, index, timezone.now()
    row.breached, row.fired, row.value, row.threshold = (
        verdict.breached,
        verdict.fired,
        verdict.value,
        verdict.threshold,
    )
    starts = verdict.fired and not continuing and not already_acted
    wants_event = any(a["type"] == "open_event" for a in rule.get("actions", []))
    event = None
    if verdict.fired and wants_event:
        event, opened = drift_event_record_breach(
            policy=policy,
            policy_version=pv,
            rule=rule,
            verdict=verdict,
            run=run,
            earlier_runs=streak,
            drill=drill,
        )
        # An open event whose breach had stopped and now resumes re-applies its mitigations.
        starts = starts or (opened and not already_acted)
    elif verdict.breached is False and drill is None:
        open_event = (
            DriftEvent.objects.filter(policy=policy, rule_key=key, breach_active=True, drill__isnull=True)
            .exclude(status__in=CLOSED_STATUSES)
            .first()
        )
        if open_event is not None and run.window_end >= (_latest_window(open_event) or run.window_end):
            drift_event_breach_stopped(event=open_event, run=run)
    if starts:
        policy_actions_apply(
            policy=policy,
            pv=pv,
            rule=rule,
            verdict=verdict,
            run=run,
            results=results,
            event=event,
            drill=drill,
        )
        row.acted = True
    row.save()
    return verdict


def policies_evaluate(*, run_id: int) -> list[RuleVerdict]:
    """Evaluate every active policy of the run's model on a finished analysis. Idempotent per run:
    re-evaluating updates the rules' verdicts and never repeats an action, event or notification.
    Each policy is evaluated in its own transaction, so one policy's failure spares the others.

    A drill's analysis is evaluated in drill mode (`governance.services.drills`): its events belong to
    the drill and its mitigations move the drill's gate, never the real one."""
    run = AnalysisRun.objects.select_related("model", "version").filter(pk=run_id).first()
    if run is None or run.status != RunStatus.DONE:
        return []
    drill = None
    if run.kind == RunKind.DRILL:
        drill = Drill.objects.filter(run=run, status=DrillStatus.RUNNING).first()
        if drill is None:
            return []  # the drill ended before its analysis did: nothing to judge it for
    results = {name: data for name, data in analysis_results(run).items() if data is not None}
    verdicts: list[RuleVerdict] = []
    for policy in Policy.objects.filter(model=run.model, is_active=True).select_related("model"):
        verdicts += _evaluate_policy(policy, run, results, drill)
    if drill is not None:
        from governance.services.drills import drill_evaluated

        drill_evaluated(drill=drill)
    return verdicts


def _evaluate_policy(
    policy: Policy, run: AnalysisRun, results: dict[str, Any], drill: Drill | None
) -> list[RuleVerdict]:
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                pv = latest_version(policy)
                return [
                    _evaluate_rule(policy, pv, i, rule, run, results, drill)
                    for i, rule in enumerate(pv.rules)
                ]
        except IntegrityError:
            # Another worker evaluating a neighbouring window opened the same event first: once more,
            # and this time the event exists.
            if attempt == 2:
                log.exception("policy %s conflicted twice on analysis %s", policy.pk, run.pk)
        except Exception:  # recorded; the other policies still run
            log.exception("policy %s failed on analysis %s", policy.pk, run.pk)
            break
    return []
