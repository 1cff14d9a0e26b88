"""POST outcomes (labels joined by prediction id) and POST/GET health samples."""

from typing import Any

import pytest

from drift.models import HealthSample, IngestionBatch, Outcome
from tests.conftest import prediction
from tests.drift.conftest import NOW, ago, assert_error

OUTCOMES = "/api/v1/models/credit-risk/outcomes/"
HEALTH = "/api/v1/models/credit-risk/health/"

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def stored(api: Any, credit_key: str) -> Any:
    """Predictions p-0 … p-4 of the credit model, sent by its integration key."""
    client = api(key=credit_key)
    answer = client.post(
        "/api/v1/models/credit-risk/predictions/",
        {"version": "v1", "records": [prediction(i) for i in range(5)]},
        format="json",
    )
    assert answer.json()["accepted"] == 5
    return client


def outcome(i: int | str, label: Any = 1, **extra: Any) -> dict[str, Any]:
    pid = f"p-{i}" if isinstance(i, int) else i
    return {"prediction_id": pid, "label": label, "timestamp": ago(minutes=5), **extra}


def labels() -> dict[str, Any]:
    return dict(Outcome.objects.values_list("prediction__record_id", "label"))


# --- outcomes ---


def test_outcomes_are_joined_to_their_predictions_by_id(stored):
    answer = stored.post(OUTCOMES, {"records": [outcome(0, 1), outcome(1, 0)]}, format="json")

    assert answer.status_code == 200, answer.json()
    assert answer.json() == {"accepted": 2, "duplicates": 0, "rejected": [], "flagged": 0, "late": 0}
    assert labels() == {"p-0": 1, "p-1": 0}
    first = Outcome.objects.get(prediction__record_id="p-0")
    assert (first.observed_at, first.received_at) == (NOW.replace(minute=25), NOW)


def test_an_outcome_without_a_timestamp_is_observed_when_received(stored):
    stored.post(OUTCOMES, {"records": [{"prediction_id": "p-0", "label": "good"}]}, format="json")

    assert Outcome.objects.get().observed_at == NOW


def test_outcomes_for_unknown_prediction_ids_refuse_the_batch_and_are_listed(stored):
    answer = stored.post(
        OUTCOMES, {"records": [outcome(0), outcome("p-404"), outcome("p-405")]}, format="json"
    )

    body = assert_error(answer, 400, field="prediction_id", says="no prediction with id 'p-404'", index=1)
    assert [(r["index"], r["id"]) for r in body["rejected"]] == [(1, "p-404"), (2, "p-405")]
    assert not Outcome.objects.exists()


def test_partial_outcomes_store_the_known_ids_and_list_the_unknown_ones(stored):
    answer = stored.post(
        OUTCOMES + "?partial=true", {"records": [outcome(0), outcome("p-404"), outcome(2)]}, format="json"
    )

    assert answer.status_code == 200
    assert answer.json()["accepted"] == 2
    assert answer.json()["rejected"] == [
        {
            "index": 1,
            "id": "p-404",
            "errors": [{"field": "prediction_id", "message": "no prediction with id 'p-404' for this model"}],
        }
    ]
    assert labels() == {"p-0": 1, "p-2": 1}


def test_an_outcome_repeated_in_a_batch_or_resent_later_is_a_duplicate(stored):
    first = stored.post(OUTCOMES, {"records": [outcome(0, 1), outcome(0, 0), outcome(1)]}, format="json")
    again = stored.post(OUTCOMES, {"records": [outcome(1, 0), outcome(2)]}, format="json")

    assert (first.json()["accepted"], first.json()["duplicates"]) == (2, 1)
    assert (again.json()["accepted"], again.json()["duplicates"]) == (1, 1)
    assert labels() == {"p-0": 1, "p-1": 1, "p-2": 1}


def test_an_outcome_cannot_label_another_models_prediction(api, alice, stored):
    client = api(alice)
    client.post("/api/v1/models/", {"slug": "fraud", "name": "Fraud", "task": "regression"}, format="json")

    answer = client.post("/api/v1/models/fraud/outcomes/", {"records": [outcome(0)]}, format="json")

    assert_error(answer, 400, field="prediction_id", says="no prediction with id 'p-0'", index=0)


@pytest.mark.parametrize(
    ("record", "field", "says"),
    [
        ({"label": 1}, "prediction_id", "required"),
        (outcome(["p-0"]), "prediction_id", "required"),
        (outcome("p" * 201), "prediction_id", "longer than 200"),
        ({"prediction_id": "p-0"}, "label", "required"),
        (outcome(0, label={"class": 1}), "label", "required: a label or a number"),
        (outcome(0, timestamp="last tuesday"), "timestamp", "not an ISO 8601 time"),
        (outcome(0, timestamp=ago(hours=-1)), "timestamp", "in the future"),
        (outcome(0, weight=2), "weight", "unknown field"),
        ("p-0", "", "expected an object"),
    ],
)
def test_it_refuses_a_malformed_outcome_naming_the_field(stored, record, field, says):
    answer = stored.post(OUTCOMES, {"records": [outcome(1), record]}, format="json")

    assert_error(answer, 400, field=field, says=says, index=1)
    assert not Outcome.objects.exists()


def test_an_outcome_batch_over_the_record_limit_is_refused(stored, settings):
    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "MAX_BATCH_RECORDS": 2}

    answer = stored.post(OUTCOMES, {"records": [outcome(i) for i in range(3)]}, format="json")

    assert_error(answer, 400, field="records", says="at most 2 records")


def test_every_outcome_batch_leaves_its_tally_including_refused_ones(stored):
    stored.post(OUTCOMES, {"records": [outcome(0), outcome(0)]}, format="json")
    stored.post(OUTCOMES, {"records": [outcome(1), outcome("p-404")]}, format="json")
    stored.post(OUTCOMES + "?partial=1", {"records": [outcome(1), outcome("p-404")]}, format="json")
    stored.post(OUTCOMES, {"records": "none"}, format="json")

    tallies = [
        (b.partial, b.accepted, b.duplicates, b.rejected)
        for b in IngestionBatch.objects.filter(kind="outcomes").order_by("id")
    ]
    assert tallies == [(False, 1, 1, 0), (False, 0, 0, 1), (True, 1, 0, 1), (False, 0, 0, 0)]
    refused = IngestionBatch.objects.filter(kind="outcomes").order_by("id")[1]
    assert refused.errors_sample[0]["errors"][0]["field"] == "prediction_id"
    assert refused.submitted_by == "integration:scoring service"


# --- health ---


def test_a_health_sample_is_stored_and_shown_as_the_models_latest_health(api, carol, credit_key):
    client = api(key=credit_key)
    client.post(HEALTH, {"timestamp": ago(minutes=10), "queue_depth": 3, "cpu": 40.0}, format="json")

    answer = client.post(
        HEALTH,
        {
            "timestamp": ago(minutes=1),
            "queue_depth": 7,
            "request_count": 1200,
            "error_count": 4,
            "cpu": 55.5,
            "memory": 812.0,
        },
        format="json",
    )

    assert answer.status_code == 201, answer.json()
    assert answer.json()["queue_depth"] == 7
    listed = api(carol).get(HEALTH).json()
    assert [s["queue_depth"] for s in listed["results"]] == [7, 3]
    latest = api(carol).get("/api/v1/models/credit-risk/").json()["latest_health"]
    assert (latest["request_count"], latest["error_count"], latest["memory"]) == (1200, 4, 812.0)


def test_a_health_sample_without_a_timestamp_is_taken_now(api, alice, credit_v1):
    api(alice).post(HEALTH, {"error_count": 0}, format="json")

    assert HealthSample.objects.get().timestamp == NOW


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"queue_depth": -1}, "queue_depth", "non-negative"),
        ({"queue_depth": 2.5}, "queue_depth", "whole number"),
        ({"request_count": 2**63}, "request_count", "whole number up to 2147483647"),
        ({"error_count": 1e300}, "error_count", "whole number up to"),
        ({"cpu": "high"}, "cpu", "non-negative number"),
        ({"memory": True}, "memory", "non-negative number"),
        ({"cpu": 1, "timestamp": "now"}, "timestamp", "not an ISO 8601 time"),
        ({"cpu": 1, "timestamp": ago(hours=-1)}, "timestamp", "in the future"),
        ({"cpu": 1, "gpu": 2}, "gpu", "unknown field"),
        ({"timestamp": ago(minutes=1)}, "", "send one of"),
    ],
)
def test_it_refuses_a_bad_health_sample_naming_the_field(api, alice, credit_v1, body, field, says):
    answer = api(alice).post(HEALTH, body, format="json")

    assert_error(answer, 400, field=field, says=says)
    assert not HealthSample.objects.exists()


def test_a_health_sample_must_be_a_json_object(api, alice, credit_v1):
    assert_error(
        api(alice).post(HEALTH, [{"cpu": 1}], format="json"), 400, field="body", says="expected an object"
    )
