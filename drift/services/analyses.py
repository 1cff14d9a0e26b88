"""Analysis runs: request, claim, execute, store (the dispatcher is `drift.services.analysis_dispatch`).

One run per (version, kind, window), enforced by a unique constraint: the dispatcher and manual requests
get-or-create it, re-running a finished window resets the same row, and its results are replaced whole.
A worker claims a run with a conditional UPDATE (pending → running), so two workers never run the same
one; results are stored only by the worker whose claim is still current.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from drift.engine.context import ERROR, LABEL_SECTIONS, NO_DATA, SECTIONS
from drift.engine.run import analyse, empty_results
from drift.engine.windows import ceil_hour, floor_hour
from drift.models import (
    AnalysisResult,
    AnalysisRun,
    FeatureResult,
    ModelVersion,
    MonitoredModel,
    ReferenceDataset,
    ReferenceProfile,
    RunKind,
    RunStatus,
    RunTrigger,
    Stage,
)
from drift.models.analysis import FINISHED_STATUSES
from drift.narratives import narrate
from drift.services.analysis_inputs import load
from drift.services.thresholds import thresholds_feed
from monitoring_site.broker import send, send_each, send_on_commit
from monitoring_site.errors import ApplicationError

log = logging.getLogger(__name__)

MAX_WINDOW = timedelta(days=92)
# A running run whose worker vanished is claimable again after this long.
STUCK_AFTER = timedelta(hours=1)
# A redelivered task message (its worker died) takes over a running run only while the run has had
# fewer attempts than this: a run longer than the broker's visibility timeout, redelivered while its
# worker still works on it, is not restarted over and over (the takeover's results win; see _store).
MAX_TAKEOVER_ATTEMPTS = 3
# Queued runs of one version ask for a profile rebuild at most this often.
REBUILD_EVERY = timedelta(minutes=15)


def _when(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC")


def enqueue_runs(run_ids: list[int]) -> None:
    """Send the runs to the workers once the current transaction commits (and note when)."""
    from drift.tasks import analysis_execute as task

    if run_ids:
        AnalysisRun.objects.filter(pk__in=run_ids).update(enqueued_at=timezone.now())
        transaction.on_commit(lambda: _send_runs(task, run_ids))


def _send_runs(task: Any, run_ids: list[int]) -> None:
    unsent = send_each(task, run_ids)
    if unsent:
        # The broker is down: the runs stay pending and the dispatcher's next beat sends them.
        AnalysisRun.objects.filter(pk__in=unsent, status=RunStatus.PENDING).update(enqueued_at=None)


def no_reference_reason(version: ModelVersion) -> str:
    slug = version.model.slug
    return (
        f"Version '{version.version}' of '{slug}' has no reference dataset, so there is nothing to compare "
        f"against. Upload one (POST /api/v1/models/{slug}/versions/{version.version}/reference/)."
    )


def default_version(model: MonitoredModel) -> ModelVersion:
    """The newest production version, else the newest canary, else the newest version."""
    versions = model.versions.order_by("-created_at", "-id")
    for stage in (Stage.PRODUCTION, Stage.CANARY):
        found = versions.filter(stage=stage).first()
        if found:
            return found
    found = versions.first()
    if found is None:
        raise ApplicationError(
            f"Model '{model.slug}' has no versions to analyse.",
            errors=[{"field": "version", "message": "the model has no versions"}],
        )
    return found


def analysis_request(
    *,
    model: MonitoredModel,
    window_start: datetime,
    window_end: datetime,
    version: ModelVersion | None = None,
    requested_by: Any = None,
    enqueue: bool = True,
    drill: bool = False,
    trigger: str = RunTrigger.MANUAL,
) -> AnalysisRun:
    """Analyse one window now (whole hours: fragments are hourly). Re-requesting a finished window
    re-runs it in place; a window already pending or running is returned as it is. `enqueue=False`
    leaves the run pending for the caller to execute in-process (the `analyze` command). `drill=True`
    analyses the window's drill telemetry instead, as a run of its own kind (governance drills).
    `trigger` records who asked: a person (manual, the default) or the schedule (the dispatcher and
    backfills of scheduled windows)."""
    if trigger not in RunTrigger.values:
        raise ApplicationError(
            f"Unknown trigger '{trigger}'.",
            errors=[{"field": "trigger", "message": f"one of {', '.join(RunTrigger.values)}"}],
        )
    start, end = floor_hour(window_start), ceil_hour(window_end)
    if end <= start:
        raise ApplicationError(
            "window_end must be after window_start.",
            errors=[{"field": "window_end", "message": "must be after window_start"}],
        )
    if end - start > MAX_WINDOW:
        raise ApplicationError(
            f"A window spans at most {MAX_WINDOW.days} days.",
            errors=[{"field": "window_end", "message": f"at most {MAX_WINDOW.days} days"}],
        )
    version = version or default_version(model)
    if not ReferenceDataset.objects.filter(version=version).exists():
        raise ApplicationError(
            no_reference_reason(version), errors=[{"field": "version", "message": "no reference dataset"}]
        )
    user = requested_by if getattr(requested_by, "pk", None) else None
    with transaction.atomic():
        run, created = AnalysisRun.objects.get_or_create(
            version=version,
            kind=RunKind.DRILL if drill else RunKind.ANALYSIS,
            window_start=start,
            window_end=end,
            defaults={"model": model, "trigger": trigger, "requested_by": user},
        )
        reset = not created and AnalysisRun.objects.filter(pk=run.pk, status__in=FINISHED_STATUSES).update(
            status=RunStatus.PENDING, reason="", trigger=trigger, requested_by=user
        )
        if (created or reset) and enqueue:
            enqueue_runs([run.pk])
    run.refresh_from_db()
    return run


def _claim(run_id: int, now: datetime, takeover: bool = False) -> bool:
    stuck = Q(status=RunStatus.RUNNING, started_at__lt=now - STUCK_AFTER)
    if takeover:
        stuck |= Q(status=RunStatus.RUNNING, attempts__lt=MAX_TAKEOVER_ATTEMPTS)
    return (
        AnalysisRun.objects.filter(Q(status=RunStatus.PENDING) | stuck, pk=run_id).update(
            status=RunStatus.RUNNING, started_at=now, finished_at=None, attempts=F("attempts") + 1
        )
        == 1
    )


def _store(
    run: AnalysisRun,
    started: datetime,
    status: str,
    reason: str,
    results: dict[str, dict[str, Any]],
    *,
    narrative: str = "",
    rows: int = 0,
    labelled: int = 0,
    digest: str = "",
) -> bool:
    """Replace the run's results, if our claim is still the current one (else another worker owns it)."""
    with transaction.atomic():
        owned = AnalysisRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, started_at=started).update(
            status=status,
            reason=reason,
            narrative=narrative or reason,
            rows=rows,
            labelled_rows=labelled,
            reference_digest=digest,
            finished_at=timezone.now(),
        )
        if owned != 1:
            return False
        AnalysisResult.objects.filter(run=run).delete()
        FeatureResult.objects.filter(run=run).delete()
        AnalysisResult.objects.bulk_create(
            [
                AnalysisResult(
                    run=run, section=name, status=data["status"], reason=data.get("reason") or "", data=data
                )
                for name, data in results.items()
            ]
        )
        features = results.get("data_drift", {}).get("features", [])
        FeatureResult.objects.bulk_create(
            [
                FeatureResult(
                    run=run,
                    feature=f["feature"],
                    mode=f["mode"],
                    method=f["method"],
                    statistic=f["statistic"],
                    p_value=f["p_value"],
                    effect_method=f["effect_method"],
                    effect_size=f["effect_size"],
                    threshold=f["threshold"],
                    drifted=f["drifted"],
                    testable=f["testable"],
                    n_current=f["n_current"],
                    reason=f.get("explanation") or f.get("reason") or "",
                )
                for f in features
            ]
        )
        # Passing windows feed the thresholds once per window, not on every re-run; drills never do.
        if (
            status == RunStatus.DONE
            and run.kind != RunKind.DRILL
            and features
            and AnalysisRun.objects.filter(pk=run.pk, thresholds_fed=False).update(thresholds_fed=True)
        ):
            thresholds_feed(version=run.version, reference_digest=digest, features=features)
    return True


def _requeue_for_rebuild(run: AnalysisRun, started: datetime, stale: int) -> None:
    reason = (
        f"{stale:,} rows of this window are being re-profiled for the current reference; the run "
        "waits for them and is retried automatically."
    )
    AnalysisRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, started_at=started).update(
        status=RunStatus.PENDING, reason=reason, enqueued_at=None
    )


def _execute(run: AnalysisRun, started: datetime, progress: Callable[[str], None] | None) -> None:
    from drift.tasks import profiles_rebuild_task

    dataset = ReferenceDataset.objects.filter(version=run.version).first()
    if dataset is None or not dataset.profile_spec:
        reason = no_reference_reason(run.version)
        _store(run, started, RunStatus.NEEDS_REFERENCE, reason, empty_results(ERROR, reason))
        return
    holdout = run.kind == RunKind.HOLDOUT
    loaded = load(run, dataset, with_profile=not holdout)
    inp = loaded.inp
    if inp.stale_rows:
        asked = ReferenceProfile.objects.filter(reference=dataset).filter(
            Q(rebuild_requested_at__isnull=True) | Q(rebuild_requested_at__lt=timezone.now() - REBUILD_EVERY)
        )
        if asked.update(rebuild_requested_at=timezone.now()):
            send(profiles_rebuild_task, run.version_id)  # eager mode rebuilds here and now
            loaded = load(run, dataset, with_profile=not holdout)
            inp = loaded.inp
        if inp.stale_rows and not inp.current.get("n"):
            _requeue_for_rebuild(run, started, inp.stale_rows)
            return
    labelled = int((inp.labels or {}).get("n", 0))
    rows = int(inp.current.get("n", 0))
    empty = labelled == 0 if holdout else rows == 0
    if empty:
        what = "labelled predictions" if holdout else "predictions"
        reason = (
            f"No {what} of version '{run.version.version}' between {_when(run.window_start)} and "
            f"{_when(run.window_end)}."
        )
        _store(
            run,
            started,
            RunStatus.NO_DATA,
            reason,
            empty_results(NO_DATA, reason),
            digest=loaded.reference_digest,
        )
        return
    results = analyse(
        inp,
        sections=LABEL_SECTIONS if holdout else SECTIONS,
        skip_reason="A holdout evaluation measures performance on labelled data only.",
        progress=progress,
    )
    _store(
        run,
        started,
        RunStatus.DONE,
        "",
        results,
        narrative=narrate(results),
        rows=rows,
        labelled=labelled,
        digest=loaded.reference_digest,
    )


def analysis_execute(
    *, run_id: int, progress: Callable[[str], None] | None = None, takeover: bool = False
) -> AnalysisRun | None:
    """Claim and run one analysis; None when another worker has it or it is already finished.
    `takeover`: the caller knows the run's previous worker is gone (a redelivered task message), so a
    run still marked running is claimed too."""
    started = timezone.now()
    if not _claim(run_id, started, takeover):
        return None
    run = AnalysisRun.objects.select_related("model", "version", "version__model").get(pk=run_id)
    try:
        _execute(run, started, progress)
    except Exception as exc:  # a run-level failure is recorded on the run, never lost in a log only
        log.exception("analysis %s failed", run_id)
        reason = f"The analysis failed unexpectedly ({type(exc).__name__}: {exc})."
        _store(run, started, RunStatus.FAILED, reason, empty_results(ERROR, reason))
    run.refresh_from_db()
    if run.status == RunStatus.DONE:
        # Policies act on every finished analysis (governance: events, serving gate, incidents).
        from governance.tasks import policies_evaluate_task

        send_on_commit(policies_evaluate_task, run.pk)
    return run


def analysis_schedule_update(*, model: MonitoredModel, **changes: Any) -> MonitoredModel:
    """Change the model's analysis settings (analysis_window, analysis_enabled, fairness_four_fifths)."""
    allowed = {"analysis_window", "analysis_enabled", "fairness_four_fifths"}
    fields = [name for name in changes if name in allowed]
    for name in fields:
        setattr(model, name, changes[name])
    if fields:
        model.save(update_fields=[*fields, "updated_at"])
    return model
