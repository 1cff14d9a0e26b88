"""Annotation and improvement-task reads, scoped to the models the caller may see."""

from typing import Any

from django.db.models import QuerySet

from drift.selectors import models_visible_to
from governance.models import (
    Annotation,
    AnnotationCategory,
    AnnotationStatus,
    AnnotationTarget,
    ImprovementTask,
    TaskStatus,
)
from governance.selectors import choice_param, model_param
from monitoring_site.errors import NotFound


def annotations_list(
    principal: Any,
    *,
    model: str | None = None,
    status: str | None = None,
    category: str | None = None,
    target: str | None = None,
) -> QuerySet[Annotation]:
    qs = Annotation.objects.filter(model__in=models_visible_to(principal)).select_related(
        "model", "created_by", "triaged_by", "task"
    )
    found = model_param(model)
    if found is not None:
        qs = qs.filter(model=found)
    for value, choices, field in (
        (status, AnnotationStatus, "status"),
        (category, AnnotationCategory, "category"),
        (target, AnnotationTarget, "target"),
    ):
        if choice_param(value, choices, field):
            qs = qs.filter(**{field: value})
    return qs.order_by("-created_at", "-id")


def annotation_for(principal: Any, annotation_id: int) -> Annotation:
    found = annotations_list(principal).filter(pk=annotation_id).first()
    if found is None:
        raise NotFound(f"No annotation with id {annotation_id}.", field="id")
    return found


def improvement_tasks_list(
    principal: Any, *, model: str | None = None, status: str | None = None
) -> QuerySet[ImprovementTask]:
    qs = ImprovementTask.objects.filter(model__in=models_visible_to(principal)).select_related(
        "model", "created_by"
    )
    found = model_param(model)
    if found is not None:
        qs = qs.filter(model=found)
    if choice_param(status, TaskStatus, "status"):
        qs = qs.filter(status=status)
    return qs.prefetch_related("annotations").order_by("-created_at", "-id")


def improvement_task_for(principal: Any, task_id: int) -> ImprovementTask:
    found = improvement_tasks_list(principal).filter(pk=task_id).first()
    if found is None:
        raise NotFound(f"No improvement task with id {task_id}.", field="id")
    return found
