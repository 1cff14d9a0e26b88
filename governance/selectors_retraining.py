"""Retraining reads, scoped to the models the caller may see (an integration key: its own model)."""

from typing import Any

from django.db.models import QuerySet

from drift.selectors import models_visible_to
from governance.models import RetrainingPipeline, RetrainingRequest, RetrainingStatus
from governance.selectors import choice_param, model_param
from monitoring_site.errors import NotFound


def retraining_requests_list(
    principal: Any, *, model: str | None = None, status: str | None = None
) -> QuerySet[RetrainingRequest]:
    qs = RetrainingRequest.objects.filter(model__in=models_visible_to(principal)).select_related(
        "model", "event", "decided_by", "result_version"
    )
    found = model_param(model)
    if found is not None:
        qs = qs.filter(model=found)
    if choice_param(status, RetrainingStatus, "status"):
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def retraining_request_for(principal: Any, request_id: int) -> RetrainingRequest:
    found = retraining_requests_list(principal).filter(pk=request_id).first()
    if found is None:
        raise NotFound(f"No retraining request with id {request_id}.", field="id")
    return found


def retraining_pipeline_of(model: Any) -> RetrainingPipeline | None:
    return RetrainingPipeline.objects.filter(model=model).first()
