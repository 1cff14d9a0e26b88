"""Slim per-run summaries and governance state, read in a fixed number of queries whatever the volume.

A summary holds the few keys of each section the pages need, extracted by the database from the stored
JSON (`KeyTransform`), so a page that charts 30 windows never decodes 30 full drift sections.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from drift.engine.windows import LENGTHS
from drift.models import AnalysisResult, AnalysisRun, MonitoredModel, ReferenceProfile, RunKind, RunStatus
from drift.page_selectors.run_cache import per_run
from governance.models import CLOSED_STATUSES, DriftEvent, Incident, IncidentStatus, ServingMode

# section → the keys (JSON paths, "a__b" for nested) its summary keeps.
SUMMARY_KEYS: dict[str, tuple[str, ...]] = {
    "data_drift": ("share_drifted", "drifted_features", "multivariate__drifted"),
    "data_quality": ("alerts", "late__observed", "refused__observed"),
    "performance": ("metrics", "degraded", "coverage", "business", "labelled"),
    "estimated_performance": ("metrics", "degraded", "expected_confusion"),
    "operations": (
        "errors__status",
        "latency_ms",
        "error_rate",
        "volume",
        "health__queue_depth_avg",
        "health__queue_depth_max",
    ),
    "fairness": ("flags",),
    # The technical view's concept-drift chart (drift.charts.concept.concept_points).
    "concept_drift": (
        "drifted",
        "error_rate",
        "reference_error_rate",
        "rows",
        "drifted_features",
        "conditional__score__effect",
        "detectors__adwin__drifts",
        "min_effect",
        "tests_fired",
        "conditional__score__moved",
    ),
}


def _path(key: str) -> KeyTransform:
    expr: Any = "data"
    for part in key.split("__"):
        expr = KeyTransform(part, expr)
    return expr


def _alias(key: str) -> str:
    return "k_" + key


def run_summaries(runs: Sequence[AnalysisRun]) -> dict[int, dict[str, Any]]:
    """`{run id: {"run_id", "window_start", "rows", …, section: {"status", "reason", keys…}}}`: one query
    for the runs not in the page cache yet (`run_cache`: finished runs never change)."""
    return per_run("summary", runs, _summaries)


def _summaries(runs: Sequence[AnalysisRun]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {
        r.pk: {
            "run_id": r.pk,
            "window_start": r.window_start.isoformat(),
            "window_end": r.window_end.isoformat(),
            "rows": r.rows,
            "labelled": r.labelled_rows,
        }
        for r in runs
    }
    if not out:
        return out
    keys = sorted({k for ks in SUMMARY_KEYS.values() for k in (*ks, "reason")})
    rows = (
        AnalysisResult.objects.filter(run_id__in=list(out), section__in=list(SUMMARY_KEYS))
        .annotate(**{_alias(k): _path(k) for k in keys})
        .values("run_id", "section", "status", *(_alias(k) for k in keys))
    )
    for row in rows:
        part: dict[str, Any] = {"status": row["status"], "reason": row[_alias("reason")] or ""}
        for key in SUMMARY_KEYS[row["section"]]:
            part[key.replace("__", "_")] = row[_alias(key)]
        out[row["run_id"]][row["section"]] = part
    return out


def recent_runs(
    model: MonitoredModel,
    version_id: int | None,
    *,
    limit: int,
    done_only: bool = False,
    narrative: bool = True,
) -> list[AnalysisRun]:
    """The version's latest window analyses, newest first (`narrative=False` leaves the long text out)."""
    if version_id is None:
        return []
    qs = AnalysisRun.objects.filter(model=model, version_id=version_id, kind=RunKind.ANALYSIS)
    if done_only:
        qs = qs.filter(status=RunStatus.DONE)
    if not narrative:
        qs = qs.defer("narrative")
    return list(qs.select_related("version").order_by("-window_start", "-id")[:limit])


def scheduled_length(model: MonitoredModel, runs: Iterable[AnalysisRun]) -> list[AnalysisRun]:
    """Runs whose window has the model's scheduled length (a series compares like with like); all runs
    when none has it (only manual windows so far)."""
    runs = list(runs)
    length = LENGTHS.get(model.analysis_window)
    same = [r for r in runs if r.window_end - r.window_start == length]
    return same or runs


def is_stale(model: MonitoredModel, run: AnalysisRun | None, now: datetime | None = None) -> bool:
    """True when the latest finished window ended more than three scheduled windows (or a day) ago."""
    if run is None:
        return True
    length = LENGTHS.get(model.analysis_window, LENGTHS["daily"])
    return (now or timezone.now()) - run.window_end > max(3 * length, LENGTHS["daily"])


def reference_value_per_prediction(version_id: int | None) -> float | None:
    """What one prediction was worth on the reference (from its labelled summary), if known."""
    if version_id is None:
        return None
    found = (
        ReferenceProfile.objects.filter(reference__version_id=version_id)
        .annotate(v=KeyTransform("per_prediction", KeyTransform("business", "labelled")))
        .values_list("v", flat=True)
        .first()
    )
    return float(found) if isinstance(found, int | float) else None


# --- governance: serving state, open events and incidents (degrade to "normal" / none without rows) ---


def serving_of(model: MonitoredModel) -> dict[str, Any]:
    """`{mode, reason, since}` from the model's serving state (select_related it first to save a query)."""
    state = getattr(model, "serving_state", None) if _has_state(model) else None
    if state is None:
        return {"mode": ServingMode.NORMAL.value, "reason": "", "since": None}
    return {"mode": state.mode, "reason": state.reason, "since": state.since}


def _has_state(model: MonitoredModel) -> bool:
    try:
        model.serving_state  # noqa: B018 - touching the relation tells whether the row exists
    except Exception:  # RelatedObjectDoesNotExist
        return False
    return True


def open_events_by_model(model_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    rows = (
        DriftEvent.objects.filter(model_id__in=list(model_ids), drill__isnull=True)  # drills stay off pages
        .exclude(status__in=CLOSED_STATUSES)
        .order_by("-detected_at", "-id")
        .values("id", "model_id", "title", "severity", "status", "detected_at")
    )
    for row in rows:
        out.setdefault(row["model_id"], []).append(row)
    return out


def open_incidents_by_model(model_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    rows = (
        Incident.objects.filter(model_id__in=list(model_ids))
        .exclude(status=IncidentStatus.RESOLVED)
        .order_by("-opened_at", "-id")
        .values("id", "model_id", "title", "severity", "status", "opened_at")
    )
    for row in rows:
        out.setdefault(row["model_id"], []).append(row)
    return out


def open_events_and_markers(
    model: MonitoredModel, start: datetime | None, end: datetime | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`open_events_by_model` and `events_between` of one model in one query (the model page asks for
    both): open events newest first, and events detected in [start, end) oldest first (the newest 200)."""
    wanted = ~Q(status__in=CLOSED_STATUSES)
    if start is not None and end is not None:
        wanted |= Q(detected_at__gte=start, detected_at__lt=end)
    rows = list(
        DriftEvent.objects.filter(wanted, model=model, drill__isnull=True)
        .order_by("-detected_at", "-id")
        .values("id", "model_id", "title", "severity", "status", "detected_at")
    )
    opened = [r for r in rows if r["status"] not in CLOSED_STATUSES]
    charted = [] if start is None or end is None else [r for r in rows if start <= r["detected_at"] < end]
    markers = [
        {k: v for k, v in r.items() if k != "model_id"} | {"at": r["detected_at"].isoformat()}
        for r in reversed(charted[:200])
    ]
    return opened, markers


def events_between(model: MonitoredModel, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Events detected in [start, end), oldest first: markers on the time charts."""
    rows = (
        DriftEvent.objects.filter(model=model, drill__isnull=True)
        .filter(Q(detected_at__gte=start) & Q(detected_at__lt=end))
        .order_by("detected_at", "id")
        .values("id", "title", "severity", "status", "detected_at")[:200]
    )
    return [{**r, "at": r["detected_at"].isoformat()} for r in rows]
