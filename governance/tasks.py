"""Celery interface of governance: each task takes ids, imports its service, calls it."""

from typing import Any

from celery import Task, shared_task

from governance.notifications import TransientDeliveryError

# Attempts after the first: with backoff 10 s, 20 s, 40 s, ... capped at 10 minutes (plus jitter).
DELIVERY_RETRIES = 6


@shared_task(acks_late=True)
def policies_evaluate_task(run_id: int) -> int:
    """Evaluate the active policies of a finished analysis run (called after every analysis)."""
    from governance.services.policies import policies_evaluate

    return len(policies_evaluate(run_id=run_id))


class RetriesInProcess(Task):
    """Without a broker, tasks run eagerly, and with `task_eager_propagates` Celery raises the first
    retry out of `.delay()` instead of running it. Notifications must retry in-process as they would on
    a worker, and never break the request whose change they announce, so they never propagate."""

    def apply(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("throw", False)
        return super().apply(*args, **kwargs)


@shared_task(
    base=RetriesInProcess,
    bind=True,
    acks_late=True,
    autoretry_for=(TransientDeliveryError,),
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=DELIVERY_RETRIES,
)
def notification_deliver(self, delivery_id: int) -> str:  # type: ignore[no-untyped-def]
    """Send one delivery; transient failures (timeouts, 5xx, 429) are retried with exponential backoff,
    and the last attempt records the delivery as failed instead of raising."""
    from governance.services.notifications import delivery_attempt

    final = self.request.retries >= self.max_retries
    return delivery_attempt(delivery_id=delivery_id, final=final).status


@shared_task(
    base=RetriesInProcess,
    bind=True,
    acks_late=True,
    autoretry_for=(TransientDeliveryError,),
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=DELIVERY_RETRIES,
)
def retraining_pipeline_call(self, request_id: int) -> str:  # type: ignore[no-untyped-def]
    """Call the model's retraining pipeline for an accepted request, retried like a notification."""
    from governance.services.retraining import retraining_pipeline_attempt

    final = self.request.retries >= self.max_retries
    return retraining_pipeline_attempt(request_id=request_id, final=final).call_status


@shared_task
def incidents_escalate() -> int:
    """Periodic: escalate unacknowledged incidents along their model's escalation path."""
    from governance.services.incidents import incidents_escalate as escalate

    return escalate()


@shared_task
def deliveries_resend() -> int:
    from governance.services.notifications import deliveries_resend as resend

    return resend()
