"""`manage.py run_scheduler`: the beat schedule run in-process for the embedded demo."""

import os
import signal
import threading
import time
from io import StringIO

import pytest
from celery import shared_task
from django.core.management import CommandError, call_command

CALLS: list[str] = []


@shared_task(name="tests.scheduler.tick")
def tick(label: str = "tick") -> str:
    CALLS.append(label)
    return label


@shared_task(name="tests.scheduler.broken")
def broken() -> None:
    raise RuntimeError("the feature store is down")


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    CALLS.clear()


@pytest.fixture(autouse=True)
def _embedded_mode(settings):
    # The scheduler is the embedded mode's beat; with a broker configured (as in CI) it refuses to run.
    settings.CELERY_BROKER_URL = ""


def scheduler(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("run_scheduler", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_runs_each_entry_at_its_interval_until_the_time_is_up(db, settings):
    settings.CELERY_BEAT_SCHEDULE = {
        "fast": {"task": "tests.scheduler.tick", "schedule": 0.1, "args": ["fast"]},
        "slow": {"task": "tests.scheduler.tick", "schedule": 3600.0, "kwargs": {"label": "slow"}},
    }

    began = time.monotonic()
    out, _ = scheduler("--for-seconds", "0.55")

    assert 0.5 <= time.monotonic() - began < 10  # (the first call imports every task module)
    assert CALLS.count("slow") == 1  # at start, then not for an hour
    assert 4 <= CALLS.count("fast") <= 8
    assert out.count("fast (tests.scheduler.tick) → 'fast'") == CALLS.count("fast")
    assert "Scheduler stopped." in out


def test_once_runs_every_entry_once_and_reports_the_failures(db, settings):
    settings.CELERY_BEAT_SCHEDULE = {
        "broken": {"task": "tests.scheduler.broken", "schedule": 60.0},
        "tick": {"task": "tests.scheduler.tick", "schedule": 60.0},
    }

    err = StringIO()
    with pytest.raises(CommandError, match="1 of 2 tasks failed"):
        call_command("run_scheduler", "--once", stdout=StringIO(), stderr=err)

    assert CALLS == ["tick"]  # a failing task does not stop the others
    assert "broken (tests.scheduler.broken) failed" in err.getvalue()
    assert "the feature store is down" in err.getvalue()


@pytest.mark.skipif(
    bool(os.environ.get("CELERY_BROKER_URL")),
    reason="embedded-mode only (the real tasks need a process without a broker); CI's embedded pass runs it",
)
def test_the_project_schedule_runs_in_process(db):
    out, err = scheduler("--once")

    for name in ("analyses-dispatch", "holdout-evaluate", "incidents-escalate"):
        assert f"{name} (" in out
    assert "failed" not in out + err


def test_sigterm_stops_it_cleanly(db, settings):
    settings.CELERY_BEAT_SCHEDULE = {"tick": {"task": "tests.scheduler.tick", "schedule": 0.05}}
    # The embedded mode (see _embedded_mode): with a broker configured the command would refuse to
    # start, and the signal would then reach pytest itself.
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    previous = signal.getsignal(signal.SIGTERM)

    began = time.monotonic()
    timer.start()
    try:
        out, _ = scheduler("--for-seconds", "10")  # the deadline is only a safety net
    finally:
        timer.cancel()

    assert time.monotonic() - began < 5
    assert "SIGTERM: stopping after the task in hand." in out and out.rstrip().endswith("Scheduler stopped.")
    assert CALLS and signal.getsignal(signal.SIGTERM) is previous  # the handler is put back


def test_it_defers_to_celery_beat_when_a_broker_is_configured(db, settings):
    settings.CELERY_BROKER_URL = "redis://localhost:6379/0"

    with pytest.raises(CommandError, match="celery -A monitoring_site beat"):
        scheduler("--once")
    assert CALLS == []


def test_an_unknown_task_in_the_schedule_is_named(db, settings):
    settings.CELERY_BEAT_SCHEDULE = {"typo": {"task": "drift.tasks.analyses_dispatchh", "schedule": 60.0}}

    with pytest.raises(CommandError, match=r"unknown task 'drift\.tasks\.analyses_dispatchh'"):
        scheduler("--once")
