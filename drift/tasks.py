"""Celery tasks: thin interfaces that take ids and call a service."""

from celery import shared_task


@shared_task(acks_late=True)
def profiles_rebuild_task(version_id: int) -> int:
    from drift.models import ModelVersion
    from drift.services.profiles import profiles_rebuild

    version = ModelVersion.objects.filter(pk=version_id).first()
    return profiles_rebuild(version=version) if version else 0
