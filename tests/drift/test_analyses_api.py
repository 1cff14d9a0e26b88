"""The analyses API: request a window (202), read a run and its results, list runs, set the schedule."""

from datetime import timedelta

import pytest

from drift.models import AnalysisRun
from drift.scenarios import make_scenario
from drift.services.keys import integration_key_create
from tests.drift.analyses_support import DAY, eager_celery, ingest, scenario_model  # noqa: F401
from tests.drift.conftest import assert_error, iso

pytestmark = pytest.mark.usefixtures("eager_celery")
SECTIONS = {
    "data_drift",
    "data_quality",
    "performance",
    "estimated_performance",
    "calibration",
    "fairness",
    "concept_drift",
    "attribution",
    "operations",
}
BODY = {"window_start": iso(DAY), "window_end": iso(DAY + timedelta(days=1))}
URL = "/api/v1/models/scenario/analyses/"


@pytest.fixture
def version(db, clock):
    sc = make_scenario("mean_shift", n_reference=2_000, n_current=1_200, seed=0)
    version = scenario_model(sc)
    ingest(version, sc.current)
    return version


@pytest.fixture
def requested(api, alice, version, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        answer = api(alice).post(URL, BODY, format="json")
    assert answer.status_code == 202, answer.json()
    return answer.json()


def test_an_analyst_requests_a_window_and_gets_202_with_the_run(requested):
    assert set(requested) >= {"id", "status", "window", "version"}
    assert requested["version"] == "v1" and requested["window"] == {
        "start": BODY["window_start"],
        "end": BODY["window_end"],
    }


def test_the_run_answers_its_results_and_narrative(api, carol, requested):
    body = api(carol).get(f"/api/v1/analyses/{requested['id']}/").json()

    assert body["status"] == "done" and set(body["results"]) == SECTIONS
    drift = body["results"]["data_drift"]
    assert {"features", "share_drifted", "multivariate"} <= set(drift)
    promised = {"feature", "method", "statistic", "p_value", "effect_size", "threshold", "drifted"}
    assert all(promised <= set(entry) for entry in drift["features"])
    assert [e["feature"] for e in drift["features"] if e["drifted"]] == ["num_0"]
    assert body["narrative"].startswith("Num 0 changed against the reference.")


def test_requesting_the_same_window_again_reruns_the_same_run(
    api, alice, requested, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        again = api(alice).post(URL, BODY, format="json").json()

    assert again["id"] == requested["id"] and AnalysisRun.objects.count() == 1


def test_a_window_is_rounded_out_to_whole_hours(api, alice, version):
    body = {"window_start": "2026-11-19T06:30:00Z", "window_end": "2026-11-19T07:10:00Z"}

    run = api(alice).post(URL, body, format="json").json()

    assert run["window"] == {"start": "2026-11-19T06:00:00Z", "end": "2026-11-19T08:00:00Z"}


def test_a_version_without_reference_is_refused_naming_the_reference(api, alice, db, clock):
    scenario_model(make_scenario("stationary", n_reference=10, n_current=10), reference=False)

    answer = api(alice).post(URL, BODY, format="json")

    body = assert_error(answer, 400, field="version", says="no reference dataset")
    assert "has no reference dataset" in body["detail"]


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"window_end": BODY["window_end"]}, "window_start", "required"),
        ({**BODY, "window_end": "yesterday"}, "window_end", "format"),
        ({**BODY, "window_end": BODY["window_start"]}, "window_end", "after window_start"),
        ({**BODY, "window_end": iso(DAY + timedelta(days=100))}, "window_end", "at most 92 days"),
        ({**BODY, "version": "v9"}, "version", "unknown version"),
    ],
)
def test_bad_requests_get_clear_answers(api, alice, version, body, field, says):
    assert_error(api(alice).post(URL, body, format="json"), 400, field=field, says=says)


def test_the_list_is_paginated_and_filtered(api, carol, alice, version):
    for day in range(3):
        start = DAY - timedelta(days=day)
        api(alice).post(
            URL, {"window_start": iso(start), "window_end": iso(start + timedelta(days=1))}, format="json"
        )

    page = api(carol).get(URL, {"limit": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2
    assert page["results"][0]["window"]["start"] == BODY["window_start"]  # newest window first
    assert api(carol).get(URL, {"status": "pending", "version": "v1"}).json()["count"] == 3
    assert api(carol).get(URL, {"status": "done"}).json()["count"] == 0
    assert_error(api(carol).get(URL, {"status": "finished"}), 400, field="status", says="unknown status")
    assert_error(api(carol).get(URL, {"version": "v9"}), 400, field="version")


def test_roles_and_keys(api, bob, carol, version):
    key = integration_key_create(model=version.model, name="scorer")[1]

    assert_error(api(carol).post(URL, BODY, format="json"), 403, says="needs the analyst role")
    assert_error(api(bob).post(URL, BODY, format="json"), 403, says="needs the analyst role")
    assert_error(api(key=key).post(URL, BODY, format="json"), 403, says="Integration keys may not")
    assert_error(api(key=key).get(URL), 403, says="Integration keys may not")
    assert api().get(URL).status_code == 401
    assert api(carol).get(URL).status_code == 200


@pytest.mark.parametrize("run_id", ["999", str(10**30)])
def test_an_unknown_analysis_is_404(api, carol, db, run_id):
    assert_error(api(carol).get(f"/api/v1/analyses/{run_id}/"), 404, field="id")


def test_the_schedule_is_read_by_viewers_and_set_by_analysts(api, alice, carol, version):
    url = "/api/v1/models/scenario/schedule/"
    assert api(carol).get(url).json() == {
        "analysis_window": "daily",
        "analysis_enabled": True,
        "fairness_four_fifths": False,
    }

    changes = {"analysis_window": "hourly", "fairness_four_fifths": True}
    changed = api(alice).patch(url, changes, format="json")

    assert changed.json() == {**changes, "analysis_enabled": True}
    assert_error(api(carol).patch(url, {"analysis_enabled": False}, format="json"), 403)
    assert_error(
        api(alice).patch(url, {"analysis_window": "monthly"}, format="json"), 400, field="analysis_window"
    )
