"""The weekly model-health report: one version's analysed windows of one ISO week, and the governance
of that week (events, incidents, serving-mode changes, actions in the audit trail).

Reads analysis runs, their summaries and feature verdicts, one window's data-drift section and
governance rows: a fixed number of queries, whatever the number of predictions behind the windows.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count

from drift import briefing, reports
from drift.models import AnalysisResult, AnalysisRun, ModelVersion, MonitoredModel, RunKind, RunStatus
from drift.page_selectors.model import chosen_version, heatmap_cells, visible_model
from drift.page_selectors.portfolio import default_versions, model_values
from drift.page_selectors.summaries import (
    events_between,
    reference_value_per_prediction,
    run_summaries,
    scheduled_length,
    serving_of,
)
from governance.explain_reasons import policy_ids, readable_actor
from governance.models import AuditEntry, DriftEvent, Incident, Policy
from monitoring_site.errors import ApplicationError

MAX_ACTIONS = 100  # audit entries listed (the count covers them all)


@dataclass
class WeeklyReport:
    model: MonitoredModel
    week: reports.Week
    versions: list[ModelVersion]
    version: ModelVersion | None
    runs: list[AnalysisRun]  # the week's finished windows, oldest first
    series: list[dict[str, Any]]
    cells: list[dict[str, Any]]
    windows: list[str]
    performance: dict[str, Any]
    impact: briefing.Impact | None
    drifted: list[tuple[str, int]]
    segments: list[str]
    serving: dict[str, Any]
    story: dict[str, str] = field(default_factory=dict)
    latest_narrative: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)  # markers on the time charts
    events_opened: list[dict[str, Any]] = field(default_factory=list)
    events_closed: list[dict[str, Any]] = field(default_factory=list)
    incidents_opened: list[dict[str, Any]] = field(default_factory=list)
    incidents_resolved: list[dict[str, Any]] = field(default_factory=list)
    mode_changes: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    action_count: int = 0

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.runs)

    @property
    def labelled(self) -> int:
        return sum(r.labelled_rows for r in self.runs)

    @property
    def values(self) -> dict[str, float | None]:
        return model_values(self.model)


def parse_week(value: str | None, now: datetime | None = None) -> reports.Week:
    try:
        return reports.parse_week(value, now)
    except ValueError as exc:
        message = str(exc)
        raise ApplicationError(
            message[:1].upper() + message[1:] + ".", errors=[{"field": "week", "message": message}]
        ) from exc


def _version_for_week(
    model: MonitoredModel, versions: list[ModelVersion], named: ModelVersion | None, week: reports.Week
) -> ModelVersion | None:
    """The version named, else the default one if it was analysed that week, else the most analysed."""
    if named is not None:
        return named
    default = default_versions([model]).get(model.pk)
    counts = dict(
        AnalysisRun.objects.filter(
            model=model,
            kind=RunKind.ANALYSIS,
            status=RunStatus.DONE,
            window_start__gte=week.start,
            window_start__lt=week.end,
        )
        .values("version_id")
        .annotate(n=Count("id"))
        .values_list("version_id", "n")
    )
    if (default is not None and counts.get(default.pk)) or not counts:
        return default
    best = max(counts, key=lambda vid: counts[vid])
    return next((v for v in versions if v.pk == best), default)


def _week_runs(model: MonitoredModel, version: ModelVersion | None, week: reports.Week) -> list[AnalysisRun]:
    if version is None:
        return []
    runs = (
        AnalysisRun.objects.filter(
            model=model,
            version=version,
            kind=RunKind.ANALYSIS,
            status=RunStatus.DONE,
            window_start__gte=week.start,
            window_start__lt=week.end,
        )
        .defer("narrative")
        .order_by("window_start", "id")
    )
    return scheduled_length(model, runs)


def _governance(model: MonitoredModel, week: reports.Week) -> dict[str, Any]:
    start, end = week.start, week.end
    events = DriftEvent.objects.filter(model=model, drill__isnull=True)
    fields = ("id", "title", "severity", "status", "detected_at", "closed_at")
    incidents = Incident.objects.filter(model=model)
    ifields = ("id", "title", "severity", "status", "opened_at", "resolved_at")
    audit = AuditEntry.objects.filter(model=model, at__gte=start, at__lt=end)
    changes = [
        {
            "at": a.at,
            "from": (a.before or {}).get("mode"),
            "to": (a.after or {}).get("mode"),
            "reason": a.reason,
            "actor": a.actor,
        }
        for a in audit.filter(action="serving_mode.change").order_by("at", "id")
    ]
    actions = list(
        audit.order_by("at", "id").values("at", "actor", "action", "object_type", "reason")[:MAX_ACTIONS]
    )
    # Policies act as 'policy:<id>': readers get their names, looked up in one query.
    ids = policy_ids(a["actor"] for a in [*actions, *changes])
    names = dict(Policy.objects.filter(pk__in=ids).values_list("id", "name")) if ids else {}
    for row in [*actions, *changes]:
        row["actor"] = readable_actor(row["actor"], names)
    return {
        "events_opened": list(
            events.filter(detected_at__gte=start, detected_at__lt=end).order_by("detected_at").values(*fields)
        ),
        "events_closed": list(
            events.filter(closed_at__gte=start, closed_at__lt=end).order_by("closed_at").values(*fields)
        ),
        "incidents_opened": list(
            incidents.filter(opened_at__gte=start, opened_at__lt=end).order_by("opened_at").values(*ifields)
        ),
        "incidents_resolved": list(
            incidents.filter(resolved_at__gte=start, resolved_at__lt=end)
            .order_by("resolved_at")
            .values(*ifields)
        ),
        "mode_changes": changes,
        "actions": actions,
        "action_count": audit.count() if len(actions) == MAX_ACTIONS else len(actions),
    }


def _peak_drift(runs: list[AnalysisRun], series: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The data-drift section of the week's most changed window (its segments say where it sat)."""
    shares = [(s.get("data_drift") or {}).get("share_drifted") or 0.0 for s in series]
    top = max(zip(shares, (r.pk for r in runs), strict=True), default=(0.0, None))
    if not top[0]:
        return None
    return (
        AnalysisResult.objects.filter(run_id=top[1], section="data_drift")
        .values_list("data", flat=True)
        .first()
    )


def weekly_report(
    user: Any, slug: str, *, week: str | None = None, version: str | None = None, now: datetime | None = None
) -> WeeklyReport:
    """The report of one week (default: the last complete one). Bad weeks raise ApplicationError (400)."""
    model = visible_model(user, slug)
    wk = parse_week(week, now)
    versions, named = chosen_version(model, version)
    chosen = _version_for_week(model, versions, named if version else None, wk)
    runs = _week_runs(model, chosen, wk)
    summaries = run_summaries(runs)
    series = [summaries[r.pk] for r in runs]
    windows, cells = heatmap_cells(runs)
    key, _, _ = briefing.primary_metric(model.task)
    gov = _governance(model, wk)
    drifted = reports.drifted_features(cells)
    segments = reports.segment_findings(_peak_drift(runs, series))
    impact = briefing.business_impact(
        series,
        values=model_values(model),
        currency=model.currency,
        reference_per_prediction=reference_value_per_prediction(chosen.pk if chosen else None),
    )
    perf = reports.performance_rollup(series, key)
    serving = serving_of(model)
    rows = sum(r.rows for r in runs)
    story = {
        "what_changed": reports.what_changed(
            windows=len(runs),
            drifted=drifted,
            segments=segments,
            concept_windows=sum(1 for s in series if (s.get("concept_drift") or {}).get("drifted")),
            quality_windows=sum(1 for s in series if (s.get("data_quality") or {}).get("alerts")),
        ),
        "why_it_matters": reports.why_it_matters(
            perf=perf, task=model.task, impact=impact, rows=rows, kpi=model.business_kpi
        ),
        "what_happened": reports.what_happened(
            events_opened=gov["events_opened"],
            events_closed=gov["events_closed"],
            incidents_opened=gov["incidents_opened"],
            incidents_resolved=gov["incidents_resolved"],
            mode_changes=gov["mode_changes"],
            actions=gov["action_count"],
            serving_mode=serving["mode"],
        ),
    }
    latest = (
        AnalysisRun.objects.filter(pk=runs[-1].pk).values_list("narrative", flat=True).first() if runs else ""
    )
    return WeeklyReport(
        model=model,
        week=wk,
        versions=versions,
        version=chosen,
        runs=runs,
        series=series,
        cells=cells,
        windows=windows,
        performance=perf,
        impact=impact,
        drifted=drifted,
        segments=segments,
        serving=serving,
        story=story,
        latest_narrative=latest or "",
        events=events_between(model, wk.start, wk.end),
        **gov,
    )
