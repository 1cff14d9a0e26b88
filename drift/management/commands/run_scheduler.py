"""`manage.py run_scheduler`: the periodic tasks of CELERY_BEAT_SCHEDULE, run in this process.

For the embedded mode only (no CELERY_BROKER_URL: tasks run eagerly, so there is no worker for beat to
feed). Production runs `celery -A monitoring_site beat` and workers instead. Each entry runs once at
start, then at its interval (numbers, timedeltas and crontabs, as beat reads them); every run is
logged; SIGINT or SIGTERM stops the loop once the task in hand has finished.

    manage.py run_scheduler                  # until stopped
    manage.py run_scheduler --once           # each entry once, then exit (status 1 if one failed)
    manage.py run_scheduler --for-seconds 60
"""

import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import Any

from celery import Task
from celery.schedules import BaseSchedule, maybe_schedule
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.utils.module_loading import import_string

from monitoring_site.celery import app

# Longest sleep between looks at the schedule, so a stop request is never kept waiting on a long one.
MAX_SLEEP = 60.0


@dataclass
class Entry:
    name: str
    task: Task
    schedule: BaseSchedule
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    last_run_at: datetime | None = None

    def due(self) -> tuple[bool, float]:
        """(due now, seconds until the next look); never run yet means due."""
        if self.last_run_at is None:
            return True, 0.0
        state = self.schedule.is_due(self.last_run_at)
        return bool(state.is_due), float(state.next)


def find_task(name: str) -> Task:
    """The task registered under `name` (its dotted path for shared tasks)."""
    app.loader.import_default_modules()
    if name in app.tasks:
        return app.tasks[name]
    try:
        task = import_string(name)
    except ImportError as exc:
        raise CommandError(f"CELERY_BEAT_SCHEDULE names an unknown task '{name}'.") from exc
    if not isinstance(task, Task):
        raise CommandError(f"'{name}' is not a Celery task.")
    return task


def entries_from(beat_schedule: dict[str, dict[str, Any]]) -> list[Entry]:
    return [
        Entry(
            name=name,
            task=find_task(spec["task"]),
            schedule=maybe_schedule(spec["schedule"], app=app),
            args=tuple(spec.get("args", ())),
            kwargs=dict(spec.get("kwargs", {})),
        )
        for name, spec in beat_schedule.items()
    ]


class Command(BaseCommand):
    help = (
        "Run the CELERY_BEAT_SCHEDULE tasks in this process at their intervals, for the embedded mode "
        "(no broker). Production runs celery beat and workers instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run each entry once, then exit.")
        parser.add_argument("--for-seconds", type=float, help="Stop after this many seconds.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though CELERY_BROKER_URL is set (then celery beat should not run as well).",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if settings.CELERY_BROKER_URL and not opts["force"]:
            raise CommandError(
                "CELERY_BROKER_URL is set: run `celery -A monitoring_site worker` and "
                "`celery -A monitoring_site beat` instead (or pass --force)."
            )
        entries = entries_from(settings.CELERY_BEAT_SCHEDULE)
        if not entries:
            self.stdout.write("CELERY_BEAT_SCHEDULE is empty: nothing to run.")
            return
        every = ", ".join(f"{e.name} ({e.schedule})" for e in entries)
        self._say(f"Scheduler (embedded mode) started: {every}.")
        stop = threading.Event()
        previous = self._on_signals(stop)
        failures = 0
        try:
            failures = self._loop(entries, stop, once=opts["once"], seconds=opts["for_seconds"])
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self._say("Scheduler stopped.")
        if opts["once"] and failures:
            raise CommandError(f"{failures} of {len(entries)} tasks failed.")

    def _say(self, text: str, *, error: bool = False) -> None:
        out = self.stderr if error else self.stdout
        out.write(text)
        out.flush()  # a log file should show each run as it happens, not when a buffer fills

    def _on_signals(self, stop: threading.Event) -> dict[int, Any]:
        def handler(signum: int, _frame: FrameType | None) -> None:
            self._say(f"{signal.Signals(signum).name}: stopping after the task in hand.")
            stop.set()

        previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, handler)
        return previous

    def _loop(self, entries: list[Entry], stop: threading.Event, *, once: bool, seconds: float | None) -> int:
        deadline = None if seconds is None else time.monotonic() + seconds
        failures = 0
        while not stop.is_set():
            sleep = MAX_SLEEP
            for entry in entries:
                if stop.is_set():
                    break
                due, wait = entry.due()
                if due:
                    failures += not self._run(entry)
                    due, wait = entry.due()
                sleep = min(sleep, wait)
            if once:
                break
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                sleep = min(sleep, left)
            stop.wait(max(sleep, 0.0))
        return failures

    def _run(self, entry: Entry) -> bool:
        """Run one entry eagerly in this process; True when it succeeded."""
        entry.last_run_at = entry.schedule.now()
        began = time.monotonic()
        close_old_connections()  # as a worker does between tasks: drop connections past their age
        try:
            result = entry.task.apply(args=entry.args, kwargs=entry.kwargs, throw=False)
        finally:
            close_old_connections()
        took = time.monotonic() - began
        at = f"{entry.last_run_at:%Y-%m-%d %H:%M:%S %Z}"
        if result.failed():
            self._say(
                f"{at} {entry.name} ({entry.task.name}) failed after {took:.2f} s: {result.result!r}",
                error=True,
            )
            if result.traceback:
                self._say(result.traceback, error=True)
            return False
        self._say(f"{at} {entry.name} ({entry.task.name}) → {result.result!r} in {took:.2f} s")
        return True
