"""The model page: one version's runs, the chosen window's results, the series around it, governance.

Reads analysis runs, their results and feature verdicts only: a fixed number of queries whatever the
number of predictions behind them.
"""

from dataclasses import dataclass, field
from typing import Any

from drift import briefing
from drift.charts.drift import compared_cells
from drift.models import AnalysisRun, FeatureResult, ModelVersion, MonitoredModel, RunKind, RunStatus
from drift.page_selectors.annotations import flags_between
from drift.page_selectors.portfolio import IMPACT_RUNS, default_versions, model_values
from drift.page_selectors.run_cache import one_run, per_run
from drift.page_selectors.summaries import (
    is_stale,
    open_events_and_markers,
    open_incidents_by_model,
    recent_runs,
    reference_value_per_prediction,
    run_summaries,
    scheduled_length,
    serving_of,
)
from drift.selectors import models_visible_to
from drift.selectors_analysis import analysis_results
from monitoring_site.errors import NotFound

SERIES_RUNS = 30  # windows on the time charts and the heatmap
PICKER_RUNS = 60  # windows offered by the window picker


@dataclass
class ModelPage:
    model: MonitoredModel
    versions: list[ModelVersion]
    version: ModelVersion | None
    runs: list[AnalysisRun]  # the picker's choices, newest first
    run: AnalysisRun | None  # the chosen window
    results: dict[str, Any]  # its sections (empty without a finished run)
    series: list[dict[str, Any]]  # run summaries of the charted windows, oldest first
    cells: list[dict[str, Any]]  # heatmap cells
    windows: list[str]  # heatmap columns
    serving: dict[str, Any]
    health: briefing.Health
    impact: briefing.Impact | None
    impact_windows: int
    open_events: list[dict[str, Any]] = field(default_factory=list)
    open_incidents: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # markers on the time charts
    flags: list[dict[str, Any]] = field(default_factory=list)  # frontline flags, markers too

    @property
    def values(self) -> dict[str, float | None]:
        return model_values(self.model)


def visible_model(user: Any, slug: str) -> MonitoredModel:
    model = models_visible_to(user).select_related("serving_state").filter(slug=slug[:80]).first()
    if model is None:
        raise NotFound(f"No model with slug '{slug[:80]}'.")
    return model


def chosen_version(
    model: MonitoredModel, name: str | None, run_id: str | None = None
) -> tuple[list[ModelVersion], ModelVersion | None]:
    """The version named, else the version of the run asked for, else the default (production) one."""
    versions = list(model.versions.order_by("-created_at", "-id"))
    if not name and run_id and run_id.isdigit() and len(run_id) < 19:
        of_run = AnalysisRun.objects.filter(model=model, kind=RunKind.ANALYSIS, pk=int(run_id)).values_list(
            "version_id", flat=True
        )
        name = next((v.version for v in versions if v.pk in set(of_run)), None)
    if name:
        for v in versions:
            if v.version == name:
                return versions, v
        raise NotFound(f"Model '{model.slug}' has no version '{name[:64]}'.")
    return versions, default_versions([model]).get(model.pk)


def heatmap_cells(runs: list[AnalysisRun]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns (window starts) and cells of the feature x window heatmap (cached per finished run)."""
    by_run = per_run("cells", runs, _cells)
    every = [c for cells in by_run.values() for c in cells]
    return [r.window_start.isoformat() for r in runs], compared_cells(every)  # no identifier rows or chips


def _cells(runs: list[AnalysisRun]) -> dict[int, list[dict[str, Any]]]:
    label = {r.pk: r.window_start.isoformat() for r in runs}
    rows = FeatureResult.objects.filter(run_id__in=list(label)).values(
        "run_id", "feature", "effect_size", "threshold", "drifted", "testable"
    )
    out: dict[int, list[dict[str, Any]]] = {pk: [] for pk in label}
    for row in rows:
        ok = row["testable"] and row["threshold"] and row["effect_size"] is not None
        out[row["run_id"]].append(
            {
                "feature": row["feature"],
                "window": label[row["run_id"]],
                "ratio": row["effect_size"] / row["threshold"] if ok else None,
                "drifted": row["drifted"],
            }
        )
    return out


def model_page(
    user: Any, slug: str, *, version: str | None = None, run_id: str | None = None, heatmap: bool = True
) -> ModelPage:
    """Everything the model page shows; `heatmap=False` skips the feature x window cells (executive view)."""
    model = visible_model(user, slug)
    versions, chosen = chosen_version(model, version, run_id)
    vid = chosen.pk if chosen else None
    runs = recent_runs(model, vid, limit=PICKER_RUNS, narrative=False)
    done = [r for r in runs if r.status == RunStatus.DONE]
    run = pick_run(model, vid, runs, done, run_id)
    charted = list(reversed(scheduled_length(model, done)[:SERIES_RUNS]))
    if run is not None and run.status == RunStatus.DONE and run not in charted:
        charted.append(run)
        charted.sort(key=lambda r: r.window_start)
    summaries = run_summaries(charted)
    windows, cells = heatmap_cells(charted) if heatmap else ([], [])
    serving = serving_of(model)
    span = (charted[0].window_start, charted[-1].window_end) if charted else (None, None)
    open_events, markers = open_events_and_markers(model, *span)
    latest = done[0] if done else None
    health = briefing.health_status(
        summaries.get(latest.pk) if latest else None,
        serving_mode=serving["mode"],
        open_events=open_events,
        task=model.task,
        stale=is_stale(model, latest),
    )
    impact_runs = scheduled_length(model, done)[:IMPACT_RUNS]
    impact_summaries = [summaries.get(r.pk) for r in impact_runs]
    if any(s is None for s in impact_summaries):
        impact_summaries = list(run_summaries(impact_runs).values())
    return ModelPage(
        model=model,
        versions=versions,
        version=chosen,
        runs=runs,
        run=run,
        results=one_run("results", run, analysis_results)
        if run is not None and run.status == RunStatus.DONE
        else {},
        series=[summaries[r.pk] for r in charted],
        cells=cells,
        windows=windows,
        serving=serving,
        health=health,
        impact=briefing.business_impact(
            impact_summaries,  # type: ignore[arg-type]
            values=model_values(model),
            currency=model.currency,
            reference_per_prediction=reference_value_per_prediction(vid),
        ),
        impact_windows=len(impact_runs),
        open_events=open_events,
        open_incidents=open_incidents_by_model([model.pk]).get(model.pk, []),
        events=markers,
        flags=flags_between(model, charted[0].window_start, charted[-1].window_end) if charted else [],
    )


def pick_run(
    model: MonitoredModel,
    vid: int | None,
    runs: list[AnalysisRun],
    done: list[AnalysisRun],
    run_id: str | None,
) -> AnalysisRun | None:
    """The run asked for (also one older than the picker lists), else the latest finished one."""
    if run_id:
        found = next((r for r in runs if str(r.pk) == run_id), None)
        if found is None and run_id.isdigit() and len(run_id) < 19:
            found = (
                AnalysisRun.objects.filter(model=model, version_id=vid, kind=RunKind.ANALYSIS, pk=int(run_id))
                .select_related("version")
                .first()
            )
        if found is None:
            raise NotFound(f"No analysis {run_id[:20]} for this version.")
        if found not in runs:
            runs.append(found)
        return found
    return done[0] if done else (runs[0] if runs else None)


UNITS = {"hourly": "hour", "daily": "day", "weekly": "week"}


def schedule_sentence(model: MonitoredModel) -> str:
    if not model.analysis_enabled:
        return "Scheduled analyses are switched off for this model: an analyst can switch them on."
    unit = UNITS.get(model.analysis_window, model.analysis_window)
    return f"The next analysis runs automatically once the current {unit} is complete."
