"""Reads of analysis runs and their results, scoped to what the caller may see."""

from typing import Any

from django.db.models import QuerySet

from drift.engine.context import SECTIONS
from drift.models import AnalysisResult, AnalysisRun, ModelVersion, MonitoredModel, RunKind, RunStatus
from drift.selectors import models_visible_to
from monitoring_site.errors import ApplicationError, NotFound


def _choice(value: str | None, choices: Any, field: str) -> str | None:
    if value in (None, ""):
        return None
    if value not in choices.values:
        raise ApplicationError(
            f"'{field}' must be one of {', '.join(choices.values)}.",
            errors=[{"field": field, "message": f"unknown {field} '{str(value)[:40]}'"}],
        )
    return value


def analyses_for_model(
    model: MonitoredModel,
    *,
    version: ModelVersion | None = None,
    status: str | None = None,
    kind: str | None = None,
) -> QuerySet[AnalysisRun]:
    """The model's runs, newest window first, optionally filtered."""
    qs = AnalysisRun.objects.filter(model=model).select_related("model", "version")
    if version is not None:
        qs = qs.filter(version=version)
    if _choice(status, RunStatus, "status"):
        qs = qs.filter(status=status)
    if _choice(kind, RunKind, "kind"):
        qs = qs.filter(kind=kind)
    return qs.order_by("-window_start", "-id")


MAX_ID = 2**63 - 1  # the largest id a bigint holds; PostgreSQL refuses to compare with a larger one


def analysis_for(principal: Any, run_id: int) -> AnalysisRun:
    runs = AnalysisRun.objects.select_related("model", "version")
    run = runs.filter(pk=run_id).first() if run_id <= MAX_ID else None
    if run is None or not models_visible_to(principal).filter(pk=run.model_id).exists():
        raise NotFound(f"No analysis with id {run_id}.", field="id")
    return run


def analysis_results(run: AnalysisRun) -> dict[str, Any]:
    """Each section's stored result, in a fixed order; None for sections not computed yet."""
    stored = dict(AnalysisResult.objects.filter(run=run).values_list("section", "data"))
    return {name: stored.get(name) for name in SECTIONS}
