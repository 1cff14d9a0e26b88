"""The registry API: models, versions with their schema and stage history, reference datasets."""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from drift.models import IngestionBatch, MonitoredModel, ReferenceDataset, ReferenceRow, StageChange
from tests.conftest import FEATURES
from tests.drift.conftest import assert_error

MODELS = "/api/v1/models/"
CREDIT = "/api/v1/models/credit-risk/"
VERSIONS = "/api/v1/models/credit-risk/versions/"
REFERENCE = "/api/v1/models/credit-risk/versions/v1/reference/"

CHURN = {
    "slug": "churn",
    "name": "Churn",
    "task": "binary_classification",
    "description": "Who leaves next month",
    "owner": "growth-team",
    "positive_label": "yes",
    "business": {
        "kpi": "Keep customers",
        "currency": "USD",
        "value": {"tp": 40, "fp": -5, "tn": 0, "fn": -60},
    },
}


def new_version(version: str = "v2", **overrides: Any) -> dict[str, Any]:
    body = {
        "version": version,
        "stage": "shadow",
        "schema": {
            "features": [
                {"name": "income", "type": "numeric", "min": 0},
                {"name": "city", "type": "categorical"},
            ]
        },
        "training_data": {"uri": "s3://bucket/train.parquet", "digest": "sha256:abc"},
        "code_version": "git:1234abc",
        "feature_set_version": "fs-7",
    }
    body.update(overrides)
    return body


def reference_row(i: int, **features: Any) -> dict[str, Any]:
    row = {
        "features": {
            "income": 30_000 + i,
            "age": 40,
            "region": "south",
            "has_default": i % 2 == 0,
            "gender": "m",
        },
        "prediction": i % 2,
        "score": 0.25,
        "label": i % 2,
    }
    row["features"].update(features)
    return row


def csv_upload(text: str | bytes, name: str = "reference.csv") -> dict[str, Any]:
    content = text.encode() if isinstance(text, str) else text
    return {"file": SimpleUploadedFile(name, content, content_type="text/csv")}


# --- models ---


def test_an_analyst_registers_a_model_and_finds_it_in_the_list_and_by_slug(api, alice):
    client = api(alice)

    created = client.post(MODELS, CHURN, format="json")

    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["slug"] == "churn"
    assert body["business"] == {
        "kpi": "Keep customers",
        "currency": "USD",
        "value": {"tp": 40.0, "fp": -5.0, "tn": 0.0, "fn": -60.0},
        "cost_per_unit_error": None,
    }
    assert body["versions"] == [] and body["serving_mode"] == "normal" and body["latest_health"] is None
    listed = client.get(MODELS).json()
    assert [m["slug"] for m in listed["results"]] == ["churn"]
    assert client.get("/api/v1/models/churn/").json()["owner"] == "growth-team"


def test_a_model_lists_its_versions_with_their_stage(api, carol, credit_v1):
    body = api(carol).get(CREDIT).json()

    assert [(v["version"], v["stage"]) for v in body["versions"]] == [("v1", "production")]


def test_patch_changes_the_name_and_one_business_value_and_keeps_the_rest(api, alice, credit_model):
    answer = api(alice).patch(
        CREDIT, {"name": "Credit risk v2", "business": {"value": {"fp": -650}}}, format="json"
    )

    assert answer.status_code == 200, answer.json()
    credit_model.refresh_from_db()
    assert credit_model.name == "Credit risk v2"
    assert (credit_model.value_fp, credit_model.value_tn, credit_model.currency) == (-650, 120, "EUR")


def test_it_refuses_a_second_model_with_the_same_slug(api, alice, credit_model):
    answer = api(alice).post(MODELS, {**CHURN, "slug": "credit-risk"}, format="json")

    assert_error(answer, 409, field="slug", says="already taken")
    assert MonitoredModel.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"task": "clustering"}, "task", "not a valid choice"),
        ({"slug": "Churn"}, "slug", "lower-case"),
        ({"slug": "-churn"}, "slug", ""),
        ({"name": ""}, "name", "may not be blank"),
        ({"business": {"currency": "euro"}}, "business.currency", ""),
        ({"business": {"value": {"tp": "a lot"}}}, "business.value.tp", "valid number"),
        ({"task": "regression"}, "positive_label", "regression model has no positive label"),
    ],
)
def test_it_refuses_an_invalid_model_naming_the_field(api, alice, change, field, says):
    answer = api(alice).post(MODELS, {**CHURN, **change}, format="json")

    assert_error(answer, 400, field=field, says=says)
    assert not MonitoredModel.objects.exists()


def test_it_refuses_a_model_without_slug_name_and_task_naming_each(api, alice):
    body = assert_error(api(alice).post(MODELS, {"owner": "x"}, format="json"), 400)

    assert {e["field"] for e in body["errors"]} == {"slug", "name", "task"}


def test_patch_refuses_a_positive_label_on_a_regression_model(api, alice, db):
    client = api(alice)
    client.post(MODELS, {"slug": "demand", "name": "Demand", "task": "regression"}, format="json")

    answer = client.patch("/api/v1/models/demand/", {"positive_label": "1"}, format="json")

    assert_error(answer, 400, field="positive_label", says="regression")


def test_an_unknown_model_is_404_naming_the_slug(api, carol):
    answer = api(carol).get("/api/v1/models/no-such-model/")

    body = assert_error(answer, 404, field="slug")
    assert "no-such-model" in body["detail"]


# --- versions ---


def test_an_analyst_registers_a_version_with_its_schema(api, alice, credit_v1):
    answer = api(alice).post(VERSIONS, new_version(), format="json")

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["version"] == "v2" and body["stage"] == "shadow" and body["created_by"] == "alice"
    assert [(f["name"], f["type"], f["min"]) for f in body["schema"]["features"]] == [
        ("income", "numeric", 0.0),
        ("city", "categorical", None),
    ]
    assert body["training_data"] == {"uri": "s3://bucket/train.parquet", "digest": "sha256:abc"}
    assert (body["code_version"], body["feature_set_version"]) == ("git:1234abc", "fs-7")
    assert [(h["from"], h["to"], h["by"]) for h in body["stage_history"]] == [(None, "shadow", "alice")]
    assert body["reference"] is None


def test_versions_are_listed_and_read_one_by_one(api, carol, credit_v1):
    client = api(carol)

    listed = client.get(VERSIONS).json()
    one = client.get(VERSIONS + "v1/").json()

    assert [v["version"] for v in listed["results"]] == ["v1"]
    assert [f["name"] for f in one["schema"]["features"]] == [f["name"] for f in FEATURES]
    assert one["schema"]["features"][5]["pii"] == "hash"


def test_moving_a_version_to_production_archives_the_previous_one_on_the_record(api, alice, credit_v1):
    client = api(alice)
    client.post(VERSIONS, new_version(), format="json")

    canary = client.patch(VERSIONS + "v2/", {"stage": "canary", "reason": "5% of traffic"}, format="json")
    production = client.patch(
        VERSIONS + "v2/", {"stage": "production", "reason": "canary held"}, format="json"
    )

    assert canary.status_code == 200 and production.status_code == 200, production.json()
    history = [(h["from"], h["to"], h["by"], h["reason"]) for h in production.json()["stage_history"]]
    assert history == [
        (None, "shadow", "alice", "registered"),
        ("shadow", "canary", "alice", "5% of traffic"),
        ("canary", "production", "alice", "promote: canary held"),
    ]
    old = client.get(VERSIONS + "v1/").json()
    assert old["stage"] == "archived"
    assert (old["stage_history"][-1]["from"], old["stage_history"][-1]["reason"]) == (
        "production",
        "replaced by v2",
    )


def test_stage_changes_are_audited_and_production_needs_a_reason(api, alice, credit_v1):
    from governance.models import AuditEntry

    client = api(alice)
    client.post(VERSIONS, new_version(), format="json")

    canary = client.patch(VERSIONS + "v2/", {"stage": "canary", "reason": "5% of traffic"}, format="json")
    silent = client.patch(VERSIONS + "v2/", {"stage": "production"}, format="json")

    assert canary.status_code == 200
    assert_error(silent, 400, field="reason", says="required")
    assert client.get(VERSIONS + "v2/").json()["stage"] == "canary"
    entry = AuditEntry.objects.get(action="version.stage")
    assert (entry.before, entry.after) == ({"stage": "shadow"}, {"stage": "canary"})
    assert entry.reason == "5% of traffic"
    client.patch(VERSIONS + "v2/", {"stage": "production", "reason": "canary held"}, format="json")
    assert AuditEntry.objects.filter(action="version.promote", reason="canary held").count() == 1


def test_setting_the_stage_a_version_already_has_writes_no_history(api, alice, credit_v1):
    answer = api(alice).patch(VERSIONS + "v1/", {"stage": "production"}, format="json")

    assert answer.status_code == 200
    assert StageChange.objects.filter(version=credit_v1).count() == 1


def test_it_refuses_an_unknown_stage(api, alice, credit_v1):
    answer = api(alice).patch(VERSIONS + "v1/", {"stage": "retired"}, format="json")

    assert_error(answer, 400, field="stage", says="not a valid choice")


def test_it_refuses_a_version_that_already_exists(api, alice, credit_v1):
    answer = api(alice).post(VERSIONS, new_version("v1"), format="json")

    assert_error(answer, 409, field="version", says="already exists")


def feature(**overrides: Any) -> dict[str, Any]:
    return {"name": "x", "type": "numeric", **overrides}


@pytest.mark.parametrize(
    ("features", "field", "says"),
    [
        ([], "schema.features", "empty"),
        ([feature(), feature()], "schema.features[1].name", "duplicate"),
        ([feature(type="text")], "schema.features[0].type", "not a valid choice"),
        ([feature(pii="hash")], "schema.features[0].pii", "only for categorical"),
        ([feature(pii="encrypt")], "schema.features[0].pii", "not a valid choice"),
        ([feature(min=10, max=1)], "schema.features[0].min_value", "min must not exceed max"),
        ([feature(type="categorical", min=0)], "schema.features[0].min_value", "Only numeric"),
        ([feature(categories=["a"])], "schema.features[0].categories", "Only categorical"),
        ([feature(name="1st")], "schema.features[0].name", ""),
        ([{"type": "numeric"}], "schema.features[0].name", "required"),
    ],
)
def test_it_refuses_an_invalid_schema_naming_the_feature_and_the_problem(
    api, alice, credit_model, features, field, says
):
    answer = api(alice).post(VERSIONS, new_version(schema={"features": features}), format="json")

    assert_error(answer, 400, field=field, says=says)
    assert not credit_model.versions.exists()


def test_it_refuses_a_version_name_with_a_slash_or_space(api, alice, credit_model):
    answer = api(alice).post(VERSIONS, new_version("v 2"), format="json")

    assert_error(answer, 400, field="version")


def test_an_unknown_version_is_404_and_lists_the_known_ones(api, carol, credit_v1):
    body = assert_error(api(carol).get(VERSIONS + "v9/"), 404, field="version", says="unknown version 'v9'")

    assert "Known versions: v1" in body["detail"]


# --- reference datasets ---


def test_an_analyst_uploads_a_json_reference_and_the_version_reports_it(api, alice, credit_v1):
    rows = [reference_row(i) for i in range(10)] + [reference_row(10, age=150)]

    answer = api(alice).post(REFERENCE, {"records": rows}, format="json")

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["reference"]["rows"] == 11 and body["reference"]["source"] == "json"
    assert body["reference"]["has_scores"] and body["reference"]["has_labels"]
    assert len(body["reference"]["digest"]) == 64
    assert body["flagged_rows"] == 1  # age 150 is stored but outside the declared 18..120
    assert ReferenceRow.objects.filter(dataset__version=credit_v1).count() == 11


def test_a_new_reference_replaces_the_previous_one_whole(api, alice, credit_v1):
    client = api(alice)
    client.post(REFERENCE, {"records": [reference_row(i) for i in range(5)]}, format="json")

    client.post(REFERENCE, {"records": [reference_row(i) for i in range(3)]}, format="json")

    assert ReferenceDataset.objects.count() == 1
    assert ReferenceRow.objects.count() == 3


CSV = (
    "income,age,region,has_default,gender,prediction,score,label\n"
    "52000,41,north,true,f,1,0.91,1\n"
    "38000.5,,south,no,m,0,0.12,0\n"
)


def test_an_analyst_uploads_a_csv_reference_and_its_cells_get_the_schema_types(api, alice, credit_v1):
    answer = api(alice).post(REFERENCE, csv_upload(CSV), format="multipart")

    assert answer.status_code == 201, answer.json()
    assert answer.json()["reference"]["source"] == "csv"
    rows = list(ReferenceRow.objects.order_by("id").values("features", "prediction", "score", "label"))
    assert rows[0]["features"] == {
        "income": 52000.0,
        "age": 41.0,
        "region": "north",
        "has_default": True,
        "gender": "f",
    }
    assert rows[1]["features"]["age"] is None and rows[1]["features"]["has_default"] is False
    assert (rows[0]["prediction"], rows[0]["score"], rows[0]["label"]) == ("1", 0.91, "1")


def test_a_csv_with_a_byte_order_mark_is_read(api, alice, credit_v1):
    answer = api(alice).post(REFERENCE, csv_upload("\ufeff" + CSV), format="multipart")

    assert answer.status_code == 201, answer.json()


@pytest.mark.parametrize(
    ("content", "field", "says"),
    [
        ("income,salary,prediction\n1,2,0\n", "file", "unknown column(s) salary"),
        ("income,age\n1,20\n", "file", "no 'prediction' column"),
        ("income,prediction\n1,0,9\n", "file:line 2", "too many cells"),
        ("income,prediction\n", "file", "no rows"),
        ("", "file", "no 'prediction' column"),
        (b"income,prediction\n" + "52000,\u00e9\n".encode("latin-1"), "file", "not UTF-8"),
        (b"income,prediction\n1\x00,0\n", "file", "NUL"),
    ],
)
def test_it_refuses_an_unreadable_csv_naming_the_problem(api, alice, credit_v1, content, field, says):
    answer = api(alice).post(REFERENCE, csv_upload(content), format="multipart")

    assert_error(answer, 400, field=field, says=says)
    assert not ReferenceDataset.objects.exists()


@pytest.mark.parametrize(
    ("line", "field", "says"),
    [
        ("lots,north,1", "features.income", "expected a number, got a string"),
        ("nan,north,1", "features.income", "expected a number"),
        ("inf,north,1", "features.income", "expected a number"),
        ("1000,north,", "prediction", "required"),
    ],
)
def test_it_refuses_a_csv_with_a_bad_value_naming_the_row_and_field(api, alice, credit_v1, line, field, says):
    content = f"income,region,prediction\n1,south,0\n{line}\n"

    answer = api(alice).post(REFERENCE, csv_upload(content), format="multipart")

    assert_error(answer, 400, field=field, says=says, index=1)
    assert not ReferenceDataset.objects.exists()


def test_it_refuses_a_csv_with_a_boolean_it_cannot_read(api, alice, credit_v1):
    answer = api(alice).post(REFERENCE, csv_upload("has_default,prediction\nmaybe,1\n"), format="multipart")

    assert_error(answer, 400, field="features.has_default", says="expected true or false", index=0)


def test_a_multipart_upload_without_a_file_is_refused(api, alice, credit_v1):
    answer = api(alice).post(REFERENCE, {"records": "x"}, format="multipart")

    assert_error(answer, 400, field="file", says="required")


def test_a_csv_over_the_body_limit_is_refused_with_413(api, alice, credit_v1, settings):
    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "MAX_BODY_BYTES": 1000}
    content = "income,prediction\n" + "52000,1\n" * 200

    answer = api(alice).post(REFERENCE, csv_upload(content), format="multipart")

    assert_error(answer, 413, field="body", says="limit is 1000 bytes")


def test_a_reference_over_the_row_limit_is_refused(api, alice, credit_v1, settings):
    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "MAX_REFERENCE_ROWS": 3}

    answer = api(alice).post(REFERENCE, {"records": [reference_row(i) for i in range(4)]}, format="json")

    assert_error(answer, 400, field="records", says="at most 3 rows")


@pytest.mark.parametrize(
    ("body", "field", "says", "index"),
    [
        ({"records": "rows"}, "records", "non-empty list", None),
        ({"records": []}, "records", "non-empty list", None),
        ({}, "records", "non-empty list", None),
        ({"records": [reference_row(0), 7]}, "", "expected an object", 1),
        ({"records": [reference_row(0), {**reference_row(1), "weight": 2}]}, "weight", "unknown field", 1),
        ({"records": [reference_row(0, income="high")]}, "features.income", "expected a number", 0),
        ({"records": [reference_row(0, colour="red")]}, "features", "unknown feature(s) colour", 0),
        ({"records": [{**reference_row(0), "features": ["a"]}]}, "features", "expected an object", 0),
        ({"records": [{"features": {"income": 1}}]}, "prediction", "required", 0),
        ({"records": [{**reference_row(0), "score": "high"}]}, "score", "expected a number", 0),
        ({"records": [{**reference_row(0), "label": {"a": 1}}]}, "label", "expected a label", 0),
    ],
)
def test_it_refuses_an_invalid_json_reference_naming_the_row_and_field(
    api, alice, credit_v1, body, field, says, index
):
    answer = api(alice).post(REFERENCE, body, format="json")

    assert_error(answer, 400, field=field, says=says, index=index)
    assert not ReferenceDataset.objects.exists()


def test_a_reference_for_an_unknown_version_is_404(api, alice, credit_v1):
    answer = api(alice).post(VERSIONS + "v9/reference/", {"records": [reference_row(0)]}, format="json")

    assert_error(answer, 404, field="version", says="unknown version")


def test_every_reference_upload_leaves_its_tally_including_refused_ones(api, alice, credit_v1):
    client = api(alice)
    client.post(REFERENCE, {"records": [reference_row(0), reference_row(1, age=150)]}, format="json")
    client.post(REFERENCE, {"records": [reference_row(0), reference_row(1, income="x"), 5]}, format="json")
    client.post(REFERENCE, csv_upload("income,salary,prediction\n1,2,0\n"), format="multipart")
    client.post(REFERENCE, csv_upload(CSV), format="multipart")

    batches = IngestionBatch.objects.filter(kind="reference").order_by("id")
    assert [(b.accepted, b.rejected, b.flagged, b.submitted_by) for b in batches] == [
        (2, 0, 1, "alice"),
        (0, 2, 0, "alice"),
        (0, 0, 0, "alice"),
        (2, 0, 0, "alice"),
    ]
    assert batches[1].errors_sample == [
        {"index": 1, "errors": [{"field": "features.income", "message": "expected a number, got a string"}]},
        {"index": 2, "errors": [{"field": "", "message": "expected an object"}]},
    ]
    assert batches[2].errors_sample == [
        {"index": None, "errors": [{"field": "file", "message": "unknown column(s) salary"}]}
    ]
