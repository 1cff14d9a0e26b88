"""Celery tasks: thin interfaces that take ids and call a service."""

from celery import Task, shared_task


@shared_task(acks_late=True)
def profiles_rebuild_task(version_id: int) -> int:
    from drift.models import ModelVersion
    from drift.services.profiles import profiles_rebuild

    version = ModelVersion.objects.filter(pk=version_id).first()
    return profiles_rebuild(version=version) if version else 0


@shared_task(acks_late=True)
def labels_rebuild_task(version_id: int) -> int:
    from drift.models import ModelVersion
    from drift.services.labels import labels_rebuild

    version = ModelVersion.objects.filter(pk=version_id).first()
    return labels_rebuild(version=version) if version else 0


@shared_task(bind=True, acks_late=True)
def analysis_execute(self: Task, run_id: int) -> str:
    """Run one analysis; a run already claimed or finished is skipped (the claim is a conditional UPDATE).

    A redelivered message was taken by a worker that died before acknowledging it (killed, out of
    memory, its machine gone): the run that worker left "running" is taken over now, not after the
    dispatcher's STUCK_AFTER."""
    from drift.services.analyses import analysis_execute as execute

    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    run = execute(run_id=run_id, takeover=redelivered)
    return run.status if run else "skipped"


@shared_task
def analyses_dispatch() -> int:
    """Beat, every 5 minutes: create the runs of complete windows and enqueue the due ones."""
    from drift.services.analysis_dispatch import analyses_dispatch as dispatch

    return dispatch()


@shared_task
def holdout_evaluate() -> list[int]:
    """Beat, daily: the rolling holdout evaluation of each production version with labels."""
    from drift.services.analysis_dispatch import holdout_evaluate as evaluate

    return evaluate()


@shared_task
def experiments_evaluate() -> list[int]:
    """Beat, every 15 minutes: claim the running experiments due for a look and enqueue each."""
    from drift.services.experiment_evaluation import experiments_claim_due

    claimed = experiments_claim_due()
    for experiment_id in claimed:
        experiment_evaluate_task.delay(experiment_id)
    return claimed


@shared_task(acks_late=True)
def experiment_evaluate_task(experiment_id: int) -> int | None:
    """One look at one experiment: record it, move a bandit's allocation, apply the stopping rules."""
    from drift.services.experiment_evaluation import experiment_evaluate

    look = experiment_evaluate(experiment_id=experiment_id)
    return look.number if look else None


@shared_task
def partitions_ensure() -> list[str]:
    """Beat, daily: PostgreSQL's weekly prediction partitions of the coming weeks (nothing on SQLite)."""
    from drift.services.partitions import partitions_ensure as ensure

    return ensure()


@shared_task
def raw_data_prune() -> dict | None:
    """Beat, daily: drop raw predictions older than DRIFTWATCH["RAW_RETENTION_DAYS"] (0: keep them)."""
    from django.conf import settings

    from drift.services.retention import raw_data_prune as prune

    days = settings.DRIFTWATCH["RAW_RETENTION_DAYS"]
    return prune(days=days).as_dict() if days > 0 else None
