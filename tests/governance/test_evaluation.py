"""policies_evaluate on analysis runs: events, persistence, mitigations, requests, idempotence."""

import pytest

from drift.models import RunStatus
from governance.models import (
    ActionRequest,
    AuditEntry,
    DriftEvent,
    EventStatus,
    Incident,
    RetrainingRequest,
    RuleEvaluation,
    ServingMode,
    ServingState,
)
from governance.selectors import serving_mode_of
from governance.services.events import drift_event_transition
from governance.services.policies import policy_create, policy_update
from tests.governance.conftest import SHARE_RULE, results

pytestmark = pytest.mark.usefixtures("clock")


def test_a_breach_opens_an_event_and_moves_the_model_to_human_review(share_policy, make_run, evaluate):
    run = make_run(0, results(0.5))

    verdicts = evaluate(run)

    event = DriftEvent.objects.get()
    assert verdicts[0].fired and event.status == EventStatus.DETECTED and event.latest_value == 0.5
    assert event.threshold == 0.2 and event.severity == "critical" and list(event.runs.all()) == [run]
    state = ServingState.objects.get()
    assert state.mode == ServingMode.HUMAN_REVIEW and list(state.events.all()) == [event]
    assert "Drift guard" in state.reason and state.changed_by_actor == f"policy:{share_policy.pk}"


def test_a_continuing_breach_updates_its_event_instead_of_opening_another(share_policy, make_run, evaluate):
    for day in range(3):
        evaluate(make_run(day, results(0.5)))

    event = DriftEvent.objects.get()
    assert event.windows == 3 and event.runs.count() == 3 and event.breach_active


def test_when_the_breach_stops_the_event_stays_open_until_a_person_closes_it(
    share_policy, make_run, evaluate, alice
):
    evaluate(make_run(0, results(0.5)))
    evaluate(make_run(1, results(0.0)))

    event = DriftEvent.objects.get()
    assert event.status == EventStatus.DETECTED and not event.breach_active
    assert ServingState.objects.get().mode == ServingMode.HUMAN_REVIEW  # only a person relaxes it


def test_a_breach_that_resumes_continues_the_open_event(share_policy, make_run, evaluate):
    evaluate(make_run(0, results(0.5)))
    evaluate(make_run(1, results(0.0)))
    evaluate(make_run(2, results(1.0)))

    event = DriftEvent.objects.get()
    assert event.breach_active and event.windows == 2 and event.latest_value == 1.0
    assert AuditEntry.objects.filter(action="drift_event.resume", object_id=str(event.pk)).count() == 1


def test_after_an_event_is_closed_a_new_breach_opens_a_new_event(share_policy, make_run, evaluate, alice):
    evaluate(make_run(0, results(0.5)))
    first = DriftEvent.objects.get()
    drift_event_transition(event=first, to="false_alarm", by=alice, note="known seasonal shift")

    evaluate(make_run(1, results(0.5)))

    assert DriftEvent.objects.count() == 2
    assert DriftEvent.objects.exclude(pk=first.pk).get().status == EventStatus.DETECTED


def test_evaluating_the_same_run_twice_changes_nothing(share_policy, make_run, evaluate):
    run = make_run(0, results(0.5))
    evaluate(run)
    counts = (DriftEvent.objects.count(), AuditEntry.objects.count(), RuleEvaluation.objects.count())

    evaluate(run)

    assert (DriftEvent.objects.count(), RuleEvaluation.objects.count()) == counts[0::2]
    event = DriftEvent.objects.get()
    assert event.windows == 1 and event.actions_taken.count("serving mode") == 1


def test_persistence_waits_for_n_consecutive_windows(credit_model, alice, make_run, evaluate):
    policy_create(model=credit_model, name="Slow", rules=[{**SHARE_RULE, "windows": 3}], by=alice)

    for day, share in enumerate([0.5, 0.5, 0.0, 0.5, 0.5]):
        evaluate(make_run(day, results(share)))
    assert not DriftEvent.objects.exists()

    last = make_run(5, results(0.5))
    evaluate(last)
    event = DriftEvent.objects.get()
    assert event.windows == 3  # the event links the streak that made it fire
    assert sorted(event.runs.values_list("window_start__day", flat=True)) == [4, 5, 6]


def test_a_window_without_labels_neither_breaches_nor_resets_a_streak(
    credit_model, alice, make_run, evaluate
):
    rule = {
        "signal": "performance.accuracy",
        "op": "<",
        "value": 0.8,
        "windows": 2,
        "actions": [{"type": "open_event"}],
    }
    policy_create(model=credit_model, name="Accuracy", rules=[rule], by=alice)
    labelled = results(
        performance={"status": "ok", "metrics": {"accuracy": {"value": 0.7, "degraded": True}}}
    )

    evaluate(make_run(0, labelled))
    evaluate(make_run(1, results()))  # no labels yet: performance is no_data
    evaluate(make_run(2, labelled))

    assert RuleEvaluation.objects.filter(breached__isnull=True).count() == 1
    assert DriftEvent.objects.get().latest_value == 0.7


def test_runs_that_are_not_done_are_not_evaluated(share_policy, make_run, evaluate):
    assert evaluate(make_run(0, results(0.5), status=RunStatus.FAILED)) == []
    assert not RuleEvaluation.objects.exists()


def test_policies_only_make_the_mode_stricter(credit_model, alice, make_run, evaluate):
    paused = {**SHARE_RULE, "actions": [{"type": "serving_mode", "mode": "paused"}, {"type": "open_event"}]}
    fallback = {**SHARE_RULE, "value": 0.1, "actions": [{"type": "serving_mode", "mode": "fallback"}]}
    policy_create(model=credit_model, name="A pause", rules=[paused], by=alice)
    policy_create(model=credit_model, name="B fallback", rules=[fallback], by=alice)

    evaluate(make_run(0, results(0.5)))

    assert serving_mode_of(credit_model) == ServingMode.PAUSED
    assert AuditEntry.objects.filter(action="serving_mode.change").count() == 1


def test_a_mitigation_snapshots_the_state_that_led_to_it(share_policy, make_run, evaluate):
    run = make_run(0, results(0.5))

    evaluate(run)

    snap = DriftEvent.objects.get().snapshot
    assert snap["run"]["id"] == run.pk and snap["observed"] == 0.5 and snap["threshold"] == 0.2
    assert (
        snap["policy"]["version"] == 1 and snap["policy"]["rules"][0]["signal"] == "data_drift.share_drifted"
    )
    assert snap["learned_thresholds"] == {"income": 0.1, "age": 0.1}
    assert [f["feature"] for f in snap["results"]["data_drift"]["features"]] == ["income"]


def test_an_incident_retraining_and_holdout_are_requested_once_per_event(
    credit_model, alice, make_run, evaluate
):
    actions = [
        {"type": "open_event"},
        {"type": "open_incident", "severity": "SEV2"},
        {"type": "request_retraining", "note": "use last month"},
        {"type": "schedule_holdout"},
    ]
    policy_create(model=credit_model, name="Escalate", rules=[{**SHARE_RULE, "actions": actions}], by=alice)

    evaluate(make_run(0, results(0.5)))
    evaluate(make_run(1, results(0.0)))
    evaluate(make_run(2, results(0.5)))  # resumes the same open event

    incident = Incident.objects.get()
    assert incident.severity == "SEV2" and list(incident.events.all()) == [DriftEvent.objects.get()]
    assert list(ActionRequest.objects.values_list("kind", "status")) == [("holdout", "scheduled")]
    retraining = RetrainingRequest.objects.get()
    assert retraining.status == "requested" and retraining.event == DriftEvent.objects.get()
    assert retraining.reason.startswith("use last month (policy 'Escalate' v1:")


def test_an_opened_incident_reads_like_its_rule_and_quotes_a_rounded_value(
    credit_model, alice, make_run, evaluate
):
    actions = [{"type": "open_event"}, {"type": "open_incident", "severity": "SEV2"}]
    words = "More than a fifth of the inputs moved"
    rule = {**SHARE_RULE, "description": words, "actions": actions}
    policy_create(model=credit_model, name="Escalate", rules=[rule], by=alice)
    seen = results(0.5)
    seen["data_drift"]["share_drifted"] = 11 / 14  # as the demo's day 20: 11 of 14 features

    evaluate(make_run(0, seen))

    incident = Incident.objects.get()
    assert incident.title == words == DriftEvent.objects.get().title
    assert "(observed 0.7857)" in incident.summary


def test_a_new_policy_version_keeps_the_history_of_an_unchanged_condition(
    share_policy, make_run, evaluate, alice
):
    evaluate(make_run(0, results(0.5)))
    policy_update(
        policy=share_policy, rules=[{**SHARE_RULE, "severity": "warning"}], reason="less noise", by=alice
    )

    evaluate(make_run(1, results(0.5)))

    event = DriftEvent.objects.get()
    assert event.windows == 2 and event.severity == "warning" and event.policy_version.number == 2


def test_a_failing_policy_spares_the_others(credit_model, alice, make_run, evaluate, monkeypatch):
    policy_create(model=credit_model, name="A", rules=[SHARE_RULE], by=alice)
    policy_create(model=credit_model, name="B", rules=[{**SHARE_RULE, "value": 0.1}], by=alice)
    from governance.services import policies

    real = policies._evaluate_rule

    def flaky(policy, *args):
        if policy.name == "A":
            raise RuntimeError("boom")
        return real(policy, *args)

    monkeypatch.setattr(policies, "_evaluate_rule", flaky)
    evaluate(make_run(0, results(0.5)))

    assert list(DriftEvent.objects.values_list("policy__name", flat=True)) == ["B"]


def test_a_policy_that_lost_a_race_to_open_the_event_is_evaluated_again(
    share_policy, make_run, evaluate, monkeypatch
):
    from django.db import IntegrityError

    from governance.services import policies

    real, calls = policies._evaluate_rule, []

    def racing(*args):
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError("uniq_open_event_per_rule")
        return real(*args)

    monkeypatch.setattr(policies, "_evaluate_rule", racing)
    evaluate(make_run(0, results(0.5)))

    assert len(calls) == 2 and DriftEvent.objects.count() == 1
