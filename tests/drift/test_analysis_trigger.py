"""Who asked for a run: a person (manual) or the schedule (dispatcher, backfills)."""

from datetime import timedelta

import pytest

from drift.models import RunStatus, RunTrigger
from drift.scenarios import make_scenario
from drift.services.analyses import analysis_execute, analysis_request
from monitoring_site.errors import ApplicationError
from tests.drift.analyses_support import DAY, eager_celery, scenario_model  # noqa: F401

pytestmark = pytest.mark.usefixtures("eager_celery")
WINDOW = {"window_start": DAY, "window_end": DAY + timedelta(days=1)}


@pytest.fixture
def version(db, clock):
    return scenario_model(make_scenario("stationary", n_reference=300, n_current=10, seed=0))


def test_a_request_is_manual_unless_the_caller_says_it_is_scheduled(version):
    manual = analysis_request(model=version.model, **WINDOW, enqueue=False)
    scheduled = analysis_request(
        model=version.model,
        window_start=WINDOW["window_end"],
        window_end=WINDOW["window_end"] + timedelta(days=1),
        enqueue=False,
        trigger=RunTrigger.SCHEDULE,
    )

    assert manual.trigger == RunTrigger.MANUAL
    assert scheduled.trigger == RunTrigger.SCHEDULE


def test_rerunning_a_finished_window_records_the_new_trigger(version):
    run = analysis_request(model=version.model, **WINDOW, enqueue=False)
    assert analysis_execute(run_id=run.pk).status != RunStatus.PENDING

    again = analysis_request(model=version.model, **WINDOW, enqueue=False, trigger=RunTrigger.SCHEDULE)

    assert again.pk == run.pk and again.status == RunStatus.PENDING
    assert again.trigger == RunTrigger.SCHEDULE


def test_an_unknown_trigger_is_refused(version):
    with pytest.raises(ApplicationError) as refused:
        analysis_request(model=version.model, **WINDOW, enqueue=False, trigger="cron")

    assert refused.value.errors == [{"field": "trigger", "message": "one of schedule, manual"}]
