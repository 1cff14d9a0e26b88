"""`manage.py analyze`: analyse windows now, in-process, with a progress bar."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from drift.models import AnalysisRun
from drift.scenarios import make_scenario
from tests.drift.analyses_support import eager_celery, ingest, scenario_model  # noqa: F401

pytestmark = pytest.mark.usefixtures("eager_celery")


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("analyze", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def version(db, clock):
    sc = make_scenario("mean_shift", n_reference=1_000, n_current=480, seed=0)
    version = scenario_model(sc)
    ingest(version, sc.current, labels=False)
    return version


def test_it_analyses_a_window_and_prints_the_narrative(version):
    out, err = run("--model", "scenario", "--start", "2026-11-19", "--end", "2026-11-20")

    run_line, narrative = out.strip().splitlines()
    assert run_line.endswith("2026-11-19 00:00 → 2026-11-20 00:00: done")
    assert narrative.strip().startswith("Num 0 changed against the reference.")
    assert "9/9" in err  # the progress bar reached every section


def test_it_splits_a_range_into_the_requested_windows(version):
    out, _ = run(
        "--model",
        "scenario",
        "--start",
        "2026-11-18",
        "--end",
        "2026-11-20",
        "--per",
        "daily",
        "--model-version",
        "v1",
    )

    assert sorted(AnalysisRun.objects.values_list("status", flat=True)) == ["done", "no_data"]
    assert "No predictions of version 'v1' between 2026-11-18 00:00 UTC" in out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--model", "nope", "--start", "2026-11-19", "--end", "2026-11-20"), "No model with slug 'nope'"),
        (("--model", "scenario", "--start", "soon", "--end", "2026-11-20"), "--start: not an ISO 8601 time"),
        (("--model", "scenario", "--start", "2026-11-20", "--end", "2026-11-19"), "must be after"),
        (
            ("--model", "scenario", "--start", "2026-11-19", "--end", "2026-11-20", "--model-version", "v7"),
            "has no version 'v7'",
        ),
    ],
)
def test_bad_arguments_are_refused_plainly(version, args, says):
    with pytest.raises(CommandError, match=says):
        run(*args)
