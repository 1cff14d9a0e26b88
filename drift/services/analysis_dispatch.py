"""The periodic dispatcher and the rolling holdout: which runs exist and when they are handed out.

`analyses_dispatch` (beat, every 5 minutes) compacts complete hours, creates the pending run of each
complete window with data of every enabled model's production and canary versions (unique per window,
so concurrent or repeated dispatches create nothing twice) and enqueues the due runs; executing a run
already claimed or finished is a no-op. `holdout_evaluate` (beat, daily) evaluates performance on the
last N days of labelled predictions.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from drift.engine.windows import GRACE, complete_windows, floor_hour
from drift.models import (
    AnalysisRun,
    LabelFragment,
    ModelVersion,
    MonitoredModel,
    ProfileFragment,
    RunKind,
    RunStatus,
    Stage,
)
from drift.services.analyses import STUCK_AFTER, enqueue_runs
from drift.services.fragments import fragments_compact

# A pending run whose message was lost is enqueued again after this long.
REQUEUE_AFTER = timedelta(minutes=30)
LOOKBACK = {"hourly": timedelta(hours=48), "daily": timedelta(days=31), "weekly": timedelta(weeks=8)}
HOLDOUT_DAYS = 30
DISPATCHED_STAGES = (Stage.PRODUCTION, Stage.CANARY)


def _hours_with_data(version: ModelVersion, since: datetime, until: datetime) -> set[datetime]:
    return set(
        ProfileFragment.objects.filter(version=version, hour__gte=since, hour__lt=until, is_drill=False)
        .values_list("hour", flat=True)
        .distinct()
    )


def analyses_dispatch(*, now: datetime | None = None) -> int:
    """Create the pending runs of complete windows with data, then enqueue every run that is due.

    Safe to run concurrently and repeatedly: runs are created with ignore_conflicts on their unique
    window, and executing an already claimed or finished run is a no-op.
    """
    now = now or timezone.now()
    models = MonitoredModel.objects.filter(analysis_enabled=True)
    versions = ModelVersion.objects.filter(model__in=models, stage__in=DISPATCHED_STAGES).select_related(
        "model"
    )
    for version in versions:
        kind = version.model.analysis_window
        fragments_compact(version=version, start=now - LOOKBACK[kind], end=floor_hour(now - GRACE))
        hours = _hours_with_data(version, now - LOOKBACK[kind], now)
        windows = complete_windows(kind, hours, now=now)
        if not windows:
            continue
        existing = set(
            AnalysisRun.objects.filter(
                version=version, kind=RunKind.ANALYSIS, window_start__gte=windows[0][0]
            ).values_list("window_start", "window_end")
        )
        AnalysisRun.objects.bulk_create(
            [
                AnalysisRun(model=version.model, version=version, window_start=s, window_end=e)
                for s, e in windows
                if (s, e) not in existing
            ],
            ignore_conflicts=True,
        )
    # A reference uploaded since a run found none: those runs can go now.
    waiting = AnalysisRun.objects.filter(status=RunStatus.NEEDS_REFERENCE, version__reference__isnull=False)
    waiting.filter(finished_at__lt=F("version__reference__created_at")).update(
        status=RunStatus.PENDING, enqueued_at=None
    )
    due = AnalysisRun.objects.filter(
        Q(status=RunStatus.PENDING, enqueued_at__isnull=True)
        | Q(status=RunStatus.PENDING, enqueued_at__lt=now - REQUEUE_AFTER)
        | Q(status=RunStatus.RUNNING, started_at__lt=now - STUCK_AFTER)
    )
    ids = list(due.values_list("pk", flat=True)[:1000])
    with transaction.atomic():
        enqueue_runs(ids)
    return len(ids)


def holdout_evaluate(*, now: datetime | None = None, days: int | None = None) -> list[int]:
    """Create and enqueue today's rolling holdout run (the last `days` days of labelled predictions)
    for each enabled model's production versions that have labels."""
    now = now or timezone.now()
    days = days or settings.DRIFTWATCH.get("HOLDOUT_DAYS", HOLDOUT_DAYS)
    end = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    versions = ModelVersion.objects.filter(model__analysis_enabled=True, stage=Stage.PRODUCTION)
    created = []
    for version in versions.select_related("model"):
        labelled = LabelFragment.objects.filter(
            version=version, hour__gte=start, hour__lt=end, is_drill=False
        )
        if not labelled.exists():
            continue
        run, new = AnalysisRun.objects.get_or_create(
            version=version,
            kind=RunKind.HOLDOUT,
            window_start=start,
            window_end=end,
            defaults={"model": version.model},
        )
        if new:
            created.append(run.pk)
    with transaction.atomic():
        enqueue_runs(created)
    return created
