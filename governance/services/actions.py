"""What a firing rule does at the start of a breach: notify, mitigate, open an incident, ask for work."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from drift.models import AnalysisRun
from governance.models import (
    ActionRequest,
    DriftEvent,
    Drill,
    Incident,
    IncidentStatus,
    Policy,
    PolicyVersion,
    RequestKind,
    RequestStatus,
    RetrainingRequest,
)
from governance.notifications import Message
from governance.policies import RuleVerdict, describe
from governance.services.audit import Actor, audit_record
from governance.services.drills import drill_gate_tighten, drill_note_actions
from governance.services.events import drift_event_note_action, drift_event_snapshot
from governance.services.gate import serving_mode_tighten
from governance.services.incidents import incident_open
from governance.services.notifications import notify
from governance.services.retraining import retraining_request_create
from governance.signals import parse_signal


def _snapshot(
    *,
    run: AnalysisRun,
    results: dict[str, Any],
    rule: dict[str, Any],
    verdict: RuleVerdict,
    pv: PolicyVersion,
) -> dict[str, Any]:
    """The state that led to a mitigation: the run's relevant results, thresholds and the rules."""
    signal = parse_signal(rule["signal"])
    section = results.get(signal.section) or {}
    drift = results.get("data_drift") or {}
    features = drift.get("features") or []
    if signal.section == "data_drift":
        relevant = {k: v for k, v in section.items() if k not in ("features", "multivariate")}
        relevant["features"] = [f for f in features if f.get("feature") == signal.feature or f.get("drifted")]
        relevant["multivariate"] = section.get("multivariate")
    else:
        relevant = section
    return {
        "taken_at": timezone.now().isoformat(),
        "run": {
            "id": run.pk,
            "version": run.version.version,
            "window_start": run.window_start.isoformat(),
            "window_end": run.window_end.isoformat(),
            "reference_digest": run.reference_digest,
        },
        "signal": rule["signal"],
        "observed": verdict.value,
        "threshold": verdict.threshold,
        "windows": verdict.windows,
        "results": {signal.section: relevant},
        "learned_thresholds": {f["feature"]: f.get("threshold") for f in features if "feature" in f},
        "policy": {
            "id": pv.policy_id,
            "name": pv.policy.name,
            "version": pv.number,
            "rule_index": verdict.index,
            "rules": pv.rules,
        },
    }


def _request(
    kind: str, *, policy: Policy, event: DriftEvent | None, run: AnalysisRun, actor: Actor, note: str = ""
) -> ActionRequest | None:
    """One open request per kind and event (a resumed breach does not ask twice)."""
    if event is not None and ActionRequest.objects.filter(event=event, kind=kind).exists():
        return None
    request = ActionRequest.objects.create(
        model=policy.model,
        kind=kind,
        status=RequestStatus.REQUESTED,
        policy=policy,
        event=event,
        run=run,
        note=note,
        requested_by=actor.name,
        created_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action=f"{kind}.request",
        obj=request,
        model=policy.model,
        after={"kind": kind, "event": getattr(event, "pk", None), "run": run.pk, "note": note},
    )
    return request


def _retraining(
    *, policy: Policy, event: DriftEvent | None, run: AnalysisRun, actor: Actor, note: str, why: str
) -> RetrainingRequest | None:
    """Once per event (a resumed breach does not ask twice); a person accepts it to call the pipeline."""
    if event is not None and RetrainingRequest.objects.filter(event=event).exists():
        return None
    reason = f"{note} ({why})" if note else f"Requested by {why}."
    return retraining_request_create(
        model=policy.model, reason=reason, by=actor, event=event, policy=policy, run=run
    )


def _schedule_holdout(request: ActionRequest) -> None:
    """The engine's rolling holdout task creates today's holdout run for versions with labels."""
    from drift.tasks import holdout_evaluate

    ActionRequest.objects.filter(pk=request.pk).update(status=RequestStatus.SCHEDULED)
    transaction.on_commit(holdout_evaluate.delay)


def policy_actions_apply(
    *,
    policy: Policy,
    pv: PolicyVersion,
    rule: dict[str, Any],
    verdict: RuleVerdict,
    run: AnalysisRun,
    results: dict[str, Any],
    event: DriftEvent | None,
    drill: Drill | None = None,
) -> list[str]:
    """Run a firing rule's actions at the start of a breach; what was done, in words. In a drill, only
    the drill's own gate moves and the rest is recorded as what would have happened."""
    actor, model, done = Actor.policy(policy.pk), policy.model, []
    why = f"policy '{policy.name}' v{pv.number}: {describe(rule)} (observed {verdict.value})"
    if drill is not None:
        return _drill_actions(drill, policy, pv, rule, verdict, run, results, event, why)
    for action in verdict.actions:
        kind = action["type"]
        if kind == "notify" and event is None:
            # With an event, its opening is the announcement; without one, the breach itself is.
            notify(
                model=model,
                message=Message(
                    topic=f"breach:{policy.pk}:{verdict.rule_key}:{run.pk}",
                    kind="breach",
                    title=f"{model.slug}: {describe(rule)}",
                    text=f"Breach of {why}.",
                    severity=verdict.severity,
                    model=model.slug,
                    status="breached",
                    dedup_key=f"breach-{policy.pk}-{verdict.rule_key}",
                    link=f"/api/v1/analyses/{run.pk}/",
                    at=timezone.now().isoformat(),
                    details={"run": run.pk, "value": verdict.value, "threshold": verdict.threshold},
                ),
            )
            done.append("notified")
        elif kind == "serving_mode":
            if event is not None:
                drift_event_snapshot(
                    event=event,
                    snapshot=_snapshot(run=run, results=results, rule=rule, verdict=verdict, pv=pv),
                    actor=actor,
                )
            _, changed = serving_mode_tighten(
                model=model,
                mode=action["mode"],
                reason=why,
                actor=actor,
                events=[event] if event else [],
                severity=verdict.severity,
            )
            done.append(
                f"serving mode → {action['mode']}"
                if changed
                else f"serving mode already at least {action['mode']}"
            )
        elif kind == "open_incident":
            has_open = (
                event is not None
                and Incident.objects.filter(events=event).exclude(status=IncidentStatus.RESOLVED).exists()
            )
            if not has_open:
                incident = incident_open(
                    model=model,
                    title=describe(rule),
                    severity=action["severity"],
                    actor=actor,
                    summary=f"Opened automatically by {why}.",
                    events=[event] if event else [],
                    runbook=policy.runbook if policy.runbook and policy.runbook.is_active else None,
                )
                done.append(f"opened incident #{incident.pk} ({incident.severity})")
        elif kind == "request_retraining":
            if _retraining(
                policy=policy, event=event, run=run, actor=actor, note=action.get("note", ""), why=why
            ):
                done.append("requested retraining")
        elif kind == "schedule_holdout":
            request = _request(RequestKind.HOLDOUT, policy=policy, event=event, run=run, actor=actor)
            if request is not None:
                _schedule_holdout(request)
                done.append("scheduled a holdout evaluation")
    if event is not None and done:
        drift_event_note_action(event=event, text="; ".join(done), actor=actor)
    return done


def _drill_actions(
    drill: Drill,
    policy: Policy,
    pv: PolicyVersion,
    rule: dict[str, Any],
    verdict: RuleVerdict,
    run: AnalysisRun,
    results: dict[str, Any],
    event: DriftEvent | None,
    why: str,
) -> list[str]:
    """Drill mode: the drill's gate moves, notifications go out marked [DRILL], the rest is only noted."""
    actor, model, done = Actor.policy(policy.pk), policy.model, []
    for action in verdict.actions:
        kind = action["type"]
        if kind == "notify" and event is None:
            notify(
                model=model,
                message=Message(
                    topic=f"drill:{drill.pk}:breach:{policy.pk}:{verdict.rule_key}",
                    kind="breach",
                    title=f"[DRILL] {model.slug}: {describe(rule)}",
                    text=f"Drill #{drill.pk}: breach of {why}.",
                    severity=verdict.severity,
                    model=model.slug,
                    status="breached",
                    dedup_key=f"drill-{drill.pk}",
                    link=f"/api/v1/drills/{drill.pk}/",
                    at=timezone.now().isoformat(),
                    details={"drill": drill.pk, "run": run.pk, "value": verdict.value},
                ),
            )
            done.append("notified (drill)")
        elif kind == "serving_mode":
            if event is not None:
                snapshot = _snapshot(run=run, results=results, rule=rule, verdict=verdict, pv=pv)
                drift_event_snapshot(event=event, snapshot=snapshot, actor=actor)
            moved = drill_gate_tighten(drill=drill, mode=action["mode"], reason=why, actor=actor)
            mode = action["mode"]
            done.append(f"drill gate → {mode}" if moved else f"drill gate already at least {mode}")
        elif kind == "open_incident":
            done.append(f"would open an incident ({action['severity']})")
        elif kind == "request_retraining":
            done.append("would request retraining")
        elif kind == "schedule_holdout":
            done.append("would schedule a holdout evaluation")
    if event is not None and done:
        drift_event_note_action(event=event, text="; ".join(done), actor=actor)
    drill_note_actions(drill=drill, event=event, done=done)
    return done
