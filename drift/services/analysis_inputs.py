"""Everything an analysis reads, gathered into a `drift.engine.context.WindowInput`.

Merged profile and label fragments of the window (never raw prediction rows), the reference's cached
profile, earlier comparable runs' results for control limits, and two database aggregates (ingestion
batches, health samples).
"""

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, Max, Q, Sum
from django.utils import timezone

from drift.engine.context import FeatureInfo, ModelInfo, WindowInput
from drift.engine.label_sketch import WINDOW_SAMPLE, merge_label_sketches
from drift.engine.windows import GRACE, floor_hour
from drift.models import (
    AnalysisResult,
    AnalysisRun,
    BatchKind,
    FeatureSpec,
    HealthSample,
    IngestionBatch,
    LabelFragment,
    ModelVersion,
    MonitoredModel,
    ProfileFragment,
    ReferenceDataset,
    RunKind,
    RunStatus,
)
from drift.profiles import ProfileSpec, merge_sketches
from drift.services.fragments import fragments_compact, merge_fragments
from drift.services.reference_profiles import reference_profile_for
from drift.services.thresholds import CachedThresholds
from drift.stats.univariate import SAMPLE_LIMIT

HISTORY_WINDOWS = 28


@dataclass(frozen=True)
class Loaded:
    inp: WindowInput
    reference_digest: str
    thresholds: CachedThresholds


def model_info(model: MonitoredModel) -> ModelInfo:
    return ModelInfo(
        task=model.task,
        positive_label=model.positive_label,
        four_fifths=model.fairness_four_fifths,
        values={"tp": model.value_tp, "fp": model.value_fp, "tn": model.value_tn, "fn": model.value_fn},
        currency=model.currency,
        cost_per_unit_error=model.cost_per_unit_error,
    )


def features_of(version: ModelVersion, spec: ProfileSpec) -> tuple[FeatureInfo, ...]:
    """The schema's features that have bins in the spec (dropped PII never does), in schema order."""
    in_spec = {b.name for b in spec.features}
    rows = (
        FeatureSpec.objects.filter(version=version).order_by("position").values_list("name", "type", "role")
    )
    return tuple(FeatureInfo(name, kind, role) for name, kind, role in rows if name in in_spec)


def window_profile(
    version: ModelVersion, start: datetime, end: datetime, digest: str, seed: int, *, is_drill: bool = False
) -> tuple[dict[str, Any], int]:
    """(merged sketch of the fragments made with the current bins, rows in fragments with other bins).
    Real analyses read real fragments only, drill analyses drill fragments only."""
    fragments = ProfileFragment.objects.filter(
        version=version, hour__gte=start, hour__lt=end, is_drill=is_drill
    )
    stale = fragments.exclude(spec_digest=digest).aggregate(rows=Sum("rows"))["rows"] or 0
    merged, _ = merge_fragments(fragments.filter(spec_digest=digest), merge_sketches, SAMPLE_LIMIT, seed)
    return merged or {"n": 0, "features": {}, "errors": 0, "late": 0}, int(stale)


def window_labels(
    version: ModelVersion, start: datetime, end: datetime, seed: int, *, is_drill: bool = False
) -> dict[str, Any]:
    fragments = LabelFragment.objects.filter(
        version=version, hour__gte=start, hour__lt=end, is_drill=is_drill
    )
    merged, _ = merge_fragments(fragments, merge_label_sketches, WINDOW_SAMPLE, seed)
    return merged or {"n": 0}


def history(run: AnalysisRun) -> list[dict[str, Any]]:
    """Results of earlier done runs of the same version, kind and window length (same hour of day for
    hourly windows, whose traffic follows the day), oldest first. A drill run is judged against the
    real analyses' history, as the window after them would be."""
    length = run.window_end - run.window_start
    kind = RunKind.ANALYSIS if run.kind == RunKind.DRILL else run.kind
    earlier = (
        AnalysisRun.objects.filter(
            version=run.version, kind=kind, status=RunStatus.DONE, window_end__lte=run.window_start
        )
        .order_by("-window_start")
        .values_list("pk", "window_start", "window_end")[: HISTORY_WINDOWS * 24]
    )
    picked = [
        pk
        for pk, start, end in earlier
        if end - start == length and (length != timedelta(hours=1) or start.hour == run.window_start.hour)
    ][:HISTORY_WINDOWS]
    by_run: dict[int, dict[str, Any]] = {pk: {} for pk in picked}
    rows = AnalysisResult.objects.filter(run_id__in=picked, section__in=("data_quality", "operations"))
    for run_id, section, data in rows.values_list("run_id", "section", "data"):
        by_run[run_id][section] = data
    return [by_run[pk] for pk in reversed(picked)]


def batch_totals(
    model: MonitoredModel, version: ModelVersion, start: datetime, end: datetime, *, is_drill: bool = False
) -> dict[str, int]:
    """Prediction records received in the window: accepted vs refused (batches refused before their
    version was known count for every version of the model). Drill batches count for drills only."""
    totals = IngestionBatch.objects.filter(
        Q(version=version) | Q(version__isnull=True),
        model=model,
        kind=BatchKind.PREDICTIONS,
        is_drill=is_drill,
        received_at__gte=start,
        received_at__lt=end,
    ).aggregate(accepted=Sum("accepted"), rejected=Sum("rejected"), batches=Count("id"))
    return {key: int(value or 0) for key, value in totals.items()}


def health(model: MonitoredModel, start: datetime, end: datetime) -> dict[str, Any]:
    return dict(
        HealthSample.objects.filter(model=model, timestamp__gte=start, timestamp__lt=end).aggregate(
            samples=Count("id"),
            queue_depth_avg=Avg("queue_depth"),
            queue_depth_max=Max("queue_depth"),
            request_count=Sum("request_count"),
            error_count=Sum("error_count"),
            cpu_avg=Avg("cpu"),
            cpu_max=Max("cpu"),
            memory_avg=Avg("memory"),
            memory_max=Max("memory"),
        )
    )


def load(run: AnalysisRun, dataset: ReferenceDataset, *, with_profile: bool = True) -> Loaded:
    """The run's `WindowInput`. `with_profile=False` (holdout runs) reads label fragments only."""
    spec = ProfileSpec.from_json(dataset.profile_spec)
    info = model_info(run.model)
    profile = reference_profile_for(dataset=dataset, spec=spec, model=info)
    seed = zlib.crc32(f"{run.version_id}:{run.window_start.isoformat()}".encode())
    drill = run.kind == RunKind.DRILL
    # Complete hours with many fragments are merged once and stored, so later runs read one per hour.
    complete = min(run.window_end, floor_hour(timezone.now() - GRACE))
    fragments_compact(version=run.version, start=run.window_start, end=complete)
    current, stale = (
        window_profile(run.version, run.window_start, run.window_end, spec.digest, seed, is_drill=drill)
        if with_profile
        else ({"n": 0, "features": {}}, 0)
    )
    digest = dataset.digest[:16]
    thresholds = CachedThresholds(run.version, digest)
    inp = WindowInput(
        spec=spec,
        features=features_of(run.version, spec),
        model=info,
        current=current,
        reference=profile.sketch,
        reference_labels=profile.labelled,
        labels=window_labels(run.version, run.window_start, run.window_end, seed, is_drill=drill),
        history=history(run),
        batches=batch_totals(run.model, run.version, run.window_start, run.window_end, is_drill=drill),
        health=health(run.model, run.window_start, run.window_end),
        stale_rows=stale,
        window_start=run.window_start,
        window_end=run.window_end,
        thresholds=thresholds,
        seed=seed % 2**31,
    )
    return Loaded(inp, digest, thresholds)
