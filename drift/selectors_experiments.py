"""Reads of experiments: lists, one experiment, its results for the API and the page, the allocation.

Results never touch telemetry: they come from the recorded looks (the latest in full, earlier ones
by their comparisons only, bounded), so a results page costs a few rows whatever the traffic.
"""

from typing import Any

from django.db.models import QuerySet

from drift.engine.experiment_summary import experiment_summary
from drift.models import Experiment, ExperimentStatus, ModelVersion, Stage
from drift.roles import user_role
from drift.selectors import model_for
from monitoring_site.auth import is_integration
from monitoring_site.errors import NotFound

MAX_LOOKS = 500  # looks in the lift-over-time series; a look every 15 minutes covers ~5 days


def experiments_visible_to(
    principal: Any, *, model: str | None = None, status: str | None = None
) -> QuerySet[Experiment]:
    """People with a role see every experiment; integration keys read only allocations."""
    qs = Experiment.objects.select_related("model").prefetch_related("arms__version", "decisions")
    if is_integration(principal) or user_role(principal) is None:
        return qs.none()
    if model:
        qs = qs.filter(model__slug=model)
    if status:
        qs = qs.filter(status=status)
    return qs


def experiment_for(principal: Any, pk: int) -> Experiment:
    found = experiments_visible_to(principal).filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No experiment with id {pk}.", field="id")
    return found


def _lift_series(experiment: Experiment) -> list[dict[str, Any]]:
    looks = list(
        experiment.looks.order_by("-number").values_list(
            "number", "at", "results__comparisons", "stop_reason"
        )[:MAX_LOOKS]
    )
    series = []
    for number, at, comparisons, stop_reason in reversed(looks):
        for c in comparisons or []:
            series.append(
                {
                    "look": number,
                    "at": at.isoformat(),
                    "challenger": c["challenger"],
                    "estimate": c["estimate"],
                    "lower": c["lower"],
                    "upper": c["upper"],
                    "p_value": c.get("always_valid_p", c["p_value"]),
                    "verdict": c["verdict"],
                    "stop_reason": stop_reason,
                }
            )
    return series


def experiment_results(experiment: Experiment) -> dict[str, Any]:
    """Everything the results endpoint and the experiment page show. JSON-ready."""
    latest = experiment.looks.order_by("-number").first()
    results = latest.results if latest else None
    currency = (experiment.criteria or {}).get("currency", experiment.model.currency)
    summary = (
        experiment_summary(
            results, status=experiment.status, stop_reason=experiment.stop_reason, currency=currency
        )
        if results
        else "The experiment has not started."
        if experiment.status == ExperimentStatus.DRAFT
        else "No data yet: the first look happens within 15 minutes of the start."
    )
    return {
        "experiment": {
            "id": experiment.pk,
            "name": experiment.name,
            "model": experiment.model.slug,
            "status": experiment.status,
            "mode": experiment.mode,
            "started_at": experiment.started_at,
            "ends_at": experiment.ends_at,
            "stopped_at": experiment.stopped_at,
            "stop_reason": experiment.stop_reason,
            "stop_note": experiment.stop_note,
        },
        "criteria": experiment.criteria,
        "look": {"number": latest.number, "at": latest.at} if latest else None,
        "window": results.get("window") if results else None,
        "metric": results["metric"] if results else None,
        "arms": results["arms"] if results else [],
        "comparisons": results["comparisons"] if results else [],
        "guardrails": results["guardrails"] if results else [],
        "srm": results["srm"] if results else None,
        "prob_best": results.get("prob_best") if results else None,
        "daily": results["daily"] if results else [],
        "lift": _lift_series(experiment),
        "allocation": {"current": experiment.allocation, "history": experiment.allocation_history},
        "summary": summary,
    }


def allocation_for(principal: Any, slug: str) -> dict[str, Any]:
    """The traffic table a serving system routes by: the running (or stopped) experiment's shares,
    otherwise all traffic to the production version."""
    model = model_for(principal, slug)
    experiment = (
        Experiment.objects.filter(
            model=model, status__in=[ExperimentStatus.RUNNING, ExperimentStatus.STOPPED]
        )
        .order_by("-started_at")
        .first()
    )
    if experiment is not None:
        return {
            "model": model.slug,
            "experiment": experiment.pk,
            "status": experiment.status,
            "mode": experiment.mode,
            "arms": [{"version": v, "share": s} for v, s in experiment.allocation.items()],
            "updated_at": experiment.allocation_history[-1]["from"]
            if experiment.allocation_history
            else None,
        }
    production = ModelVersion.objects.filter(model=model, stage=Stage.PRODUCTION).first()
    return {
        "model": model.slug,
        "experiment": None,
        "status": None,
        "mode": None,
        "arms": [{"version": production.version, "share": 1.0}] if production else [],
        "updated_at": None,
    }
