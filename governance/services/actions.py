"""What a firing rule does at the start of a breach: notify, mitigate, open an incident, ask for work."""

from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Firing:
    """One firing rule at the start of a breach, and whether it happens inside a drill."""

    policy: Policy
    pv: PolicyVersion
    rule: dict[str, Any]
    verdict: RuleVerdict
    run: AnalysisRun
    results: dict[str, Any]
    event: DriftEvent | None
    drill: Drill | None
    why: str

    @property
    def actor(self) -> Actor:
        return Actor.policy(self.policy.pk)


def _notify(f: _Firing, action: dict[str, Any]) -> str | None:
    # With an event, its opening is the announcement; without one, the breach itself is.
    if f.event is not None:
        return None
    model, policy, verdict = f.policy.model, f.policy, f.verdict
    if f.drill is None:
        topic, title, text = (
            f"breach:{policy.pk}:{verdict.rule_key}:{f.run.pk}",
            f"{model.slug}: {describe(f.rule)}",
            f"Breach of {f.why}.",
        )
        dedup, link = f"breach-{policy.pk}-{verdict.rule_key}", f"/api/v1/analyses/{f.run.pk}/"
        details: dict[str, Any] = {"run": f.run.pk, "value": verdict.value, "threshold": verdict.threshold}
    else:
        topic, title, text = (
            f"drill:{f.drill.pk}:breach:{policy.pk}:{verdict.rule_key}",
            f"[DRILL] {model.slug}: {describe(f.rule)}",
            f"Drill #{f.drill.pk}: breach of {f.why}.",
        )
        dedup, link = f"drill-{f.drill.pk}", f"/api/v1/drills/{f.drill.pk}/"
        details = {"drill": f.drill.pk, "run": f.run.pk, "value": verdict.value}
    notify(
        model=model,
        message=Message(
            topic=topic,
            kind="breach",
            title=title,
            text=text,
            severity=verdict.severity,
            model=model.slug,
            status="breached",
            dedup_key=dedup,
            link=link,
            at=timezone.now().isoformat(),
            details=details,
        ),
    )
    return "notified" if f.drill is None else "notified (drill)"


def _serving_mode(f: _Firing, action: dict[str, Any]) -> str | None:
    mode = action["mode"]
    if f.event is not None:
        snapshot = _snapshot(run=f.run, results=f.results, rule=f.rule, verdict=f.verdict, pv=f.pv)
        drift_event_snapshot(event=f.event, snapshot=snapshot, actor=f.actor)
    if f.drill is not None:
        moved = drill_gate_tighten(drill=f.drill, mode=mode, reason=f.why, actor=f.actor)
        return f"drill gate → {mode}" if moved else f"drill gate already at least {mode}"
    _, changed = serving_mode_tighten(
        model=f.policy.model,
        mode=mode,
        reason=f.why,
        actor=f.actor,
        events=[f.event] if f.event else [],
        severity=f.verdict.severity,
    )
    return f"serving mode → {mode}" if changed else f"serving mode already at least {mode}"


def _open_incident(f: _Firing, action: dict[str, Any]) -> str | None:
    if f.drill is not None:
        return f"would open an incident ({action['severity']})"
    event = f.event
    if (
        event is not None
        and Incident.objects.filter(events=event).exclude(status=IncidentStatus.RESOLVED).exists()
    ):
        return None
    runbook = f.policy.runbook
    incident = incident_open(
        model=f.policy.model,
        # The rule's own words when it has them, as its event's title does (not "signal > 0.2").
        title=(f.rule.get("description") or describe(f.rule))[:300],
        severity=action["severity"],
        actor=f.actor,
        summary=f"Opened automatically by {f.why}.",
        events=[event] if event else [],
        runbook=runbook if runbook and runbook.is_active else None,
    )
    return f"opened incident #{incident.pk} ({incident.severity})"


def _request_retraining(f: _Firing, action: dict[str, Any]) -> str | None:
    if f.drill is not None:
        return "would request retraining"
    made = _retraining(
        policy=f.policy, event=f.event, run=f.run, actor=f.actor, note=action.get("note", ""), why=f.why
    )
    return "requested retraining" if made else None


def _schedule_holdout_action(f: _Firing, action: dict[str, Any]) -> str | None:
    if f.drill is not None:
        return "would schedule a holdout evaluation"
    request = _request(RequestKind.HOLDOUT, policy=f.policy, event=f.event, run=f.run, actor=f.actor)
    if request is None:
        return None
    _schedule_holdout(request)
    return "scheduled a holdout evaluation"


_ACTIONS: dict[str, Callable[[_Firing, dict[str, Any]], str | None]] = {
    "notify": _notify,
    "serving_mode": _serving_mode,
    "open_incident": _open_incident,
    "request_retraining": _request_retraining,
    "schedule_holdout": _schedule_holdout_action,
}


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
    the drill's own gate moves, notifications go out marked [DRILL], and the rest is recorded as what
    would have happened."""
    observed = "unknown" if verdict.value is None else f"{verdict.value:.4g}"  # not 0.7857142857142857
    why = f"policy '{policy.name}' v{pv.number}: {describe(rule)} (observed {observed})"
    firing = _Firing(policy, pv, rule, verdict, run, results, event, drill, why)
    done = []
    for action in verdict.actions:
        handler = _ACTIONS.get(action["type"])  # "open_event" is the caller's: the event exists by now
        if handler is not None and (what := handler(firing, action)) is not None:
            done.append(what)
    if event is not None and done:
        drift_event_note_action(event=event, text="; ".join(done), actor=firing.actor)
    if drill is not None:
        drill_note_actions(drill=drill, event=event, done=done)
    return done
