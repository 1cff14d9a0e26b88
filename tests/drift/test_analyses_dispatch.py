"""The periodic dispatcher: one run per complete window with data, however often it runs; concurrent
workers never produce a second result. Runs on SQLite and PostgreSQL."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from drift.models import AnalysisResult, AnalysisRun, FeatureResult, RunStatus
from drift.scenarios import make_scenario
from drift.services import analysis_dispatch
from drift.services.analyses import analysis_execute, analysis_request
from drift.services.analysis_dispatch import REQUEUE_AFTER, analyses_dispatch
from drift.services.reference import reference_upload
from tests.drift.analyses_support import (  # noqa: F401
    DAY,
    eager_celery,
    ingest,
    reference_rows,
    scenario_model,
)

pytestmark = pytest.mark.usefixtures("eager_celery")


@pytest.fixture
def day_of_data(db, clock):
    sc = make_scenario("stationary", n_reference=1_000, n_current=480, seed=3)
    version = scenario_model(sc)
    ingest(version, sc.current, labels=False)
    return version


def test_it_creates_and_runs_one_run_per_complete_window(day_of_data, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enqueued = analyses_dispatch()

    (run,) = AnalysisRun.objects.all()
    # The clock stands at 2026-11-20 12:30: the 19th is complete, the 20th is not.
    assert (run.window_start, run.window_end) == (DAY, DAY + timedelta(days=1))
    assert enqueued == 1 and run.status == RunStatus.DONE and run.trigger == "schedule"


def test_dispatching_again_creates_and_enqueues_nothing(day_of_data, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        analyses_dispatch()
        again = analyses_dispatch()

    assert again == 0
    assert AnalysisRun.objects.count() == 1
    assert AnalysisResult.objects.count() == 9


def test_hourly_schedules_get_hourly_windows(day_of_data):
    day_of_data.model.analysis_window = "hourly"
    day_of_data.model.save()

    analyses_dispatch()

    assert AnalysisRun.objects.count() == 24
    assert {r.window_end - r.window_start for r in AnalysisRun.objects.all()} == {timedelta(hours=1)}


@pytest.mark.parametrize("change", ["disabled", "shadow"])
def test_disabled_models_and_shadow_versions_are_not_dispatched(day_of_data, change):
    if change == "disabled":
        day_of_data.model.analysis_enabled = False
        day_of_data.model.save()
    else:
        day_of_data.stage = "shadow"
        day_of_data.save()

    assert analyses_dispatch() == 0 and not AnalysisRun.objects.exists()


def test_a_pending_run_whose_message_was_lost_is_enqueued_again(day_of_data, clock, monkeypatch):
    sent = []
    monkeypatch.setattr(analysis_dispatch, "enqueue_runs", lambda ids: sent.extend(ids))
    analyses_dispatch()
    (run,) = AnalysisRun.objects.all()
    AnalysisRun.objects.filter(pk=run.pk).update(enqueued_at=clock - timedelta(minutes=5))
    assert analyses_dispatch() == 0

    AnalysisRun.objects.filter(pk=run.pk).update(enqueued_at=clock - REQUEUE_AFTER - timedelta(minutes=1))
    assert analyses_dispatch() == 1 and sent == [run.pk, run.pk]


def test_runs_that_needed_a_reference_go_again_once_one_arrives(
    db, clock, django_capture_on_commit_callbacks
):
    sc = make_scenario("stationary", n_reference=1_000, n_current=240, seed=4)
    version = scenario_model(sc, reference=False)
    ingest(version, sc.current, labels=False)
    with django_capture_on_commit_callbacks(execute=True):
        analyses_dispatch()
    assert AnalysisRun.objects.get().status == RunStatus.NEEDS_REFERENCE
    # The clock is frozen: the run finished a minute before the reference arrives.
    AnalysisRun.objects.update(finished_at=clock - timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        reference_upload(version=version, rows=reference_rows(sc.reference), source="json")
    with django_capture_on_commit_callbacks(execute=True):
        analyses_dispatch()

    assert AnalysisRun.objects.get().status == RunStatus.DONE


# --- concurrency: real threads, committed data ----------------------------------------------------


def race(target, workers: int = 4) -> list:
    """Start `workers` threads on `target` at the same moment; their results (or exceptions)."""
    barrier = threading.Barrier(workers)
    out: list = []

    def work() -> None:
        barrier.wait()
        try:
            out.append(target())
        except Exception as exc:  # a lost race may surface as a lock error on SQLite
            out.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return out


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_execute_a_run_once(clock):
    sc = make_scenario("stationary", n_reference=1_000, n_current=240, seed=6)
    version = scenario_model(sc)
    ingest(version, sc.current, labels=False)
    window = {"window_start": DAY, "window_end": DAY + timedelta(days=1)}
    run = analysis_request(model=version.model, **window, enqueue=False)

    outcomes = race(lambda: analysis_execute(run_id=run.pk))

    winners = [o for o in outcomes if isinstance(o, AnalysisRun)]
    assert len(winners) == 1 and winners[0].status == RunStatus.DONE
    assert AnalysisResult.objects.filter(run=run).count() == 9
    assert FeatureResult.objects.filter(run=run).count() == 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatchers_create_each_run_once(clock, monkeypatch):
    sc = make_scenario("stationary", n_reference=1_000, n_current=240, seed=7)
    version = scenario_model(sc)
    ingest(version, sc.current, start=DAY - timedelta(days=2), hours=72, labels=False)
    monkeypatch.setattr(analysis_dispatch, "enqueue_runs", lambda ids: None)

    race(analyses_dispatch)

    windows = list(AnalysisRun.objects.values_list("window_start", flat=True))
    assert sorted(windows) == [DAY - timedelta(days=2), DAY - timedelta(days=1), DAY]
