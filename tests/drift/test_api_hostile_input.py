"""Hostile and odd input never gives a 500: every such request gets a 4xx in the API's error shape.

The test client re-raises server errors, so a crash fails the test with its traceback.
"""

import json
from typing import Any

import orjson
import pytest

from drift.models import HealthSample, IngestionBatch, MonitoredModel, PredictionLog
from tests.conftest import prediction
from tests.drift.conftest import assert_error

pytestmark = pytest.mark.usefixtures("clock")

M = "/api/v1/models/credit-risk/"
WRITES = [
    ("post", "/api/v1/models/"),
    ("patch", M),
    ("post", M + "versions/"),
    ("patch", M + "versions/v1/"),
    ("post", M + "versions/v1/reference/"),
    ("post", M + "predictions/"),
    ("post", M + "outcomes/"),
    ("post", M + "health/"),
]


def batch(*records: Any) -> bytes:
    # The standard library's encoder, because orjson refuses to write integers beyond 64 bits.
    return json.dumps({"version": "v1", "records": list(records)}).encode()


def deep(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


# Bodies no write endpoint accepts, and the field the answer names.
EVERYWHERE: list[tuple[str, bytes, str, str]] = [
    ("a list", b"[1, 2]", "application/json", "body"),
    ("a string", b'"hello"', "application/json", "body"),
    ("null", b"null", "application/json", "body"),
    ("a number", b"42", "application/json", "body"),
    ("malformed", b'{"version": "v1", ', "application/json", "body"),
    ("NaN literal", b'{"version": "v1", "x": NaN}', "application/json", "body"),
    ("Infinity literal", b'{"version": "v1", "x": Infinity}', "application/json", "body"),
    ("a number too large for a double", b'{"version": "v1", "x": 1e400}', "application/json", "body"),
    ("a lone surrogate", b'{"name": "\\ud800"}', "application/json", "body"),
    ("invalid UTF-8", b'{"name": "\xff\xfe"}', "application/json", "body"),
    ("nesting deeper than the parser allows", deep(5000), "application/json", "body"),
    (
        "a NUL in a value",
        b'{"name": "a\\u0000b", "records": [{"id": "x\\u0000"}]}',
        "application/json",
        "name",
    ),
    ("a NUL in a key", b'{"na\\u0000me": 1}', "application/json", "(object key)"),
    ("plain text", b"version=v1", "text/plain", "body"),
    ("XML", b"<records/>", "application/xml", "body"),
]


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize(
    ("what", "body", "content_type", "field"), EVERYWHERE, ids=[c[0] for c in EVERYWHERE]
)
def test_a_hostile_body_is_refused_with_a_4xx_never_a_500(
    api, alice, credit_v1, method, path, what, body, content_type, field
):
    answer = api(alice).generic(method.upper(), path, body, content_type=content_type)

    expected = 415 if content_type != "application/json" else 400
    assert_error(answer, expected, field=field)
    assert MonitoredModel.objects.count() == 1 and not PredictionLog.objects.exists()


def test_a_nul_deep_inside_a_record_is_named_by_its_path(api, alice, credit_v1):
    record = prediction(0)
    record["features"]["region"] = "no\x00rth"

    answer = api(alice).post(
        M + "predictions/", batch(prediction(1), record), content_type="application/json"
    )

    assert_error(answer, 400, field="records[1].features.region", says="NUL")


def test_an_escaped_backslash_before_u0000_is_ordinary_text(api, alice, credit_v1):
    record = prediction(0, lineage={"source": "C:\\u0000dir"})

    answer = api(alice).post(M + "predictions/", batch(record), content_type="application/json")

    assert answer.status_code == 200, answer.json()
    assert PredictionLog.objects.get().lineage == {"source": "C:\\u0000dir"}


# Records that are odd in every way a client can get wrong; each must be refused, none may crash.
ODD_RECORDS: list[tuple[str, Any, str]] = [
    ("a list", [1, 2], ""),
    ("a string", "p-1", ""),
    ("a boolean", True, ""),
    ("features as a string", prediction(1, features="income=1"), "features"),
    ("features as a number", prediction(1, features=3), "features"),
    ("features as null", prediction(1, features=None), "features"),
    ("an id too large for 64 bits", prediction(1, id=2**64 + 1), "id"),
    ("an id of 100 000 characters", prediction(1, id="x" * 100_000), "id"),
    ("an id that is a list", prediction(1, id=["p", 1]), "id"),
    ("a far-future timestamp", prediction(1, timestamp="9999-12-31T23:59:59-05:00"), "timestamp"),
    ("a timestamp before year 1 in UTC", prediction(1, timestamp="0001-01-01T00:00:00+05:00"), "timestamp"),
    ("a timestamp that is an object", prediction(1, timestamp={"$date": 1}), "timestamp"),
    (
        "a feature nested 200 levels",
        prediction(1, features={"income": orjson.loads(deep(200))}),
        "features.income",
    ),
    ("lineage nested 200 levels", prediction(1, lineage=orjson.loads(deep(200))), "lineage"),
    ("a list lineage", prediction(1, lineage=[1, 2]), "lineage"),
    ("attributions nested", prediction(1, attributions={"income": {"a": 1}}), "attributions"),
    ("a prediction that is a list", prediction(1, prediction=[0.1, 0.9]), "prediction"),
    ("a score that is a boolean", prediction(1, score=True), "score"),
    ("a latency that is a string", prediction(1, latency_ms="12ms"), "latency_ms"),
    ("a status that is a number", prediction(1, status=1), "status"),
    ("a feature name that is empty", prediction(1, features={"": 1}), "features"),
]


@pytest.mark.parametrize(("what", "record", "field"), ODD_RECORDS, ids=[c[0] for c in ODD_RECORDS])
def test_an_odd_prediction_record_is_refused_by_name_never_a_crash(
    api, alice, credit_v1, what, record, field
):
    answer = api(alice).post(
        M + "predictions/", batch(prediction(0), record), content_type="application/json"
    )

    assert_error(answer, 400, field=field, index=1)
    assert not PredictionLog.objects.exists()


@pytest.mark.parametrize(("what", "record", "field"), ODD_RECORDS, ids=[c[0] for c in ODD_RECORDS])
def test_an_odd_record_with_partial_is_refused_and_the_rest_stored(
    api, alice, credit_v1, what, record, field
):
    answer = api(alice).post(
        M + "predictions/?partial=true", batch(prediction(0), record), content_type="application/json"
    )

    assert answer.status_code == 200, answer.json()
    assert (answer.json()["accepted"], [r["index"] for r in answer.json()["rejected"]]) == (1, [1])
    assert IngestionBatch.objects.get().rejected == 1


@pytest.mark.parametrize(
    "records",
    [
        [1, None, "x"],
        [{"prediction_id": {"a": 1}, "label": 1}],
        [{"prediction_id": 2**64, "label": 1}],
        [{"prediction_id": "p-0", "label": [1]}],
        [{"prediction_id": "p-0", "label": 1, "timestamp": [2026]}],
        [{"prediction_id": "p-0", "label": 1, "timestamp": "0001-01-01T00:00:00+05:00"}],
    ],
)
def test_odd_outcome_records_are_refused_never_a_crash(api, alice, credit_v1, records):
    answer = api(alice).post(M + "outcomes/", {"records": records}, format="json")

    assert_error(answer, 400)


@pytest.mark.parametrize(
    "rows",
    [
        [1, None],
        [{"features": "x", "prediction": 1}],
        [{"features": {"income": {"a": 1}}, "prediction": 1}],
        [{"features": {"income": 1}, "prediction": 1, "score": [1]}],
        [{"features": {"income": 1}, "prediction": None}],
    ],
)
def test_odd_reference_rows_are_refused_never_a_crash(api, alice, credit_v1, rows):
    answer = api(alice).post(M + "versions/v1/reference/", {"records": rows}, format="json")

    assert_error(answer, 400, index=0)


@pytest.mark.parametrize(
    "body",
    [
        {"cpu": float(2**70)},
        {"queue_depth": 2**63},
        {"queue_depth": 1e300},
        {"timestamp": "9999-12-31T23:59:59-05:00", "cpu": 1},
        {"cpu": [1]},
    ],
)
def test_odd_health_samples_are_refused_or_stored_never_a_crash(api, alice, credit_v1, body):
    answer = api(alice).post(M + "health/", body, format="json")

    assert answer.status_code in {201, 400}, answer.content
    assert HealthSample.objects.count() == (1 if answer.status_code == 201 else 0)


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        (M + "versions/a%00b/", 404, "version"),
        (M + "versions/" + "v" * 5000 + "/", 404, "version"),
        (M + "predictions/?version=a%00b", 400, "version"),
        (M + "predictions/?start=0001-01-01T00:00:00%2B05:00", 400, "start"),
        (M + "predictions/?end=%00", 400, "end"),
    ],
)
def test_odd_paths_and_query_strings_are_refused_by_name(api, carol, credit_v1, path, status, field):
    assert_error(api(carol).get(path), status, field=field)


@pytest.mark.parametrize(
    "query",
    ["limit=-1", "limit=abc", "offset=-5", "offset=99999999999999999999999", "limit=99999999999999999999999"],
)
def test_odd_paging_parameters_fall_back_to_sane_pages(api, carol, credit_v1, query):
    for path in ("/api/v1/models/", M + "versions/", M + "predictions/", M + "health/"):
        answer = api(carol).get(f"{path}?{query}")

        assert answer.status_code == 200, (path, answer.content[:200])


@pytest.mark.parametrize(
    "rows",
    [
        [{"features": {}, "prediction": 1}],
        [{"features": {"income": None, "age": None, "region": None, "has_default": None}, "prediction": 0}],
        [{"features": {"income": 5, "region": 3, "gender": 1}, "prediction": "a"} for _ in range(50)],
        [{"features": {"income": i * 1e300, "age": 18 + i % 2}, "prediction": i % 2} for i in range(10)],
        [
            {"features": {"region": r, "customer_ref": 7}, "prediction": 1, "score": 0.5}
            for r in ("north", "mars")
        ],
        [{"features": {"income": -(2**62), "has_default": True}, "prediction": 1, "label": None}],
        [{"features": {"income": 2**64 - 1 - i, "age": 30}, "prediction": 2**63 + i} for i in range(30)],
    ],
)
def test_odd_but_valid_references_are_stored_with_their_profiles(
    api, alice, credit_v1, rows, django_capture_on_commit_callbacks
):
    client = api(alice)
    huge = prediction(1)
    huge["features"]["income"] = 2**64 - 1
    client.post(M + "predictions/", batch(prediction(0), huge), content_type="application/json")

    # The upload rebuilds the version's profiles from the stored rows once it commits.
    with django_capture_on_commit_callbacks(execute=True) as deferred:
        answer = client.post(M + "versions/v1/reference/", {"records": rows}, format="json")
    stored = client.post(M + "predictions/", batch(prediction(2)), content_type="application/json")

    assert answer.status_code == 201, answer.json()
    assert len(deferred) == 1 and stored.status_code == 200, stored.json()
