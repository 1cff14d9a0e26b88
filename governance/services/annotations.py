"""Annotations: frontline users flag a prediction, a time range or a segment; analysts accept one (it
becomes an improvement task tied to a drift event or a retraining request) or dismiss it with a reason.
Every step is audited. Notes are plain text; pages escape them."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from drift.models import FeatureSpec, MonitoredModel
from drift.roles import ANALYST, FRONTLINE, role_at_least, user_role
from drift.selectors import prediction_of_record
from governance.models import (
    Annotation,
    AnnotationCategory,
    AnnotationStatus,
    AnnotationTarget,
    DriftEvent,
    ImprovementTask,
    RetrainingRequest,
    TaskStatus,
)
from governance.services.audit import Actor, audit_record
from governance.services.retraining import retraining_request_create
from monitoring_site.errors import ApplicationError

MAX_NOTE = 5_000
MAX_RANGE = timedelta(days=92)


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", errors=[{"field": field, "message": message}])


def _need(by: Any, role: str, what: str) -> None:
    if not role_at_least(user_role(by), role):
        raise ApplicationError(f"Only {what} may do this.", status=403)


def _view(a: Annotation) -> dict[str, Any]:
    return {
        "target": a.target,
        "record_id": a.record_id or None,
        "start": a.start.isoformat() if a.start else None,
        "end": a.end.isoformat() if a.end else None,
        "segment": {a.segment_feature: a.segment_value} if a.segment_feature else None,
        "category": a.category,
        "note": a.note,
        "status": a.status,
    }


def _target(
    model: MonitoredModel,
    record_id: str | None,
    start: datetime | None,
    end: datetime | None,
    segment: dict[str, Any] | None,
) -> dict[str, Any]:
    """Exactly one of: a record id, a time range, a segment {feature, value}."""
    given = [
        name for name, v in (("record_id", record_id), ("start", start or end), ("segment", segment)) if v
    ]
    if len(given) != 1:
        raise ApplicationError(
            "Flag one thing: a prediction (record_id), a time range (start, end) or a segment.",
            errors=[{"field": "target", "message": "give exactly one of record_id, start/end, segment"}],
        )
    if record_id:
        row = prediction_of_record(model, record_id).filter(is_drill=False).first()
        if row is None:
            raise _invalid("record_id", f"no prediction with id '{record_id[:200]}' for this model")
        return {"target": AnnotationTarget.PREDICTION, "record_id": record_id, "prediction": row}
    if start or end:
        future = timezone.now() + timedelta(minutes=settings.DRIFTWATCH["FUTURE_TOLERANCE_MINUTES"])
        if not (start and end) or end <= start:
            raise _invalid("end", "a time range needs a start and a later end")
        if end - start > MAX_RANGE or start > future:
            raise _invalid("start", f"a past range of at most {MAX_RANGE.days} days")
        return {"target": AnnotationTarget.TIME_RANGE, "start": start, "end": end}
    feature, value = (segment or {}).get("feature"), (segment or {}).get("value")
    if (
        not isinstance(feature, str)
        or not FeatureSpec.objects.filter(version__model=model, name=feature).exists()
    ):
        raise _invalid("segment.feature", "not a feature of this model")
    if value is None or isinstance(value, dict | list) or len(str(value)) > 200:
        raise _invalid("segment.value", "a value (text, number or boolean)")
    return {"target": AnnotationTarget.SEGMENT, "segment_feature": feature, "segment_value": str(value)}


@transaction.atomic
def annotation_create(
    *,
    model: MonitoredModel,
    by: Any,
    category: str,
    note: str,
    record_id: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    segment: dict[str, Any] | None = None,
) -> Annotation:
    """A frontline user (or anyone above) flags something odd, with a category and a note."""
    _need(by, FRONTLINE, "a frontline user, an analyst or an admin")
    if category not in AnnotationCategory.values:
        raise _invalid("category", f"one of {', '.join(AnnotationCategory.values)}")
    note = (note or "").strip()
    if not note or len(note) > MAX_NOTE:
        raise _invalid("note", f"required, at most {MAX_NOTE:,} characters")
    actor = Actor.of(by)
    annotation = Annotation.objects.create(
        model=model,
        category=category,
        note=note,
        created_by=actor.user,
        created_at=timezone.now(),
        **_target(model, record_id, start, end, segment),
    )
    audit_record(
        actor=actor, action="annotation.create", obj=annotation, model=model, after=_view(annotation)
    )
    return annotation


def _open(annotation: Annotation) -> Annotation:
    locked = Annotation.objects.select_for_update().select_related("model").get(pk=annotation.pk)
    if locked.status != AnnotationStatus.OPEN:
        raise ApplicationError(f"Annotation #{locked.pk} was already {locked.status}.", status=409)
    return locked


@transaction.atomic
def annotation_accept(
    *,
    annotation: Annotation,
    by: Any,
    title: str = "",
    event: DriftEvent | None = None,
    retraining_request: RetrainingRequest | None = None,
    request_retraining: bool = False,
) -> ImprovementTask:
    """Turn the annotation into an improvement task linked to a drift event or a retraining request
    (an existing one, or a new one asked for now with the note as its reason)."""
    _need(by, ANALYST, "an analyst or an admin")
    annotation = _open(annotation)
    model, actor = annotation.model, Actor.of(by)
    for field, linked in (("event", event), ("retraining_request", retraining_request)):
        if linked is not None and linked.model_id != model.pk:
            raise _invalid(field, "belongs to another model")
    if request_retraining and retraining_request is None:
        reason = f"From annotation #{annotation.pk} ({annotation.get_category_display()}): {annotation.note}"
        retraining_request = retraining_request_create(model=model, reason=reason, by=by, event=event)
    if event is None and retraining_request is None:
        raise ApplicationError(
            "Accepting links the task to a drift event or a retraining request.",
            errors=[{"field": "event", "message": "give event, retraining_request or request_retraining"}],
        )
    now = timezone.now()
    task = ImprovementTask.objects.create(
        model=model,
        title=(title.strip() or f"{annotation.get_category_display()}: {annotation.note}")[:300],
        description=annotation.note,
        event=event,
        retraining_request=retraining_request,
        created_by=actor.user,
        created_at=now,
        updated_at=now,
    )
    before = _view(annotation)
    annotation.status, annotation.task = AnnotationStatus.ACCEPTED, task
    annotation.triaged_by, annotation.triaged_at = actor.user, now
    annotation.save()
    links = {
        "event": getattr(event, "pk", None),
        "retraining_request": getattr(retraining_request, "pk", None),
    }
    audit_record(
        actor=actor,
        action="improvement_task.create",
        obj=task,
        model=model,
        after={"title": task.title, "annotation": annotation.pk, **links},
    )
    audit_record(
        actor=actor,
        action="annotation.accept",
        obj=annotation,
        model=model,
        before={"status": before["status"]},
        after={"status": annotation.status, "task": task.pk, **links},
    )
    return task


@transaction.atomic
def annotation_dismiss(*, annotation: Annotation, by: Any, reason: str) -> Annotation:
    _need(by, ANALYST, "an analyst or an admin")
    reason = (reason or "").strip()
    if not reason:
        raise _invalid("reason", "required: why it is dismissed")
    annotation = _open(annotation)
    actor = Actor.of(by)
    annotation.status, annotation.dismiss_reason = AnnotationStatus.DISMISSED, reason[:MAX_NOTE]
    annotation.triaged_by, annotation.triaged_at = actor.user, timezone.now()
    annotation.save()
    audit_record(
        actor=actor,
        action="annotation.dismiss",
        obj=annotation,
        model=annotation.model,
        before={"status": AnnotationStatus.OPEN},
        after={"status": annotation.status},
        reason=reason,
    )
    return annotation


@transaction.atomic
def improvement_task_update(*, task: ImprovementTask, by: Any, status: str) -> ImprovementTask:
    _need(by, ANALYST, "an analyst or an admin")
    if status not in TaskStatus.values:
        raise _invalid("status", f"one of {', '.join(TaskStatus.values)}")
    task = ImprovementTask.objects.select_for_update().select_related("model").get(pk=task.pk)
    if task.status == status:
        return task
    before, now = task.status, timezone.now()
    task.status, task.updated_at = status, now
    task.done_at = now if status == TaskStatus.DONE else None
    task.save()
    audit_record(
        actor=Actor.of(by),
        action="improvement_task.update",
        obj=task,
        model=task.model,
        before={"status": before},
        after={"status": status},
    )
    return task
