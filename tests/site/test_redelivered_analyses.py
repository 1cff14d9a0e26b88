"""A redelivered task message (its worker died mid-run) takes the run over at once; a plain duplicate
does not, and takeovers are bounded (tests/faults/test_worker_killed.py kills real workers)."""

from datetime import timedelta

import pytest

from drift.models import AnalysisResult, AnalysisRun, RunStatus
from drift.scenarios import make_scenario
from drift.services.analyses import MAX_TAKEOVER_ATTEMPTS, analysis_execute, analysis_request
from tests.drift.analyses_support import DAY, eager_celery, ingest, scenario_model  # noqa: F401
from tests.drift.conftest import clock  # noqa: F401

pytestmark = pytest.mark.usefixtures("eager_celery")
WINDOW = {"window_start": DAY, "window_end": DAY + timedelta(days=1)}


@pytest.fixture
def running(db, clock):  # noqa: F811
    sc = make_scenario("mean_shift", n_reference=600, n_current=240, seed=3)
    version = scenario_model(sc)
    ingest(version, sc.current, labels=False)
    run = analysis_request(model=version.model, **WINDOW, enqueue=False)
    # A worker claimed it a minute ago and was killed: the row says running, nobody works on it.
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=clock - timedelta(minutes=1), attempts=1
    )
    return run


def test_a_redelivered_message_takes_over_a_run_left_running(running):
    assert analysis_execute(run_id=running.pk) is None  # a duplicate message: skipped

    run = analysis_execute(run_id=running.pk, takeover=True)

    assert run.status == RunStatus.DONE and run.attempts == 2
    assert AnalysisResult.objects.filter(run=run).count() == 9
    assert analysis_execute(run_id=running.pk, takeover=True) is None  # finished runs are never redone


def test_takeovers_stop_after_a_few_attempts(running):
    AnalysisRun.objects.filter(pk=running.pk).update(attempts=MAX_TAKEOVER_ATTEMPTS)

    assert analysis_execute(run_id=running.pk, takeover=True) is None


def test_the_task_takes_over_only_when_its_message_was_redelivered(running):
    from drift.tasks import analysis_execute as task

    assert task.apply(args=[running.pk]).get() == "skipped"
    task.push_request(delivery_info={"redelivered": True})  # as a worker sets it for a restored message
    try:
        assert task.run(running.pk) == RunStatus.DONE
    finally:
        task.pop_request()
