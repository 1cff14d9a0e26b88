"""The dispatcher through a real Celery worker and Redis (CI: PostgreSQL + Redis).

Skipped unless CELERY_BROKER_URL is set and the database is PostgreSQL. The worker is a subprocess on
the test database (pytest-django's test_<name>), consuming a queue of its own so that no other worker
on the same broker takes these tasks; tests use committed data (transaction=True) so it can see them.
"""

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from drift.models import AnalysisResult, AnalysisRun, FeatureResult, RunStatus
from drift.scenarios import make_scenario
from drift.services.analysis_dispatch import analyses_dispatch
from tests.drift.analyses_support import ingest, scenario_model

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def wait_for(check, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def worker(settings, tmp_path) -> Iterator[Path]:
    broker = os.environ.get("CELERY_BROKER_URL")
    if not broker or connection.vendor != "postgresql":
        pytest.skip("needs CELERY_BROKER_URL and PostgreSQL")
    from monitoring_site.celery import app

    queue = f"driftwatch-test-{uuid.uuid4().hex[:8]}"
    before = app.conf.task_always_eager, app.conf.task_default_queue
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    log = tmp_path / "worker.log"
    env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": broker}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "monitoring_site",
                "worker",
                "--pool=solo",
                "-l",
                "info",
                "-Q",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "ready." in log.read_text() or proc.poll() is not None, "the worker to start", 60)
        assert proc.poll() is None, log.read_text()[-3000:]
        yield log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        app.conf.task_always_eager, app.conf.task_default_queue = before


def test_the_dispatcher_runs_each_window_once_through_a_real_worker(worker, clock):
    from drift.tasks import analysis_execute

    sc = make_scenario("mean_shift", n_reference=1_000, n_current=480, seed=0)
    version = scenario_model(sc)
    ingest(version, sc.current, labels=False)

    analyses_dispatch()
    analyses_dispatch()  # a second beat before the worker got to it: nothing new
    run = AnalysisRun.objects.get()
    wait_for(lambda: AnalysisRun.objects.get().status == RunStatus.DONE, "the run to finish")

    analysis_execute.delay(run.pk)  # a duplicate message: the worker must skip it
    wait_for(lambda: "'skipped'" in worker.read_text(), "the duplicate to be skipped")

    run.refresh_from_db()
    assert run.attempts == 1 and AnalysisRun.objects.count() == 1
    assert AnalysisResult.objects.filter(run=run).count() == 9
    assert set(FeatureResult.objects.filter(run=run, drifted=True).values_list("feature", flat=True)) == {
        "num_0"
    }
