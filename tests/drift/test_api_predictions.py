"""POST and GET /api/v1/models/{slug}/predictions/: validation, idempotency, value problems, tallies."""

from typing import Any

import orjson
import pytest

from drift.models import IngestionBatch, PredictionLog
from tests.conftest import prediction
from tests.drift.conftest import NOW, ago, assert_error, iso

URL = "/api/v1/models/credit-risk/predictions/"

pytestmark = pytest.mark.usefixtures("clock")


def post(client: Any, records: list[Any], *, partial: bool = False, version: Any = "v1") -> Any:
    url = URL + ("?partial=true" if partial else "")
    return client.post(url, {"version": version, "records": records}, format="json")


def stored_ids() -> list[str]:
    return sorted(PredictionLog.objects.values_list("record_id", flat=True))


def without(record: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != name}


def with_features(i: int, **features: Any) -> dict[str, Any]:
    record = prediction(i)
    record["features"] = {**record["features"], **features}
    return record


# --- the happy path ---


def test_an_integration_stores_a_batch_and_the_answer_tallies_it(api, credit_key):
    answer = post(api(key=credit_key), [prediction(i) for i in range(3)])

    assert answer.status_code == 200, answer.json()
    assert answer.json() == {"accepted": 3, "duplicates": 0, "rejected": [], "flagged": 0, "late": 0}
    assert stored_ids() == ["p-0", "p-1", "p-2"]


def test_a_stored_prediction_keeps_every_field_sent(api, alice, credit_v1):
    record = prediction(
        7,
        status="error",
        attributions={"income": 0.4, "age": -0.1},
        lineage={
            "source": "kafka",
            "pipeline_version": "2.3",
            "feature_timestamps": {"income": "2026-11-19"},
        },
    )

    post(api(alice), [record])

    row = PredictionLog.objects.get()
    assert (row.record_id, row.version_id, row.timestamp, row.received_at) == (
        "p-7",
        credit_v1.pk,
        NOW.replace(minute=0),
        NOW,
    )
    assert (row.prediction, row.score, row.latency_ms, row.status) == (1, 0.8, 12.5, "error")
    assert row.attributions == {"income": 0.4, "age": -0.1}
    assert row.lineage["feature_timestamps"] == {"income": "2026-11-19"}
    assert (row.is_late, row.value_issues) == (False, None)


def test_integer_ids_are_stored_as_text(api, alice, credit_v1):
    post(api(alice), [prediction(0, id=12345)])

    assert stored_ids() == ["12345"]


def test_the_list_pages_newest_first(api, alice, carol, credit_v1):
    post(api(alice), [prediction(i, timestamp=ago(minutes=i)) for i in range(5)])
    client = api(carol)

    first = client.get(URL + "?limit=2").json()
    second = client.get(URL + "?limit=2&offset=2").json()

    assert first["count"] == 5
    assert [r["id"] for r in first["results"]] == ["p-0", "p-1"]
    assert [r["id"] for r in second["results"]] == ["p-2", "p-3"]
    assert first["next"].endswith("limit=2&offset=2")
    assert set(first["results"][0]) == {
        "id",
        "version",
        "timestamp",
        "received_at",
        "features",
        "prediction",
        "score",
        "latency_ms",
        "status",
        "attributions",
        "lineage",
        "is_late",
        "value_issues",
    }


def test_the_list_filters_by_time_window_start_inclusive_end_exclusive_and_by_version(
    api, alice, carol, credit_v1
):
    client = api(alice)
    client.post(
        "/api/v1/models/credit-risk/versions/",
        {"version": "v2", "schema": {"features": [{"name": "income", "type": "numeric"}]}},
        format="json",
    )
    post(client, [prediction(i, timestamp=ago(hours=i)) for i in range(4)])
    post(
        client,
        [{"id": "q-2", "timestamp": ago(hours=2), "features": {"income": 5}, "prediction": 0}],
        version="v2",
    )
    reader = api(carol)

    window = reader.get(URL, {"start": ago(hours=2), "end": ago(hours=1)}).json()
    v2_window = reader.get(URL, {"start": ago(hours=2), "end": ago(hours=1), "version": "v2"}).json()
    since = reader.get(URL, {"start": ago(hours=1)}).json()

    assert sorted(r["id"] for r in window["results"]) == ["p-2", "q-2"]
    assert [r["id"] for r in v2_window["results"]] == ["q-2"]
    assert [r["id"] for r in since["results"]] == ["p-0", "p-1"]


def test_the_list_caps_a_huge_limit(api, carol, credit_v1):
    answer = api(carol).get(URL + "?limit=1000000000000000000000000000000")

    assert answer.status_code == 200
    assert answer.json()["count"] == 0


@pytest.mark.parametrize(
    ("query", "field", "says"),
    [
        ("start=yesterday", "start", "not an ISO 8601 time"),
        ("end=2026-13-01", "end", "not an ISO 8601 time"),
        ("version=v9", "version", "unknown version 'v9'"),
    ],
)
def test_the_list_refuses_a_filter_it_cannot_read(api, carol, credit_v1, query, field, says):
    assert_error(api(carol).get(f"{URL}?{query}"), 400, field=field, says=says)


# --- whole-request problems ---


def test_malformed_json_is_refused_with_400(api, alice, credit_v1):
    answer = api(alice).post(URL, b'{"version": "v1", "records": [', content_type="application/json")

    assert_error(answer, 400, field="body", says="Malformed JSON")


def test_a_body_that_is_not_a_json_object_is_refused(api, alice, credit_v1):
    answer = api(alice).post(URL, [prediction(0)], format="json")

    assert_error(answer, 400, field="body", says="expected an object, got a list")


def test_text_plain_is_refused_with_415(api, alice, credit_v1):
    answer = api(alice).post(URL, orjson.dumps({"version": "v1", "records": []}), content_type="text/plain")

    assert_error(answer, 415, field="body", says="Unsupported media type")


def test_an_unknown_model_is_404(api, alice, credit_v1):
    answer = api(alice).post(
        "/api/v1/models/no-such/predictions/", {"version": "v1", "records": []}, format="json"
    )

    assert_error(answer, 404, field="slug", says="No model with slug 'no-such'")


def test_an_unknown_version_is_400_and_lists_the_known_ones(api, alice, credit_v1):
    answer = post(api(alice), [prediction(0)], version="v9")

    body = assert_error(answer, 400, field="version", says="unknown version 'v9'")
    assert "Known versions: v1" in body["detail"]
    assert not PredictionLog.objects.exists()


@pytest.mark.parametrize(
    ("version", "says"), [(None, "required"), ("", "required"), (1, "expected a string")]
)
def test_a_missing_or_non_text_version_is_refused(api, alice, credit_v1, version, says):
    assert_error(post(api(alice), [prediction(0)], version=version), 400, field="version", says=says)


@pytest.mark.parametrize(
    ("records", "says"),
    [
        (None, "expected a list"),
        ({"id": 1}, "expected a list"),
        ("p-1", "expected a list"),
        ([], "must not be empty"),
    ],
)
def test_records_must_be_a_non_empty_list(api, alice, credit_v1, records, says):
    assert_error(post(api(alice), records), 400, field="records", says=says)


def test_a_batch_over_the_record_limit_is_refused_and_tallied(api, alice, credit_v1, settings):
    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "MAX_BATCH_RECORDS": 3}

    answer = post(api(alice), [prediction(i) for i in range(4)])

    body = assert_error(answer, 400, field="records", says="at most 3 records")
    assert "Split it" in body["detail"]
    assert not PredictionLog.objects.exists()
    batch = IngestionBatch.objects.get()
    assert (batch.accepted, batch.rejected) == (0, 4)


def test_a_body_over_the_size_limit_is_refused_with_413(api, alice, credit_v1, settings):
    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "MAX_BODY_BYTES": 2_000}

    answer = post(api(alice), [prediction(i) for i in range(20)])

    assert_error(answer, 413, field="body", says="the limit is 2000 bytes")
    assert not PredictionLog.objects.exists()


# --- records refused: structural problems ---


@pytest.mark.parametrize(
    ("record", "field", "says"),
    [
        (without(prediction(1), "id"), "id", "required"),
        (prediction(1, id=""), "id", "required"),
        (prediction(1, id=True), "id", "required"),
        (prediction(1, id="x" * 201), "id", "longer than 200"),
        (without(prediction(1), "timestamp"), "timestamp", "required"),
        (prediction(1, timestamp="yesterday at noon"), "timestamp", "not an ISO 8601 time"),
        (prediction(1, timestamp=1732000000), "timestamp", "not an ISO 8601 time"),
        (prediction(1, timestamp="0001-01-01T00:00:00+05:00"), "timestamp", "not an ISO 8601 time"),
        (prediction(1, timestamp=iso(NOW.replace(hour=13))), "timestamp", "in the future"),
        (without(prediction(1), "prediction"), "prediction", "required"),
        (prediction(1, prediction={"class": 1}), "prediction", "required: a label or a number"),
        (without(prediction(1), "features"), "features", "required"),
        (prediction(1, features=["income", 1]), "features", "expected an object, got a list"),
        (with_features(1, income="40k"), "features.income", "expected a number, got a string"),
        (with_features(1, income=True), "features.income", "expected a number, got a boolean"),
        (with_features(1, has_default="yes"), "features.has_default", "expected true or false"),
        (with_features(1, region=["north"]), "features.region", "expected a string, got a list"),
        (with_features(1, shoe_size=44), "features", "unknown feature(s) shoe_size"),
        (prediction(1, score="0.8"), "score", "expected a number"),
        (prediction(1, latency_ms=-1), "latency_ms", "must not be negative"),
        (prediction(1, status="fine"), "status", "expected 'ok' or 'error'"),
        (prediction(1, attributions=[0.1]), "attributions", "expected an object of feature: number"),
        (
            prediction(1, attributions={"income": "high"}),
            "attributions",
            "expected an object of feature: number",
        ),
        (
            prediction(1, attributions={"shoe_size": 0.1}),
            "attributions",
            "names features the schema does not",
        ),
        (prediction(1, lineage="kafka"), "lineage", "expected an object, got a string"),
        (
            prediction(
                1,
                lineage={
                    "a": {
                        "b": {
                            "c": {
                                "d": {
                                    "e": {
                                        "f": {
                                            "g": {
                                                "h": {
                                                    "i": {
                                                        "j": {
                                                            "k": {"l": {"m": {"n": {"o": {"p": {"q": 1}}}}}}
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                },
            ),
            "lineage",
            "nested deeper than 16",
        ),
        (prediction(1, colour="red"), "colour", "unknown field"),
        (7, "", "expected an object, got a number"),
        (None, "", "expected an object, got null"),
    ],
)
def test_it_refuses_the_whole_batch_when_one_record_is_malformed(api, alice, credit_v1, record, field, says):
    answer = post(api(alice), [prediction(0), record, prediction(2)])

    body = assert_error(answer, 400, field=field, says=says, index=1)
    assert "Record 1 was refused" in body["detail"] and "nothing was stored" in body["detail"]
    assert (body["accepted"], [r["index"] for r in body["rejected"]]) == (0, [1])
    assert not PredictionLog.objects.exists()


def test_a_refused_batch_names_every_refused_record(api, alice, credit_v1):
    records = [prediction(0, timestamp="soon"), prediction(1), with_features(2, income="many", age="old")]

    body = assert_error(post(api(alice), records), 400)

    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (0, "timestamp"),
        (2, "features.income"),
        (2, "features.age"),
    ]


def test_error_messages_never_echo_the_values_sent(api, alice, credit_v1):
    answer = post(api(alice), [with_features(0, income="SECRET-INCOME-VALUE", region={"x": "SECRET-REGION"})])

    assert answer.status_code == 400
    assert b"SECRET" not in answer.content


def test_partial_stores_the_valid_records_and_returns_the_refused_ones_with_reasons(api, alice, credit_v1):
    records = [prediction(0), with_features(1, income="40k"), prediction(2), prediction(3, timestamp="later")]

    answer = post(api(alice), records, partial=True)

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["accepted"], body["duplicates"]) == (2, 0)
    assert body["rejected"] == [
        {
            "index": 1,
            "id": "p-1",
            "errors": [{"field": "features.income", "message": "expected a number, got a string"}],
        },
        {
            "index": 3,
            "id": "p-3",
            "errors": [{"field": "timestamp", "message": "not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)"}],
        },
    ]
    assert stored_ids() == ["p-0", "p-2"]


# --- duplicates ---


def test_a_repeated_id_inside_a_batch_is_a_duplicate_and_the_first_one_wins(api, alice, credit_v1):
    answer = post(api(alice), [prediction(0), prediction(1), prediction(0, prediction=0)])

    assert (answer.json()["accepted"], answer.json()["duplicates"]) == (2, 1)
    assert PredictionLog.objects.get(record_id="p-0").prediction == 1


def test_resending_stored_ids_counts_them_as_duplicates_never_second_rows(api, alice, credit_v1):
    client = api(alice)
    post(client, [prediction(i) for i in range(3)])

    again = post(client, [prediction(i) for i in range(1, 5)])

    assert (again.json()["accepted"], again.json()["duplicates"]) == (2, 2)
    assert stored_ids() == ["p-0", "p-1", "p-2", "p-3", "p-4"]


def test_the_same_id_under_another_model_is_not_a_duplicate(api, alice, credit_v1):
    client = api(alice)
    client.post("/api/v1/models/", {"slug": "fraud", "name": "Fraud", "task": "regression"}, format="json")
    client.post(
        "/api/v1/models/fraud/versions/",
        {"version": "v1", "schema": {"features": [{"name": "income", "type": "numeric"}]}},
        format="json",
    )
    post(client, [prediction(0)])

    answer = client.post(
        "/api/v1/models/fraud/predictions/",
        {
            "version": "v1",
            "records": [
                {"id": "p-0", "timestamp": ago(minutes=1), "features": {"income": 1}, "prediction": 3.5}
            ],
        },
        format="json",
    )

    assert (answer.json()["accepted"], answer.json()["duplicates"]) == (1, 0)


# --- value problems, lateness ---


def test_value_problems_are_stored_flagged_and_counted(api, alice, credit_v1):
    records = [
        with_features(0, age=150),
        with_features(1, region="mars"),
        with_features(2, income=None),
        with_features(3, age=10, gender="q"),
        prediction(4),
    ]

    answer = post(api(alice), records)

    assert answer.status_code == 200, answer.json()
    assert (answer.json()["accepted"], answer.json()["flagged"]) == (5, 4)
    issues = dict(PredictionLog.objects.values_list("record_id", "value_issues"))
    assert issues == {
        "p-0": {"age": "out_of_range"},
        "p-1": {"region": "undeclared_category"},
        "p-2": {"income": "null_not_allowed"},
        "p-3": {"age": "out_of_range", "gender": "undeclared_category"},
        "p-4": None,
    }


def test_a_missing_non_nullable_feature_counts_as_a_null(api, alice, credit_v1):
    record = prediction(0)
    del record["features"]["income"]

    answer = post(api(alice), [record])

    assert answer.json()["flagged"] == 1
    assert PredictionLog.objects.get().value_issues == {"income": "null_not_allowed"}


def test_late_records_are_stored_flagged_late_and_counted(api, alice, credit_v1, settings):
    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "LATENESS_HOURS": 48}
    records = [prediction(0, timestamp=ago(hours=49)), prediction(1, timestamp=ago(hours=47)), prediction(2)]

    answer = post(api(alice), records)

    assert (answer.json()["accepted"], answer.json()["late"]) == (3, 1)
    assert dict(PredictionLog.objects.values_list("record_id", "is_late")) == {
        "p-0": True,
        "p-1": False,
        "p-2": False,
    }


def test_a_timestamp_within_the_future_tolerance_is_accepted(api, alice, credit_v1, settings):
    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "FUTURE_TOLERANCE_MINUTES": 10}

    answer = post(
        api(alice),
        [prediction(0, timestamp=ago(minutes=-9)), prediction(1, timestamp=ago(minutes=-11))],
        partial=True,
    )

    assert answer.json()["accepted"] == 1
    assert answer.json()["rejected"][0]["errors"] == [
        {"field": "timestamp", "message": "is in the future; check the client's clock"}
    ]


def test_timestamps_with_an_offset_or_none_are_stored_in_utc(api, alice, credit_v1):
    post(
        api(alice),
        [
            prediction(0, timestamp="2026-11-20T13:00:00+01:00"),
            prediction(1, timestamp="2026-11-20T12:00:00"),
        ],
    )

    assert {r.timestamp for r in PredictionLog.objects.all()} == {NOW.replace(minute=0)}


# --- the batch tally ---


def test_every_batch_leaves_its_tally_including_refused_ones(api, alice, credit_v1):
    client = api(alice)
    post(client, [prediction(0), with_features(1, age=150), prediction(2, timestamp=ago(hours=72))])
    post(client, [prediction(0), prediction(3)])
    post(client, [prediction(4), prediction(5, timestamp="never")])
    post(client, [prediction(6), prediction(7, timestamp="never")], partial=True)

    batches = IngestionBatch.objects.order_by("id")
    tallies = [(b.kind, b.partial, b.accepted, b.duplicates, b.rejected, b.flagged, b.late) for b in batches]
    assert tallies == [
        ("predictions", False, 3, 0, 0, 1, 1),
        ("predictions", False, 1, 1, 0, 0, 0),
        ("predictions", False, 0, 0, 1, 0, 0),
        ("predictions", True, 1, 0, 1, 0, 0),
    ]
    refused = batches[2]
    assert refused.errors_sample == [
        {
            "index": 1,
            "errors": [{"field": "timestamp", "message": "not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)"}],
        }
    ]
    assert (refused.version_id, refused.submitted_by, refused.received_at) == (credit_v1.pk, "alice", NOW)


def test_a_batch_for_an_unknown_version_is_tallied_as_refused(api, alice, credit_v1):
    post(api(alice), [prediction(0), prediction(1)], version="v9")

    batch = IngestionBatch.objects.get()
    assert (batch.version_id, batch.accepted, batch.rejected) == (None, 0, 2)
    assert batch.errors_sample[0]["errors"][0]["field"] == "version"
