"""Runbook reads: lists and one runbook with its versions, scoped to what the caller may see."""

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from drift.selectors import models_visible_to
from governance.models import Runbook, RunbookVersion
from monitoring_site.errors import ApplicationError, NotFound


def runbooks_list(
    principal: Any, *, model: str | None = None, include_retired: bool = False
) -> QuerySet[Runbook]:
    """Shared runbooks and those of visible models, newest version prefetched first; `model` (a slug)
    narrows to the runbooks that apply to that model (its own and the shared ones)."""
    qs = Runbook.objects.filter(Q(model__isnull=True) | Q(model__in=models_visible_to(principal)))
    if model:
        found = models_visible_to(principal).filter(slug=model[:80]).first()
        if found is None:
            raise ApplicationError(
                f"No model with slug '{model[:80]}'.", errors=[{"field": "model", "message": "unknown model"}]
            )
        qs = qs.filter(Q(model__isnull=True) | Q(model=found))
    if not include_retired:
        qs = qs.filter(is_active=True)
    versions = RunbookVersion.objects.select_related("created_by").order_by("-number")
    return qs.select_related("model").prefetch_related(Prefetch("versions", queryset=versions))


def runbook_for(principal: Any, runbook_id: int) -> Runbook:
    runbook = runbooks_list(principal, include_retired=True).filter(pk=runbook_id).first()
    if runbook is None:
        raise NotFound(f"No runbook with id {runbook_id}.", field="id")
    return runbook


def runbook_version_for(runbook: Runbook, number: int) -> RunbookVersion:
    version = next((v for v in runbook.versions.all() if v.number == number), None)
    if version is None:
        raise NotFound(f"Runbook '{runbook.slug}' has no version {number}.", field="number")
    return version


def runbook_from_body(principal: Any, runbook_id: int | None) -> Runbook | None:
    """The runbook a request body names (`"runbook": id`, or null for none); 400 when unknown."""
    if runbook_id is None:
        return None
    runbook = runbooks_list(principal, include_retired=True).filter(pk=runbook_id).first()
    if runbook is None:
        raise ApplicationError(
            f"No runbook with id {runbook_id}.", errors=[{"field": "runbook", "message": "unknown runbook"}]
        )
    return runbook
