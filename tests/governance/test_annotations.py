"""Annotations: frontline feedback on a prediction, a time range or a segment; triage by analysts."""

import pytest

from drift.services.ingestion import predictions_ingest
from governance.models import Annotation, AuditEntry, ImprovementTask, RetrainingRequest
from tests.conftest import prediction
from tests.governance.conftest import assert_error, results

pytestmark = pytest.mark.usefixtures("clock")
URL = "/api/v1/annotations/"


@pytest.fixture
def predicted(credit_v1):
    predictions_ingest(model=credit_v1.model, version="v1", records=[prediction(1), prediction(2)])
    return credit_v1


def flag(api, who, **body):
    return api(who).post(
        URL, {"model": "credit-risk", "category": "wrong_prediction", "note": "odd", **body}, format="json"
    )


def test_a_frontline_user_flags_a_prediction_by_its_record_id(api, bob, carol, predicted):
    made = flag(api, bob, record_id="p-1", note="Declined a <b>loyal</b> customer")

    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["target"] == "prediction" and body["record_id"] == "p-1" and body["status"] == "open"
    assert body["note"] == "Declined a <b>loyal</b> customer"  # plain text, kept as sent (pages escape it)
    assert body["created_by"] == "bob"
    assert api(carol).get(URL).json()["count"] == 1
    assert AuditEntry.objects.get(action="annotation.create").actor == "bob"


def test_a_time_range_and_a_segment_can_be_flagged(api, bob, predicted):
    ranged = flag(api, bob, category="data_problem", start="2026-11-20T08:00:00Z", end="2026-11-20T10:00:00Z")
    segment = flag(api, bob, category="edge_case", segment={"feature": "region", "value": "north"})

    assert ranged.status_code == 201 and ranged.json()["target"] == "time_range"
    assert segment.status_code == 201 and segment.json()["segment"] == {"feature": "region", "value": "north"}
    assert api(bob).get(f"{URL}?target=segment").json()["count"] == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"record_id": "nope"}, "record_id"),
        ({}, "target"),
        ({"record_id": "p-1", "segment": {"feature": "region", "value": "north"}}, "target"),
        ({"start": "2026-11-20T10:00:00Z", "end": "2026-11-20T08:00:00Z"}, "end"),
        ({"start": "2026-01-01T00:00:00Z", "end": "2026-11-20T00:00:00Z"}, "start"),
        ({"segment": {"feature": "planet", "value": "mars"}}, "segment.feature"),
        ({"record_id": "p-1", "note": "  "}, "note"),
    ],
)
def test_what_cannot_be_flagged_is_a_400_naming_the_field(api, bob, predicted, body, field):
    assert_error(flag(api, bob, **body), 400, field=field)


def test_viewers_and_integration_keys_cannot_flag(api, carol, predicted, credit_key):
    assert_error(flag(api, carol, record_id="p-1"), 403)
    key = api(key=credit_key).post(
        URL, {"model": "credit-risk", "category": "other", "note": "x", "record_id": "p-1"}, format="json"
    )
    assert_error(key, 403)


@pytest.fixture
def annotation(api, bob, predicted):
    return flag(api, bob, record_id="p-2").json()["id"]


def triage(api, who, pk, **body):
    return api(who).post(f"{URL}{pk}/triage/", body, format="json")


def test_an_analyst_accepts_feedback_into_a_task_linked_to_an_event(
    api, alice, annotation, share_policy, make_run, evaluate
):
    evaluate(make_run(0, results(0.5)))
    event = share_policy.events.get()

    answer = triage(api, alice, annotation, decision="accept", event=event.pk, title="Check loyal customers")

    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "accepted" and answer.json()["triaged_by"] == "alice"
    task = ImprovementTask.objects.get()
    assert (
        task.event == event
        and task.title == "Check loyal customers"
        and list(task.annotations.all()) == [Annotation.objects.get(pk=annotation)]
    )
    assert api(alice).get("/api/v1/improvement-tasks/").json()["results"][0]["annotations"] == [annotation]
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))[-2:]
    assert actions == ["improvement_task.create", "annotation.accept"]


def test_accepting_may_ask_for_retraining_with_the_note_as_reason(api, alice, annotation):
    triage(api, alice, annotation, decision="accept", request_retraining=True)

    request = RetrainingRequest.objects.get()
    assert request.reason.startswith(f"From annotation #{annotation} (Wrong prediction): odd")
    assert ImprovementTask.objects.get().retraining_request == request


def test_accepting_needs_a_link_and_dismissing_a_reason(api, alice, annotation):
    assert_error(triage(api, alice, annotation, decision="accept"), 400, field="event")
    assert_error(triage(api, alice, annotation, decision="accept", event=999), 400, field="event")
    assert_error(triage(api, alice, annotation, decision="dismiss"), 400, field="reason")

    dismissed = triage(api, alice, annotation, decision="dismiss", reason="expected: policy change")

    assert (
        dismissed.json()["status"] == "dismissed"
        and dismissed.json()["dismiss_reason"] == "expected: policy change"
    )
    assert_error(triage(api, alice, annotation, decision="dismiss", reason="again"), 409)


def test_only_analysts_triage(api, bob, annotation):
    assert_error(triage(api, bob, annotation, decision="dismiss", reason="no"), 403)


def test_a_task_is_marked_done_by_an_analyst(api, alice, annotation):
    triage(api, alice, annotation, decision="accept", request_retraining=True)
    task = ImprovementTask.objects.get()

    done = api(alice).patch(f"/api/v1/improvement-tasks/{task.pk}/", {"status": "done"}, format="json")

    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["done_at"]
    assert AuditEntry.objects.filter(action="improvement_task.update").exists()
