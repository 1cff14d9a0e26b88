"""The serving gate: policies make a model's mode stricter; only a person, with a reason, relaxes it."""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from drift.models import MonitoredModel
from drift.roles import ANALYST, role_at_least, user_role
from governance.models import DriftEvent, ServingMode, ServingState, TimelineKind, strictness
from governance.notifications import Message
from governance.services.audit import Actor, audit_record
from governance.services.incidents import incident_timeline_auto
from governance.services.notifications import notify
from monitoring_site.errors import ApplicationError

MAX_REASON = 2000


def _locked_state(model: MonitoredModel) -> ServingState:
    ServingState.objects.get_or_create(model=model, defaults={"since": timezone.now()})
    return ServingState.objects.select_for_update().get(model=model)


def _view(state: ServingState) -> dict[str, Any]:
    return {"mode": state.mode, "reason": state.reason, "since": state.since.isoformat()}


def _change(
    state: ServingState, *, mode: str, reason: str, actor: Actor, severity: str, events: Iterable[DriftEvent]
) -> ServingState:
    before = _view(state)
    relaxed = strictness(mode) < strictness(state.mode)
    state.mode, state.reason, state.since = mode, reason, timezone.now()
    state.changed_by, state.changed_by_actor = actor.user, actor.name
    state.save()
    if mode == ServingMode.NORMAL:
        state.events.clear()  # nothing stands behind normal service
    state.events.add(*events)
    model = state.model
    entry = audit_record(
        actor=actor,
        action="serving_mode.change",
        obj=state,
        model=model,
        before=before,
        after=_view(state),
        reason=reason,
    )
    label = ServingMode(mode).label.lower()
    was = before["mode"].replace("_", " ")
    text = f"{model.name} now serves in {label} mode (was {was}), set by {actor.name}."
    notify(
        model=model,
        message=Message(
            topic=f"serving:{model.pk}:{entry.pk}",
            kind="serving_mode",
            title=f"{model.slug}: serving mode {label}",
            text=f"{text}\nReason: {reason}",
            severity=severity,
            model=model.slug,
            status=mode,
            dedup_key=f"serving-{model.slug}",
            resolved=mode == ServingMode.NORMAL,
            link=f"/api/v1/models/{model.slug}/serving-decision/",
            at=state.since.isoformat(),
            details={"from": before["mode"], "to": mode, "relaxed": relaxed},
        ),
    )
    incident_timeline_auto(model=model, kind=TimelineKind.MITIGATION, text=text, actor=actor)
    return state


def serving_mode_tighten(
    *,
    model: MonitoredModel,
    mode: str,
    reason: str,
    actor: Actor,
    events: Iterable[DriftEvent] = (),
    severity: str = "warning",
) -> tuple[ServingState, bool]:
    """Move the model to `mode` if that is stricter than its current mode (policies call this); the
    events are linked to the state either way. Returns (state, whether the mode changed)."""
    events = list(events)
    with transaction.atomic():
        state = _locked_state(model)
        if strictness(mode) <= strictness(state.mode):
            state.events.add(*events)
            return state, False
        return _change(state, mode=mode, reason=reason, actor=actor, severity=severity, events=events), True


def serving_mode_set(*, model: MonitoredModel, mode: str, reason: str, by: Any) -> ServingState:
    """A person sets the mode, in either direction, with a written reason (analysts and admins only)."""
    if not role_at_least(user_role(by), ANALYST):
        raise ApplicationError("Only an analyst or an admin may change the serving mode.", status=403)
    if mode not in ServingMode.values:
        raise ApplicationError(
            f"Unknown serving mode '{str(mode)[:40]}'.",
            errors=[{"field": "mode", "message": f"must be one of {', '.join(ServingMode.values)}"}],
        )
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise ApplicationError(
            "A change of serving mode needs a written reason.",
            errors=[{"field": "reason", "message": f"required, at most {MAX_REASON} characters"}],
        )
    with transaction.atomic():
        state = _locked_state(model)
        if state.mode == mode:
            return state
        return _change(state, mode=mode, reason=reason, actor=Actor.of(by), severity="warning", events=())
