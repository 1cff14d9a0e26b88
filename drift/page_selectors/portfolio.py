"""The portfolio: every model the user may see, with its health, headline, money and trend."""

from dataclasses import dataclass, field
from typing import Any

from drift import briefing
from drift.models import ModelVersion, MonitoredModel, Stage
from drift.page_selectors.summaries import (
    is_stale,
    open_events_by_model,
    open_incidents_by_model,
    recent_runs,
    reference_value_per_prediction,
    run_summaries,
    scheduled_length,
    serving_of,
)
from drift.selectors import models_visible_to

TREND_RUNS = 14  # windows in the sparkline
IMPACT_RUNS = 7  # windows summed for the business impact


@dataclass
class PortfolioRow:
    model: MonitoredModel
    version: ModelVersion | None
    health: briefing.Health
    headline: str
    serving: dict[str, Any]
    impact: briefing.Impact | None
    impact_windows: int
    open_events: list[dict[str, Any]] = field(default_factory=list)
    open_incidents: list[dict[str, Any]] = field(default_factory=list)
    trend_labels: list[str] = field(default_factory=list)
    trend_values: list[float | None] = field(default_factory=list)
    trend_name: str = ""
    latest_window_end: Any = None


def default_versions(models: list[MonitoredModel]) -> dict[int, ModelVersion]:
    """Each model's newest production version, else newest canary, else newest (one query)."""
    rank = {Stage.PRODUCTION: 0, Stage.CANARY: 1}
    best: dict[int, tuple[tuple[int, float, int], ModelVersion]] = {}
    for v in ModelVersion.objects.filter(model__in=models).order_by("created_at", "id"):
        key = (rank.get(v.stage, 2), -v.created_at.timestamp(), -v.pk)
        if v.model_id not in best or key < best[v.model_id][0]:
            best[v.model_id] = (key, v)
    return {model_id: v for model_id, (_, v) in best.items()}


def _trend(model: MonitoredModel, runs: list, summaries: dict[int, dict]) -> tuple[list, list, str]:
    """Estimated (or measured) accuracy when the model has one, else the share of changed features."""
    ordered = list(reversed(scheduled_length(model, runs)))[-TREND_RUNS:]
    labels = [r.window_start.strftime("%Y-%m-%d %H:%M") for r in ordered]
    key, name, _ = briefing.primary_metric(model.task)
    values = []
    for r in ordered:
        s = summaries.get(r.pk, {})
        metric = None
        for section in ("performance", "estimated_performance"):
            part = s.get(section) or {}
            few = section == "performance" and (part.get("labelled") or 0) < briefing.MIN_LABELLED
            if part.get("status") == "ok" and not few:
                metric = ((part.get("metrics") or {}).get(key) or {}).get("value")
                if metric is not None:
                    break
        values.append(metric)
    if any(v is not None for v in values):
        return labels, values, name
    shares = [(summaries.get(r.pk, {}).get("data_drift") or {}).get("share_drifted") for r in ordered]
    return labels, shares, "Share of inputs changed"


def portfolio(user: Any) -> list[PortfolioRow]:
    models = list(models_visible_to(user).select_related("serving_state").order_by("name"))
    versions = default_versions(models)
    events = open_events_by_model(m.pk for m in models)
    incidents = open_incidents_by_model(m.pk for m in models)
    out = []
    for model in models:
        version = versions.get(model.pk)
        runs = recent_runs(
            model, version.pk if version else None, limit=max(TREND_RUNS, IMPACT_RUNS), done_only=True
        )
        summaries = run_summaries(runs)
        latest = runs[0] if runs else None
        serving = serving_of(model)
        health = briefing.health_status(
            summaries.get(latest.pk) if latest else None,
            serving_mode=serving["mode"],
            open_events=events.get(model.pk, []),
            task=model.task,
            stale=is_stale(model, latest),
        )
        impact_runs = scheduled_length(model, runs)[:IMPACT_RUNS]
        impact = briefing.business_impact(
            [summaries[r.pk] for r in impact_runs],
            values=model_values(model),
            currency=model.currency,
            reference_per_prediction=reference_value_per_prediction(version.pk if version else None),
        )
        labels, values, name = _trend(model, runs, summaries)
        out.append(
            PortfolioRow(
                model=model,
                version=version,
                health=health,
                headline=headline(model, version, latest),
                serving=serving,
                impact=impact,
                impact_windows=len(impact_runs),
                open_events=events.get(model.pk, []),
                open_incidents=incidents.get(model.pk, []),
                trend_labels=labels,
                trend_values=values,
                trend_name=name,
                latest_window_end=latest.window_end if latest else None,
            )
        )
    return out


def model_values(model: MonitoredModel) -> dict[str, float | None]:
    return {"tp": model.value_tp, "fp": model.value_fp, "tn": model.value_tn, "fn": model.value_fn}


def headline(model: MonitoredModel, version: ModelVersion | None, latest: Any) -> str:
    """One plain sentence: the first of the latest analysis's narrative, or what to do next."""
    if version is None:
        return "No version registered yet: register one with its feature schema to start monitoring."
    if latest is None:
        return (
            f"Not analysed yet: version {version.version} needs a reference and predictions; the first "
            f"{model.get_analysis_window_display().lower()} analysis runs once a window is complete."
        )
    return briefing.first_sentence(latest.narrative or "Nothing notable changed in the latest window.")
