"""Drills: synthetic drift through the real policies in drill mode, kept out of real metrics and the
real gate, timed from the record, ended with a report."""

from datetime import timedelta
from unittest import mock

import pytest

from drift.models import AnalysisRun, LearnedThreshold, PredictionLog, ProfileFragment, RunKind
from drift.scenarios import make_scenario
from drift.services.analyses import analysis_execute, analysis_request
from drift.services.analysis_dispatch import analyses_dispatch
from governance.models import AuditEntry, DriftEvent, Drill, Incident, RetrainingRequest, ServingState
from governance.selectors import serving_mode_of
from governance.services.drills import drill_end, drill_start
from governance.services.events import drift_event_transition
from governance.services.policies import policy_create
from tests.drift.analyses_support import ingest, scenario_model
from tests.governance.conftest import NOW, assert_error

# Where the drill's injected change lands; the policy watches it with its learned threshold.
RULE = {
    "signal": "data_drift.feature.num_0",
    "learned": True,
    "severity": "critical",
    "actions": [
        {"type": "open_event"},
        {"type": "serving_mode", "mode": "human_review"},
        {"type": "open_incident", "severity": "SEV2"},
        {"type": "request_retraining"},
    ],
}
HOUR = NOW.replace(minute=0)


@pytest.fixture
def at():
    now = [NOW]
    with mock.patch("django.utils.timezone.now", side_effect=lambda: now[0]):

        def move(**delta):
            now[0] = NOW + timedelta(**delta)
            return now[0]

        yield move


@pytest.fixture
def model(at, alice):
    """A production model with a reference, real traffic this hour, and a policy on num_0."""
    sc = make_scenario("stationary", n_reference=2_000, n_current=600, seed=3)
    version = scenario_model(sc)
    ingest(version, sc.current, start=HOUR, hours=0.5, prefix="real", labels=False)
    policy_create(model=version.model, name="Income guard", rules=[RULE], by=alice)
    return version.model


@pytest.fixture
def start(alice, django_capture_on_commit_callbacks):
    def go(model, scenario="mean_shift", **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return drill_start(model=model, scenario=scenario, by=alice, **extra)

    return go


def real_run(model):
    run = analysis_request(
        model=model, window_start=HOUR, window_end=HOUR + timedelta(hours=1), enqueue=False
    )
    return analysis_execute(run_id=run.pk)


def test_a_drill_is_judged_by_the_real_policy_and_moves_only_its_own_gate(model, start, api, alice):
    drill = start(model, magnitude=1.0)

    drill.refresh_from_db()
    event = DriftEvent.objects.get()
    assert event.drill == drill and event.signal == "data_drift.feature.num_0"
    assert drill.gate_mode == "human_review" and drill.evaluated_at is not None
    assert serving_mode_of(model) == "normal" and not ServingState.objects.exists()
    assert api(alice).get("/api/v1/models/scenario/serving-decision/").json()["mode"] == "normal"
    assert not Incident.objects.exists() and not RetrainingRequest.objects.exists()
    texts = [a["text"] for a in drill.actions]
    assert texts == [
        "drill gate → human_review",
        "would open an incident (SEV2)",
        "would request retraining",
    ]
    assert api(alice).get("/api/v1/events/").json()["count"] == 0  # real events only
    listed = api(alice).get(f"/api/v1/events/?drill={drill.pk}").json()
    assert [e["id"] for e in listed["results"]] == [event.pk] and listed["results"][0]["drill"] == drill.pk
    gate = AuditEntry.objects.get(action="drill.serving_mode")
    assert gate.object_id == str(drill.pk) and gate.after == {"mode": "human_review"}
    assert not AuditEntry.objects.filter(action="serving_mode.change").exists()


def test_drill_data_is_excluded_from_real_metrics_and_the_real_dispatch(model, start):
    before = real_run(model)
    effects = dict(before.feature_results.values_list("feature", "effect_size"))
    start(model, magnitude=2.0)

    after = real_run(model)

    assert after.pk == before.pk and after.kind == RunKind.ANALYSIS and after.rows == 600
    assert dict(after.feature_results.values_list("feature", "effect_size")) == pytest.approx(effects)
    assert not after.feature_results.filter(drifted=True).exists()
    drill = Drill.objects.get()
    assert drill.run.kind == RunKind.DRILL and drill.run.rows == 1_000
    assert drill.run.feature_results.get(feature="num_0").drifted
    assert PredictionLog.objects.filter(is_drill=True).count() == 1_000
    assert set(ProfileFragment.objects.values_list("is_drill", flat=True)) == {False, True}


def test_the_dispatcher_never_makes_a_real_run_from_drill_data_alone(at, alice, start):
    sc = make_scenario("stationary", n_reference=1_000, n_current=10, seed=1)
    version = scenario_model(sc)  # no real traffic at all
    start(version.model)
    at(hours=2)

    analyses_dispatch()

    assert list(AnalysisRun.objects.values_list("kind", flat=True)) == ["drill"]


def test_the_prediction_explorer_lists_real_predictions_only(model, start, api, alice):
    start(model)

    listed = api(alice).get("/api/v1/models/scenario/predictions/?limit=1000").json()

    assert listed["count"] == 600 and all(p["id"].startswith("real-") for p in listed["results"])


def test_the_report_times_detection_acknowledgement_and_mitigation(
    at, model, alice, api, django_capture_on_commit_callbacks
):
    drill = drill_start(model=model, scenario="mean_shift", by=alice, magnitude=1.0)  # analysis not run yet
    at(minutes=2)
    with django_capture_on_commit_callbacks(execute=True):
        analysis_execute(run_id=drill.run_id)
    at(minutes=5)
    event = DriftEvent.objects.get()
    api(alice).post(f"/api/v1/events/{event.pk}/transition/", {"to": "acknowledged"}, format="json")
    at(minutes=9)

    ended = api(alice).post(f"/api/v1/drills/{drill.pk}/end/", {"note": "good reflexes"}, format="json")

    assert ended.status_code == 200, ended.json()
    report = ended.json()["report"]
    assert (report["time_to_detect"], report["time_to_acknowledge"], report["time_to_mitigate"]) == (
        120,
        180,
        0,
    )
    assert report["summary"].startswith(
        "Drill 'mean_shift' (magnitude 1) on scenario v1: detected after 2 min by policy 'Income guard'"
    )
    assert "acknowledged after 3 min; mitigated after 0 s" in report["summary"]
    assert "the real gate was not touched" in report["summary"]
    assert [r["signal"] for r in report["rules"] if r["fired"]] == ["data_drift.feature.num_0"]
    assert ended.json()["status"] == "completed" and ended.json()["ended_by"] == "alice"
    event.refresh_from_db()
    assert (
        event.status == "resolved" and AuditEntry.objects.filter(action="drift_event.drill_closed").exists()
    )


def test_a_drill_nothing_detects_says_so(model, start, alice):
    drill = start(model, scenario="stationary")

    ended = drill_end(drill=drill, by=alice)

    assert not DriftEvent.objects.exists()
    assert "not detected; no policy rule fired" in ended.report["summary"]
    assert ended.report["detected"] is False and ended.report["time_to_detect"] is None


def test_one_drill_at_a_time_and_one_per_hour(model, start, alice, at):
    drill = start(model)
    assert_error_raised(lambda: start(model), 409, "already has a drill running")
    drill_end(drill=drill, by=alice)

    assert_error_raised(lambda: start(model), 409, "start the next one from 13:00 UTC")
    at(hours=1)
    assert start(model).window_start == HOUR + timedelta(hours=1)


def assert_error_raised(call, status, says):
    from monitoring_site.errors import ApplicationError

    with pytest.raises(ApplicationError) as caught:
        call()
    assert caught.value.status == status and says in caught.value.message, caught.value.message


def test_starting_drills_over_the_api(model, api, alice, bob, django_capture_on_commit_callbacks):
    url = "/api/v1/models/scenario/drills/"
    assert_error(api(bob).post(url, {"scenario": "mean_shift"}, format="json"), 403)
    assert_error(api(alice).post(url, {"scenario": "meteor"}, format="json"), 400, field="scenario")
    assert_error(
        api(alice).post(url, {"scenario": "mean_shift", "magnitude": -1}, format="json"),
        400,
        field="magnitude",
    )

    with django_capture_on_commit_callbacks(execute=True):
        made = api(alice).post(url, {"scenario": "new_category", "rows": 500}, format="json")

    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["scenario"] == "new_category" and body["magnitude"] == 0.05 and body["rows"] == 500
    assert "cat_0" in body["injected"] and body["status"] == "running"
    assert api(bob).get(f"/api/v1/drills/{body['id']}/").json()["facts"]["evaluated"] is True
    assert api(bob).get("/api/v1/drills/?model=scenario").json()["count"] == 1


def test_a_model_without_a_production_version_cannot_be_drilled(credit_model, alice):
    assert_error_raised(
        lambda: drill_start(model=credit_model, scenario="mean_shift", by=alice), 409, "no production version"
    )


def test_a_false_alarm_in_a_drill_leaves_the_real_thresholds_alone(model, start, alice):
    start(model, magnitude=1.0)
    before = dict(LearnedThreshold.objects.values_list("id", "value"))

    drift_event_transition(event=DriftEvent.objects.get(), to="false_alarm", by=alice, note="drill")

    assert dict(LearnedThreshold.objects.values_list("id", "value")) == before
    entry = AuditEntry.objects.filter(action="drift_event.transition").latest("id")
    assert "threshold_feedback" not in entry.after


def test_a_drills_events_are_announced_marked_as_a_drill(model, start, alice):
    from django.core import mail

    from governance.services.audit import Actor
    from governance.services.notifications import channel_create

    channel_create(
        model=model, name="oncall", kind="email", target="oncall@example.com", actor=Actor.of(alice)
    )

    start(model, magnitude=1.0)

    assert [m.subject for m in mail.outbox] == [
        "[Driftwatch critical] [DRILL] scenario: data_drift.feature.num_0 flagged by the engine"
    ]


def test_a_drilled_model_can_be_deleted_but_a_drill_with_events_cannot_alone(model, start):
    from django.db.models import RestrictedError

    drill = start(model, magnitude=1.0)
    assert DriftEvent.objects.filter(drill=drill).exists()

    with pytest.raises(RestrictedError):
        drill.delete()  # its events are the drill's evidence

    model.delete()

    assert not Drill.objects.exists() and not DriftEvent.objects.exists()
