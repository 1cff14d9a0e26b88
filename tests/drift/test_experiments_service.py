"""Experiment lifecycle through the services: definition, locking, looks, stopping rules, decisions, audit."""

from datetime import timedelta

import pytest

from drift.models import Experiment, ExperimentLook, Stage
from drift.services.experiment_definition import spec_from
from drift.services.experiment_evaluation import experiment_evaluate, experiments_claim_due
from drift.services.experiments import (
    experiment_create,
    experiment_decide,
    experiment_start,
    experiment_stop,
    experiment_update,
)
from governance.models import AuditEntry
from governance.services.audit import Actor
from monitoring_site.errors import ApplicationError
from tests.drift.analyses_support import eager_celery  # noqa: F401
from tests.drift.experiments_support import (
    FIRST_HOUR,
    START,
    add_challenger,
    definition,
    feed,
    feed_hours,
    moving,
)


@pytest.fixture
def moving_clock():
    with moving() as clock:
        yield clock


@pytest.fixture
def credit_v2(credit_v1):
    return add_challenger(credit_v1)


@pytest.fixture
def analyst(alice):
    return Actor.of(alice)


@pytest.fixture
def draft(credit_v2, analyst, moving_clock):
    return experiment_create(spec=definition(credit_v2.model), actor=analyst)


@pytest.fixture
def running(draft, analyst):
    return experiment_start(experiment=draft, actor=analyst)


def look_at(experiment, clock, hours):
    clock.at(FIRST_HOUR + timedelta(hours=hours, minutes=5))
    return experiment_evaluate(experiment_id=experiment.pk)


def actions(experiment):
    return list(
        AuditEntry.objects.filter(object_type="experiment", object_id=str(experiment.pk))
        .order_by("at", "id")
        .values_list("action", flat=True)
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"challengers": ("v9",)}, "challengers"),
        ({"challengers": ("v1",)}, "challengers"),
        ({"primary_metric": "mean_absolute_error"}, "primary_metric"),
        ({"mode": "bandit", "primary_metric": "business_value"}, "mode"),
        ({"allocation": {"v1": 0.7, "v2": 0.2}}, "allocation"),
        ({"minimum_detectable_effect": 0.0}, "minimum_detectable_effect"),
        ({"guardrails": [{"metric": "latency_p95", "margin": -1}]}, "guardrails[0].margin"),
        (
            {"guardrails": [{"metric": "fairness_ratio", "margin": 0.1, "feature": "age"}]},
            "guardrails[0].feature",
        ),
    ],
)
def test_an_invalid_definition_is_refused_naming_the_field(credit_v2, analyst, overrides, field):
    with pytest.raises(ApplicationError) as refused:
        experiment_create(spec=definition(credit_v2.model, **overrides), actor=analyst)
    assert refused.value.status == 400 and refused.value.errors[0]["field"] == field


def test_a_fairness_guardrail_defaults_to_the_sensitive_feature(credit_v2, analyst):
    spec = definition(credit_v2.model, guardrails=[{"metric": "fairness_ratio", "margin": 0.1}])
    experiment = experiment_create(spec=spec, actor=analyst)
    assert experiment.guardrails == [{"metric": "fairness_ratio", "margin": 0.1, "feature": "gender"}]


def test_a_draft_can_be_edited_and_the_edit_is_audited(draft, analyst):
    experiment_update(experiment=draft, spec=spec_from(draft, minimum_detectable_effect=0.03), actor=analyst)
    draft.refresh_from_db()
    assert draft.minimum_detectable_effect == 0.03
    assert actions(draft) == ["experiment.create", "experiment.update"]


def test_starting_locks_the_criteria_and_puts_the_challenger_in_canary(running, credit_v2, analyst):
    criteria = running.criteria
    assert running.status == "running" and running.ends_at == START + timedelta(days=14)
    assert criteria["mde"] == 0.02 and criteria["alpha_per_challenger"] == 0.05
    assert criteria["planned_n"] > 0 and criteria["rho"] > 0
    assert running.allocation == {"v1": 0.5, "v2": 0.5}
    credit_v2.refresh_from_db()
    assert credit_v2.stage == Stage.CANARY
    assert actions(running) == ["experiment.create", "experiment.start"]
    assert AuditEntry.objects.filter(
        action="model_version.stage_change", object_id=str(credit_v2.pk)
    ).exists()
    with pytest.raises(ApplicationError, match="locked") as refused:
        experiment_update(
            experiment=running, spec=spec_from(running, minimum_detectable_effect=0.5), actor=analyst
        )
    assert refused.value.status == 400
    running.refresh_from_db()
    assert running.minimum_detectable_effect == 0.02 and running.criteria == criteria


def test_a_model_runs_one_experiment_at_a_time(running, analyst):
    other = experiment_create(spec=definition(running.model, name="again"), actor=analyst)
    with pytest.raises(ApplicationError) as refused:
        experiment_start(experiment=other, actor=analyst)
    assert refused.value.status == 409


def test_a_true_lift_stops_the_experiment_for_success_and_the_system_audits_it(
    running, credit_v1, credit_v2, moving_clock
):
    feed_hours([(credit_v1, 400, 0.80), (credit_v2, 400, 0.86)], hours=6)
    look = look_at(running, moving_clock, 6)
    running.refresh_from_db()
    assert look.stop_reason == "success" and running.status == "stopped" and running.stop_reason == "success"
    c = look.results["comparisons"][0]
    assert c["verdict"] == "better" and c["lower"] > 0 and c["estimate"] == pytest.approx(0.06, abs=0.02)
    assert running.allocation == {"v1": 1.0, "v2": 0.0}  # back to the control until someone decides
    stop = AuditEntry.objects.get(action="experiment.stop", object_id=str(running.pk))
    assert stop.actor == "system:experiments_evaluate" and stop.after["evidence"]["comparisons"]
    assert "Version v2's accuracy is" in look.results["summary"]


def test_no_difference_with_plenty_of_data_stops_for_futility(running, credit_v1, credit_v2, moving_clock):
    feed_hours([(credit_v1, 3_000, 0.80), (credit_v2, 3_000, 0.80)], hours=10)
    look = look_at(running, moving_clock, 10)
    assert look.stop_reason == "futility"
    assert look.results["comparisons"][0]["gain_upper"] < 0.02


def test_a_look_before_enough_labels_stays_quiet(running, credit_v1, credit_v2, moving_clock):
    feed_hours([(credit_v1, 50, 0.5), (credit_v2, 50, 1.0)], hours=1)
    look = look_at(running, moving_clock, 1)
    assert look.stop_reason == "" and look.results["comparisons"][0]["verdict"] == "too_early"


def test_an_unchanged_look_is_not_recorded_twice(running, credit_v1, credit_v2, moving_clock):
    feed_hours([(credit_v1, 100, 0.8), (credit_v2, 100, 0.8)], hours=2)
    assert look_at(running, moving_clock, 2) is not None
    assert look_at(running, moving_clock, 3) is None
    assert ExperimentLook.objects.filter(experiment=running).count() == 1


def test_traffic_from_before_the_start_is_left_out(running, credit_v1, credit_v2, moving_clock):
    feed(credit_v1, FIRST_HOUR - timedelta(hours=1), 5_000, accuracy=0.1, seed=1)
    feed_hours([(credit_v1, 100, 0.8), (credit_v2, 100, 0.8)], hours=1)
    look = look_at(running, moving_clock, 1)
    assert [a["traffic"] for a in look.results["arms"]] == [100, 100]


def test_a_governance_drills_synthetic_telemetry_is_left_out(running, credit_v1, credit_v2, moving_clock):
    feed(credit_v2, FIRST_HOUR, 5_000, accuracy=0.0, seed=1, drill=True)
    feed_hours([(credit_v1, 100, 0.8), (credit_v2, 100, 0.8)], hours=1)
    look = look_at(running, moving_clock, 1)
    assert [(a["traffic"], a["labelled"]) for a in look.results["arms"]] == [(100, 100), (100, 100)]


def test_a_broken_allocation_stops_the_experiment_for_sample_ratio_mismatch(
    running, credit_v1, credit_v2, moving_clock
):
    feed_hours([(credit_v1, 600, 0.8), (credit_v2, 400, 0.8)], hours=3, labelled=False)
    look = look_at(running, moving_clock, 3)
    assert look.stop_reason == "sample_ratio_mismatch"
    assert look.results["srm"]["p_value"] < 0.001
    assert "did not split" in look.results["summary"]


def test_a_challenger_failing_many_requests_breaches_the_error_rate_guardrail(
    credit_v1, credit_v2, analyst, moving_clock
):
    spec = definition(credit_v2.model, guardrails=[{"metric": "error_rate", "margin": 0.01}])
    experiment = experiment_start(experiment=experiment_create(spec=spec, actor=analyst), actor=analyst)
    feed_hours([(credit_v1, 1_000, 0.8)], hours=4, errors=5)
    feed_hours([(credit_v2, 1_000, 0.8)], hours=4, errors=80)
    look = look_at(experiment, moving_clock, 4)
    assert look.stop_reason == "guardrail"
    (g,) = look.results["guardrails"]
    assert g["metric"] == "error_rate" and g["status"] == "breach" and g["harm_lower"] > 0.01


def test_a_slower_challenger_breaches_the_latency_guardrail(credit_v1, credit_v2, analyst, moving_clock):
    spec = definition(credit_v2.model, guardrails=[{"metric": "latency_p95", "margin": 0.2}])
    experiment = experiment_start(experiment=experiment_create(spec=spec, actor=analyst), actor=analyst)
    feed_hours([(credit_v1, 1_000, 0.8)], hours=3, latency_ms=20.0)
    feed_hours([(credit_v2, 1_000, 0.8)], hours=3, latency_ms=40.0)
    look = look_at(experiment, moving_clock, 3)
    (g,) = look.results["guardrails"]
    assert g["status"] == "breach" and g["challenger_value"] > 1.5 * g["control_value"]


def test_fairness_and_calibration_guardrails_are_measured_from_labelled_samples(
    credit_v1, credit_v2, analyst, moving_clock
):
    guardrails = [
        {"metric": "fairness_ratio", "margin": 0.05},
        {"metric": "calibration_error", "margin": 0.05},
    ]
    spec = definition(credit_v2.model, guardrails=guardrails)
    experiment = experiment_start(experiment=experiment_create(spec=spec, actor=analyst), actor=analyst)
    feed_hours([(credit_v1, 500, 0.8)], hours=4, selection={"f": 0.5, "m": 0.5})
    feed_hours([(credit_v2, 500, 0.8)], hours=4, selection={"f": 0.2, "m": 0.6})
    look = look_at(experiment, moving_clock, 4)
    fairness, calibration = look.results["guardrails"]
    assert fairness["status"] == "breach" and fairness["challenger_value"] < 0.5 < fairness["control_value"]
    assert calibration["status"] in ("pass", "pending", "breach") and calibration["control_value"] is not None


def test_the_planned_duration_ends_an_undecided_experiment(running, credit_v1, credit_v2, moving_clock):
    feed_hours([(credit_v1, 100, 0.8), (credit_v2, 100, 0.8)], hours=2)
    moving_clock.at(START + timedelta(days=15))
    look = experiment_evaluate(experiment_id=running.pk)
    assert look.stop_reason == "planned_duration"


def test_a_person_stops_with_a_reason_and_promotes_with_the_evidence(
    running, credit_v1, credit_v2, analyst, moving_clock
):
    feed_hours([(credit_v1, 300, 0.8), (credit_v2, 300, 0.82)], hours=2)
    look_at(running, moving_clock, 2)
    with pytest.raises(ApplicationError, match="reason"):
        experiment_stop(experiment=running, reason="  ", actor=analyst)
    experiment_stop(experiment=running, reason="Quarter end: freeze changes", actor=analyst)
    record = experiment_decide(experiment=running, decision="promote", reason="Good enough", actor=analyst)
    credit_v1.refresh_from_db(), credit_v2.refresh_from_db(), running.refresh_from_db()
    assert (credit_v2.stage, credit_v1.stage) == (Stage.PRODUCTION, Stage.ARCHIVED)
    assert running.status == "concluded" and record.version == credit_v2
    assert record.evidence["results"]["comparisons"][0]["n_control"] == 600 and record.evidence["criteria"]
    assert actions(running) == [
        "experiment.create",
        "experiment.start",
        "experiment.stop",
        "experiment.decision",
    ]
    decision = AuditEntry.objects.get(action="experiment.decision", object_id=str(running.pk))
    assert decision.user == analyst.user and decision.reason == "Good enough"
    stages = AuditEntry.objects.filter(action="model_version.stage_change").order_by("at", "id")
    assert [(e.object_id, e.after["stage"]) for e in stages] == [(str(credit_v2.pk), "canary")]  # at start
    # The promotion itself is governance's: gated, audited as any promotion, v1 archived on the record.
    promoted = AuditEntry.objects.get(action="version.promote", object_id=str(credit_v2.pk))
    assert (promoted.before, promoted.after["production"]) == ({"production": "v1"}, "v2")
    assert promoted.user == analyst.user and promoted.reason == f"experiment {running.pk}: Good enough"
    assert credit_v1.stage_history.get(to_stage="archived").reason == "replaced by v2"


def test_only_an_analyst_or_an_admin_can_promote_through_a_decision(running, credit_v2, bob):
    experiment_stop(experiment=running, reason="Enough", actor=Actor.of(bob))
    for actor in (Actor.of(bob), Actor.system("somebody")):
        with pytest.raises(ApplicationError) as refused:
            experiment_decide(experiment=running, decision="promote", reason="Ship it", actor=actor)
        assert refused.value.status == 403
    running.refresh_from_db(), credit_v2.refresh_from_db()
    assert running.status == "stopped" and not running.decisions.exists()  # nothing half-done
    assert credit_v2.stage == Stage.CANARY


def test_a_decision_needs_a_stopped_experiment(running, analyst):
    with pytest.raises(ApplicationError, match="running"):
        experiment_decide(experiment=running, decision="promote", reason="eager", actor=analyst)


def test_reverting_returns_the_challenger_to_shadow(running, credit_v2, analyst):
    experiment_stop(experiment=running, reason="Looks wrong", actor=analyst)
    experiment_decide(experiment=running, decision="revert", reason="Not worth it", actor=analyst)
    credit_v2.refresh_from_db()
    assert credit_v2.stage == Stage.SHADOW


def test_extending_resumes_the_experiment_with_its_locked_criteria(running, analyst, moving_clock):
    criteria = running.criteria
    experiment_stop(experiment=running, reason="Pause", actor=analyst)
    experiment_decide(
        experiment=running, decision="extend", reason="Need more data", actor=analyst, extend_days=7
    )
    running.refresh_from_db()
    assert running.status == "running" and running.criteria == criteria
    assert running.ends_at == START + timedelta(days=21) and running.allocation == {"v1": 0.5, "v2": 0.5}
    assert [h["shares"] for h in running.allocation_history] == [
        {"v1": 0.5, "v2": 0.5},
        {"v1": 1.0, "v2": 0.0},
        {"v1": 0.5, "v2": 0.5},
    ]


def test_a_bandit_moves_traffic_to_the_better_challenger(credit_v1, credit_v2, analyst, moving_clock):
    spec = definition(credit_v2.model, mode="bandit")
    experiment = experiment_start(experiment=experiment_create(spec=spec, actor=analyst), actor=analyst)
    feed_hours([(credit_v1, 150, 0.70), (credit_v2, 150, 0.76)], hours=2)
    look = look_at(experiment, moving_clock, 2)
    experiment.refresh_from_db()
    assert look.stop_reason == "" and experiment.allocation["v2"] > 0.8
    assert experiment.allocation == look.results["allocation"] and len(experiment.allocation_history) == 2


@pytest.mark.usefixtures("eager_celery")
def test_the_dispatcher_claims_each_running_experiment_once_per_period(running, moving_clock):
    assert experiments_claim_due() == [running.pk]
    assert experiments_claim_due() == []
    moving_clock.at(moving_clock.now + timedelta(minutes=16))
    assert experiments_claim_due() == [running.pk]
    from drift.tasks import experiments_evaluate

    moving_clock.at(moving_clock.now + timedelta(minutes=16))
    assert experiments_evaluate.delay().get() == [running.pk]


def test_a_draft_is_never_evaluated(draft, moving_clock):
    assert experiment_evaluate(experiment_id=draft.pk) is None
    assert Experiment.objects.get(pk=draft.pk).last_evaluated_at is None


def test_a_version_in_an_experiment_is_kept_until_its_model_goes(running, credit_v2):
    from django.db.models import RestrictedError

    with pytest.raises(RestrictedError):
        credit_v2.delete()
    running.model.delete()
    assert not Experiment.objects.exists()
