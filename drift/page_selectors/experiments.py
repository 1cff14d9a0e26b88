"""Reads for the experiment pages: the filtered list, and one experiment with its results, advice,
figures and tables. Results come from the recorded looks (`drift.selectors_experiments`), never from
telemetry, so a page costs a few rows whatever the traffic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from drift.charts.base import Figure
from drift.charts.experiments import allocation_over_time, arm_metric_over_time, lift_over_time
from drift.engine.experiment_advice import recommendation, srm_sentence
from drift.engine.experiments import METRICS
from drift.models import Experiment, ExperimentDecision, ExperimentStatus
from drift.page_tables import experiments as tables
from drift.page_tables.base import Table
from drift.selectors import model_for
from drift.selectors_experiments import experiment_for, experiment_results, experiments_visible_to
from monitoring_site.errors import ApplicationError, NotFound

STATUS_BADGE = {
    ExperimentStatus.DRAFT: "none",
    ExperimentStatus.RUNNING: "healthy",
    ExperimentStatus.STOPPED: "watch",
    ExperimentStatus.CONCLUDED: "none",
}


def experiments_filtered(principal: Any, *, model: str = "", status: str = "") -> QuerySet[Experiment]:
    """The list page's experiments, newest first; an unknown model or status is a 400 naming it."""
    if status and status not in ExperimentStatus.values:
        raise ApplicationError(
            f"status: one of {', '.join(ExperimentStatus.values)}",
            errors=[{"field": "status", "message": f"one of {', '.join(ExperimentStatus.values)}"}],
        )
    if model:
        try:
            model_for(principal, model)
        except NotFound:
            raise ApplicationError(
                f"model: no model '{model[:80]}'", errors=[{"field": "model", "message": "unknown model"}]
            ) from None
    return experiments_visible_to(principal, model=model or None, status=status or None)


@dataclass(frozen=True)
class ExperimentPage:
    experiment: Experiment
    results: dict[str, Any]
    control: str
    challengers: list[str]
    advice: dict[str, str]
    srm_text: str
    decisions: list[ExperimentDecision]
    currency: str

    @property
    def badge(self) -> str:
        return STATUS_BADGE.get(self.experiment.status, "none")

    @property
    def can_stop(self) -> bool:
        return self.experiment.status == ExperimentStatus.RUNNING

    @property
    def can_decide(self) -> bool:
        return self.experiment.status == ExperimentStatus.STOPPED


def experiment_page(principal: Any, pk: int) -> ExperimentPage:
    experiment = experiment_for(principal, pk)
    results = experiment_results(experiment)
    arms = sorted(experiment.arms.all(), key=lambda a: a.position)
    control = next((a.version.version for a in arms if a.is_control), "the control")
    criteria = experiment.criteria or {}
    return ExperimentPage(
        experiment=experiment,
        results=results,
        control=control,
        challengers=[a.version.version for a in arms if not a.is_control],
        advice=recommendation(
            {"comparisons": results["comparisons"], "guardrails": results["guardrails"]},
            status=experiment.status,
            stop_reason=experiment.stop_reason,
            control=control,
        ),
        srm_text=srm_sentence(results["srm"], min_traffic=int(criteria.get("min_traffic_srm", 1_000))),
        decisions=list(experiment.decisions.select_related("version").order_by("at", "id")),
        currency=criteria.get("currency") or experiment.model.currency,
    )


def _until(page: ExperimentPage) -> str:
    """Where the allocation chart ends: the decision that concluded it, otherwise now."""
    if page.experiment.status == ExperimentStatus.CONCLUDED and page.decisions:
        return page.decisions[-1].at.isoformat()
    return timezone.now().isoformat()


def experiment_figures(page: ExperimentPage) -> dict[str, Figure]:
    results = page.results
    spec = METRICS[page.experiment.primary_metric]  # before the first look, from the definition
    metric = results["metric"] or {
        "name": page.experiment.primary_metric,
        "label": spec.label,
        "kind": spec.kind,
        "higher_is_better": spec.higher_is_better,
    }
    return {
        "lift": lift_over_time(
            results["lift"],
            metric=metric["name"],
            kind=metric["kind"],
            higher_is_better=bool(metric["higher_is_better"]),
            mde=page.experiment.minimum_detectable_effect,
            currency=page.currency,
        ),
        "arms": arm_metric_over_time(
            results["daily"],
            metric=metric["name"],
            label=metric["label"],
            kind=metric["kind"],
            currency=page.currency,
        ),
        "allocation": allocation_over_time(results["allocation"]["history"], until=_until(page)),
    }


def experiment_tables(page: ExperimentPage) -> list[Table]:
    results = page.results
    return [
        tables.comparisons_table(results, page.currency),
        tables.arms_table(results, page.currency),
        tables.guardrails_table(results),
        tables.daily_table(results, page.currency),
        tables.allocation_table(results["allocation"]["history"]),
        tables.decisions_table(page.decisions),
    ]


__all__ = [
    "ExperimentPage",
    "experiment_figures",
    "experiment_page",
    "experiment_tables",
    "experiments_filtered",
]
