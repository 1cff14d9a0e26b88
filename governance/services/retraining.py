"""Retraining requests and the model's retraining pipeline.

requested → accepted → running → completed, or rejected (from requested by a person; from accepted or
running when the pipeline gives up). Accepting a request calls the model's pipeline with a signed
webhook (the notifications' Standard Webhooks signature, its own secret) after commit, retried like a
notification; the pipeline reports back through the transition endpoint with the model's integration
key (running, completed with the version it produced, or rejected).
"""

import json
import time
from typing import Any
from urllib.parse import urlparse

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from drift.models import AnalysisRun, ModelVersion, MonitoredModel
from drift.roles import ANALYST, role_at_least, user_role
from governance.models import (
    DriftEvent,
    PipelineCall,
    Policy,
    RetrainingPipeline,
    RetrainingRequest,
    RetrainingStatus,
)
from governance.notifications import TransientDeliveryError, webhook_headers
from governance.services.audit import Actor, audit_record
from governance.services.notifications import DeliveryRefused, http_post, new_webhook_secret
from monitoring_site.auth import is_integration
from monitoring_site.broker import send_on_commit
from monitoring_site.errors import ApplicationError

R = RetrainingStatus
TRANSITIONS: dict[str, tuple[str, ...]] = {
    R.REQUESTED: (R.ACCEPTED, R.REJECTED),
    R.ACCEPTED: (R.RUNNING, R.COMPLETED, R.REJECTED),
    R.RUNNING: (R.COMPLETED, R.REJECTED),
    R.COMPLETED: (),
    R.REJECTED: (),
}
# What the pipeline itself (the model's integration key) may report.
PIPELINE_MOVES = {(R.ACCEPTED, R.RUNNING), (R.ACCEPTED, R.COMPLETED), (R.RUNNING, R.COMPLETED)}
PIPELINE_MOVES |= {(R.ACCEPTED, R.REJECTED), (R.RUNNING, R.REJECTED)}
MAX_TEXT = 10_000


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", errors=[{"field": field, "message": message}])


def masked_url(url: str) -> str:
    parts = urlparse(url)
    return f"{parts.scheme}://{parts.netloc}/…"


@transaction.atomic
def retraining_pipeline_set(
    *, model: MonitoredModel, url: str, by: Any, secret: str = "", is_active: bool = True
) -> RetrainingPipeline:
    """Where the model's pipeline listens. Without a secret one is generated (`whsec_…`); the caller
    shows it once."""
    parts = urlparse(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _invalid("url", "must be an http(s) URL")
    existing = RetrainingPipeline.objects.select_for_update().filter(model=model).first()
    before = {"url": masked_url(existing.url), "is_active": existing.is_active} if existing else None
    pipeline = existing or RetrainingPipeline(model=model)
    pipeline.url, pipeline.is_active, pipeline.updated_at = url, is_active, timezone.now()
    pipeline.secret = secret or (existing.secret if existing else "") or new_webhook_secret()
    pipeline.save()
    audit_record(
        actor=Actor.of(by),
        action="retraining_pipeline.set",
        obj=pipeline,
        model=model,
        before=before,
        after={
            "url": masked_url(url),
            "is_active": is_active,
            "secret_changed": bool(secret) or not existing,
        },
    )
    return pipeline


def _view(request: RetrainingRequest) -> dict[str, Any]:
    return {
        "status": request.status,
        "note": request.note,
        "external_id": request.external_id,
        "result_version": request.result_version_id,
    }


def retraining_request_create(
    *,
    model: MonitoredModel,
    reason: str,
    by: Any,
    event: DriftEvent | None = None,
    policy: Policy | None = None,
    run: AnalysisRun | None = None,
) -> RetrainingRequest | None:
    """Ask for retraining. A request already open for `event` is not repeated: a policy gets None,
    a person a 409."""
    reason = (reason or "").strip()
    if not reason:
        raise _invalid("reason", "required: why the model should be retrained")
    if event is not None and event.model_id != model.pk:
        raise _invalid("event", "belongs to another model")
    actor, now = Actor.of(by), timezone.now()
    try:
        with transaction.atomic():
            request = RetrainingRequest.objects.create(
                model=model,
                reason=reason[:MAX_TEXT],
                event=event,
                policy=policy,
                run=run,
                requested_by=actor.name,
                created_at=now,
                updated_at=now,
            )
            audit_record(
                actor=actor,
                action="retraining.request",
                obj=request,
                model=model,
                after={
                    "event": getattr(event, "pk", None),
                    "run": getattr(run, "pk", None),
                    "reason": reason,
                },
            )
    except IntegrityError:
        if actor.user is None:
            return None
        raise ApplicationError(
            f"Event #{event.pk} already has an open retraining request.",
            status=409,  # type: ignore[union-attr]
        ) from None
    return request


def _check_mover(by: Any, request: RetrainingRequest, to: str) -> None:
    if is_integration(by):
        if by.model_id != request.model_id or (request.status, to) not in PIPELINE_MOVES:
            raise ApplicationError(
                "The pipeline may report running, completed or rejected on an accepted request only.",
                status=403,
            )
    elif not role_at_least(user_role(by), ANALYST):
        raise ApplicationError("Only an analyst or an admin may decide on retraining.", status=403)


@transaction.atomic
def retraining_request_transition(
    *,
    request: RetrainingRequest,
    to: str,
    by: Any,
    note: str = "",
    external_id: str | None = None,
    version: ModelVersion | None = None,
) -> RetrainingRequest:
    """Move a request on. Accepting calls the pipeline (after commit); rejecting needs a note;
    completing may name the version the pipeline produced (promote it separately)."""
    request = RetrainingRequest.objects.select_for_update().select_related("model").get(pk=request.pk)
    allowed = TRANSITIONS.get(request.status, ())
    if to not in allowed:
        options = ", ".join(allowed) or f"none: it is {request.status}"
        raise ApplicationError(
            f"A {request.status} retraining request cannot move to '{str(to)[:40]}' (allowed: {options}).",
            errors=[{"field": "to", "message": f"allowed from {request.status}: {options}"}],
        )
    _check_mover(by, request, to)
    note = (note or "").strip()[:MAX_TEXT]
    if to == R.REJECTED and not note:
        raise _invalid("note", "required: why it is rejected")
    if version is not None and (to != R.COMPLETED or version.model_id != request.model_id):
        raise _invalid("version", "only a completed request names a version, of the same model")
    actor, before, now = Actor.of(by), _view(request), timezone.now()
    request.status, request.updated_at = to, now
    request.note = note or request.note
    if external_id:
        request.external_id = str(external_id)[:200]
    if to in (R.ACCEPTED, R.REJECTED) and actor.user is not None:
        request.decided_by, request.decided_at = actor.user, now
    if to == R.COMPLETED:
        request.completed_at, request.result_version = now, version
    pipeline = RetrainingPipeline.objects.filter(model=request.model, is_active=True).first()
    if to == R.ACCEPTED and pipeline is not None:
        request.call_status = PipelineCall.PENDING
        from governance.tasks import retraining_pipeline_call

        # Left pending when the broker is down; the request still records the decision.
        send_on_commit(retraining_pipeline_call, request.pk)
    request.save()
    audit_record(
        actor=actor,
        action="retraining.transition",
        obj=request,
        model=request.model,
        before=before,
        after={**_view(request), "pipeline_called": request.call_status == PipelineCall.PENDING},
        reason=note,
    )
    return request


def pipeline_payload(request: RetrainingRequest, timestamp: int) -> bytes:
    """What the pipeline receives on acceptance (Standard Webhooks shape: type, timestamp, data)."""
    model, event = request.model, request.event
    production = model.versions.filter(stage="production").order_by("-created_at").first()
    reference = getattr(production, "reference", None) if production else None
    data = {
        "request": request.pk,
        "model": model.slug,
        "production_version": production.version if production else None,
        "reference_digest": reference.digest if reference else None,
        "reason": request.reason,
        "requested_by": request.requested_by,
        "accepted_by": request.decided_by.get_username() if request.decided_by else None,
        "event": (
            {
                "id": event.pk,
                "signal": event.signal,
                "value": event.latest_value,
                "threshold": event.threshold,
            }
            if event
            else None
        ),
        "report_to": f"/api/v1/retraining-requests/{request.pk}/transition/",
    }
    payload = {"type": "retraining.accepted", "timestamp": timestamp, "data": data}
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def retraining_pipeline_attempt(*, request_id: int, final: bool = False) -> RetrainingRequest:
    """Call the pipeline once for an accepted request. A transient failure raises
    `TransientDeliveryError` (the task retries it) unless this was the `final` attempt."""
    request = RetrainingRequest.objects.select_related("model", "event", "decided_by").get(pk=request_id)
    pipeline = RetrainingPipeline.objects.filter(model=request.model, is_active=True).first()
    if request.call_status != PipelineCall.PENDING or pipeline is None:
        return request  # already called, or the pipeline was switched off meanwhile
    RetrainingRequest.objects.filter(pk=request.pk).update(call_attempts=F("call_attempts") + 1)
    now = int(time.time())
    body = pipeline_payload(request, now)
    headers = {**webhook_headers(pipeline.secret, f"rt_{request.pk}", now, body), "user-agent": "Driftwatch"}
    try:
        code = http_post(pipeline.url, body, headers)
    except TransientDeliveryError as exc:
        code = getattr(exc.__cause__, "code", None)
        if not final:
            RetrainingRequest.objects.filter(pk=request.pk).update(
                call_error=str(exc)[:2000], call_response_code=code
            )
            raise
        _called(request, PipelineCall.FAILED, code, f"gave up after retries: {exc}")
    except DeliveryRefused as exc:
        _called(request, PipelineCall.FAILED, exc.code, str(exc))
    else:
        _called(request, PipelineCall.SENT, code, "")
    request.refresh_from_db()
    return request


def _called(request: RetrainingRequest, status: str, code: int | None, error: str) -> None:
    RetrainingRequest.objects.filter(pk=request.pk).update(
        call_status=status,
        call_response_code=code,
        call_error=error[:2000],
        called_at=timezone.now() if status == PipelineCall.SENT else None,
    )
