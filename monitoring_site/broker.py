"""Sending Celery tasks without letting a broker outage fail the request that asked for them.

Work is recorded in the database first (a pending analysis run, a pending delivery, a reference whose
profiles are stale) and the task message only says "go": when Redis is down the message is dropped
with a warning, the request still succeeds, and the periodic work picks the job up again from the
database (the analysis dispatcher re-sends pending runs; an analysis asks for a profile rebuild when it
finds stale rows). In the embedded mode tasks run in-process and their errors propagate as before.
"""

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

log = logging.getLogger(__name__)


def send(task: Any, *args: Any) -> bool:
    """`task.delay(*args)`; False (and a warning) when the broker cannot take the message."""
    try:
        task.delay(*args)
    except BrokerUnavailable as exc:
        log.warning("broker unavailable: %s%r not sent (%s)", task.name, args, exc)
        return False
    return True


def send_each(task: Any, ids: Iterable[Any]) -> list[Any]:
    """`task.delay(id)` for each id; the ids not sent. Stops trying at the first refusal, since each
    attempt on a broker that is down costs the request a connection timeout."""
    pending = list(ids)
    for index, item in enumerate(pending):
        if not send(task, item):
            return pending[index:]
    return []


def send_on_commit(task: Any, *args: Any, on_failure: Callable[[], None] | None = None) -> None:
    """Send the task once the current transaction commits; call `on_failure` if the broker refuses."""

    def go() -> None:
        if not send(task, *args) and on_failure is not None:
            on_failure()

    transaction.on_commit(go)
