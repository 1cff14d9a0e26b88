"""Drift events over the API: list and filter, detail, lifecycle transitions, false-alarm feedback."""

from dataclasses import asdict

import pytest

from drift.models import LearnedThreshold
from drift.services.thresholds import bucket
from drift.stats.thresholds import LearnedThreshold as Learned
from governance.models import AuditEntry, DriftEvent, EventStatus
from governance.services.policies import policy_create
from tests.governance.conftest import SHARE_RULE, assert_error, results

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def event(share_policy, make_run, evaluate):
    evaluate(make_run(0, results(0.5)))
    return DriftEvent.objects.get()


def move(api, user, event, to, **extra):
    return api(user).post(f"/api/v1/events/{event.pk}/transition/", {"to": to, **extra}, format="json")


def test_frontline_and_viewers_read_events_with_filters(api, bob, carol, event):
    listed = api(bob).get("/api/v1/events/?model=credit-risk&status=detected&severity=critical").json()
    empty = api(carol).get("/api/v1/events/?status=resolved").json()

    assert [e["id"] for e in listed["results"]] == [event.pk] and empty["count"] == 0
    assert listed["results"][0]["title"] == "data_drift.share_drifted > 0.2"


def test_an_unknown_filter_value_is_a_400_naming_it(api, bob, event):
    assert_error(api(bob).get("/api/v1/events/?status=sleeping"), 400, field="status")


def test_the_detail_links_analyses_snapshot_and_history(api, bob, event):
    body = api(bob).get(f"/api/v1/events/{event.pk}/").json()

    assert [a["id"] for a in body["analyses"]] == list(event.runs.values_list("pk", flat=True))
    assert body["snapshot"]["observed"] == 0.5 and "serving mode → human_review" in body["actions_taken"]
    assert [h["action"] for h in body["history"]][:1] == ["drift_event.open"]


def test_an_analyst_walks_an_event_through_its_lifecycle(api, alice, event):
    steps = [
        ("acknowledged", {}),
        ("investigating", {"suspected_cause": "upstream income feed switched to monthly"}),
        ("mitigated", {"actions_taken": "pinned the old feed"}),
        ("resolved", {"results": "share drifted back to 0"}),
    ]
    for to, extra in steps:
        answer = move(api, alice, event, to, note=f"now {to}", **extra)
        assert answer.status_code == 200, answer.json()

    event.refresh_from_db()
    assert (
        event.status == EventStatus.RESOLVED and event.closed_by == alice and event.acknowledged_by == alice
    )
    assert event.suspected_cause.startswith("upstream") and event.results == "share drifted back to 0"
    assert "pinned the old feed" in event.actions_taken
    audit = AuditEntry.objects.filter(action="drift_event.transition", object_id=str(event.pk))
    assert [a.after["status"] for a in audit.order_by("id")] == [s for s, _ in steps]
    assert all(a.user == alice for a in audit)


def test_an_illegal_transition_is_a_clear_400(api, alice, event):
    body = assert_error(move(api, alice, event, "resolved"), 400, field="to", says="allowed from detected")

    assert "acknowledged" in body["detail"]
    assert_error(move(api, alice, event, "sleeping"), 400, field="to")


def test_frontline_may_not_transition_an_event(api, bob, event):
    assert_error(move(api, bob, event, "acknowledged"), 403)
    event.refresh_from_db()
    assert event.status == EventStatus.DETECTED


def test_a_closed_event_moves_nowhere(api, alice, event):
    move(api, alice, event, "false_alarm")

    assert_error(move(api, alice, event, "acknowledged"), 400, field="to", says="none")


def test_a_false_alarm_on_a_feature_signal_widens_its_learned_threshold(
    api, alice, credit_model, credit_v1, make_run, evaluate
):
    rule = {"signal": "data_drift.feature.income", "learned": True, "actions": [{"type": "open_event"}]}
    policy_create(model=credit_model, name="Income", rules=[rule], by=alice)
    learned = Learned(
        "wasserstein",
        0.1,
        (0.01, 0.02, 0.05),
        0.995,
        0.01,
        0.5,
        chunk_size=2**10,
        window_size=2**10,
        reference_size=2000,
    )
    row = LearnedThreshold.objects.create(
        version=credit_v1,
        reference_digest="ref0",
        feature="income",
        mode="binned",
        method="wasserstein",
        window_bucket=bucket(1000),
        state={**asdict(learned), "null": list(learned.null)},
        value=0.1,
    )
    evaluate(make_run(0, results(0.5)))
    event = DriftEvent.objects.get()

    answer = move(api, alice, event, "false_alarm", note="a campaign, expected")

    assert answer.status_code == 200, answer.json()
    row.refresh_from_db()
    assert row.false_alarms == 1 and row.value > 0.3  # the same effect (0.3) passes next time
    entry = AuditEntry.objects.get(action="drift_event.transition", object_id=str(event.pk))
    assert "learned threshold of 'income'" in entry.after["threshold_feedback"]


def test_a_false_alarm_is_recorded_even_when_no_threshold_can_adapt(api, alice, event):
    answer = move(api, alice, event, "false_alarm")

    assert answer.status_code == 200 and answer.json()["status"] == "false_alarm"


def test_an_unknown_event_is_404(api, alice, db):
    assert_error(api(alice).get("/api/v1/events/999/"), 404)


def test_integration_keys_cannot_read_events(api, credit_key, event):
    assert_error(api(key=credit_key).get("/api/v1/events/"), 403)


def test_rules_with_the_same_signal_but_other_conditions_get_their_own_events(
    credit_model, alice, make_run, evaluate
):
    policy_create(model=credit_model, name="Two", rules=[SHARE_RULE, {**SHARE_RULE, "value": 0.4}], by=alice)

    evaluate(make_run(0, results(0.5)))

    assert DriftEvent.objects.count() == 2
