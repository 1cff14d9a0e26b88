"""Celery tasks: thin interfaces that take ids and call a service."""

from celery import shared_task


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


@shared_task(acks_late=True)
def analysis_execute(run_id: int) -> str:
    """Run one analysis; a run already claimed or finished is skipped (the claim is a conditional UPDATE)."""
    from drift.services.analyses import analysis_execute as execute

    run = execute(run_id=run_id)
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
