"""drift.validation: pure record checks, tested without Django or a database."""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drift.validation import (
    MAX_LINEAGE_DEPTH,
    FeatureRule,
    Schema,
    apply_pii,
    check_features,
    check_predictions,
    parse_timestamp,
    pii_hasher,
)
from tests.conftest import FEATURES, prediction

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
HASH = pii_hasher(b"test-key")
SCHEMA = Schema(
    tuple(
        FeatureRule(
            name=f["name"],
            type=f["type"],
            pii=f.get("pii", "keep"),
            nullable=f.get("nullable", True),
            min_value=f.get("min"),
            max_value=f.get("max"),
            categories=frozenset(f["categories"]) if "categories" in f else None,
        )
        for f in FEATURES
    )
)


def check(records: Any, schema: Schema = SCHEMA) -> Any:
    return check_predictions(
        records,
        schema,
        now=NOW,
        lateness=timedelta(hours=48),
        future_tolerance=timedelta(minutes=10),
        hasher=HASH,
    )


# --- features ---


def test_well_typed_features_in_range_have_no_errors_and_no_issues():
    out = check_features([prediction(i)["features"] for i in range(3)], SCHEMA)

    assert out.errors == [[], [], []] and out.issues == [{}, {}, {}]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("income", "40000", "expected a number, got a string"),
        ("income", True, "expected a number, got a boolean"),
        ("income", [1], "expected a number, got a list"),
        ("has_default", 1, "expected true or false, got a number"),
        ("has_default", "true", "expected true or false, got a string"),
        ("region", 1.5, "expected a string, got a number"),
        ("region", {"n": 1}, "expected a string, got an object"),
        ("customer_ref", False, "expected a string, got a boolean"),
    ],
)
def test_a_value_of_the_wrong_type_is_an_error_naming_the_feature(name, value, message):
    features = {**prediction(0)["features"], name: value}

    out = check_features([prediction(1)["features"], features], SCHEMA)

    assert out.errors == [[], [{"field": f"features.{name}", "message": message}]]


def test_categories_may_be_sent_as_integer_codes():
    schema = Schema(
        (FeatureRule("tier", "categorical", categories=frozenset({"1", "2"})), FeatureRule("x", "numeric"))
    )

    out = check_features([{"tier": 1, "x": 0}, {"tier": 3, "x": 0}, {"tier": "2", "x": 0}], schema)

    assert out.errors == [[], [], []]
    assert out.issues == [{}, {"tier": "undeclared_category"}, {}]


@pytest.mark.parametrize(
    ("changes", "issues"),
    [
        ({"age": 17}, {"age": "out_of_range"}),
        ({"age": 121.5}, {"age": "out_of_range"}),
        ({"age": 18, "income": 1_000_000}, {}),
        ({"region": "mars"}, {"region": "undeclared_category"}),
        ({"income": None}, {"income": "null_not_allowed"}),
        ({"age": None, "region": None}, {}),
        ({"income": -1, "gender": "q"}, {"income": "out_of_range", "gender": "undeclared_category"}),
    ],
)
def test_value_problems_are_issues_not_errors(changes, issues):
    features = {**prediction(0)["features"], **changes}

    out = check_features([prediction(1)["features"], features], SCHEMA)

    assert out.errors == [[], []]
    assert out.issues == [{}, issues]


def test_a_missing_feature_counts_as_null():
    features = {k: v for k, v in prediction(0)["features"].items() if k != "income"}

    out = check_features([features], SCHEMA)

    assert (out.errors, out.issues) == ([[]], [{"income": "null_not_allowed"}])


def test_unknown_features_are_named_and_a_non_object_is_refused():
    out = check_features([{"income": 1, "zeta": 1, "alpha": 2}, "income=1", None], SCHEMA)

    assert out.errors[0] == [
        {
            "field": "features",
            "message": "unknown feature(s) alpha, zeta; the version's schema does not declare them",
        }
    ]
    assert out.errors[1] == [{"field": "features", "message": "expected an object, got a string"}]
    assert out.errors[2] == [{"field": "features", "message": "expected an object, got null"}]


def test_a_dropped_feature_is_not_checked_at_all():
    features = {**prediction(0)["features"], "email": {"anything": ["goes"]}}

    assert check_features([features], SCHEMA).errors == [[]]


# --- timestamps and PII ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T12:00:00Z", datetime(2026, 11, 20, 12, tzinfo=UTC)),
        ("2026-11-20T13:00:00+01:00", datetime(2026, 11, 20, 12, tzinfo=UTC)),
        ("2026-11-20T12:00:00", datetime(2026, 11, 20, 12, tzinfo=UTC)),
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
        ("20/11/2026", None),
        ("", None),
        (1732100000, None),
        (None, None),
        ("0001-01-01T00:00:00+05:00", None),
        ("9999-12-31T23:59:59-05:00", None),
    ],
)
def test_parse_timestamp_reads_iso_8601_and_returns_none_for_anything_else(text, expected):
    assert parse_timestamp(text) == expected


def test_pii_is_hashed_with_the_key_or_dropped_and_the_input_left_alone():
    features = prediction(0)["features"]

    out = apply_pii(features, SCHEMA, HASH)

    assert "email" not in out and "email" in features
    assert out["customer_ref"] == HASH("CUST-000000") != pii_hasher(b"other-key")("CUST-000000")
    assert len(out["customer_ref"]) == 32 and out["income"] == features["income"]


def test_a_null_pii_feature_stays_null():
    assert apply_pii({"customer_ref": None}, SCHEMA, HASH) == {"customer_ref": None}


# --- whole records ---


def test_a_valid_record_comes_out_clean_with_pii_applied():
    out = check([prediction(0, attributions={"income": 0.3}, lineage={"source": "kafka"})])

    assert out.rejected == []
    (row,) = out.valid
    assert (row.index, row.record_id, row.timestamp) == (0, "p-0", datetime(2026, 11, 20, 12, tzinfo=UTC))
    assert (row.prediction, row.score, row.latency_ms, row.status) == (1, 0.8, 12.5, "ok")
    assert (row.attributions, row.lineage, row.is_late, row.value_issues) == (
        {"income": 0.3},
        {"source": "kafka"},
        False,
        None,
    )
    assert row.features["customer_ref"] == HASH("CUST-000000") and "email" not in row.features


@pytest.mark.parametrize(
    ("age", "late"),
    [(timedelta(hours=48, seconds=1), True), (timedelta(hours=48), False), (timedelta(hours=1), False)],
)
def test_a_record_is_late_only_when_older_than_the_lateness_bound(age, late):
    ts = (NOW - age).isoformat()

    (row,) = check([prediction(0, timestamp=ts)]).valid

    assert row.is_late is late


@pytest.mark.parametrize(
    ("ahead", "refused"), [(timedelta(minutes=10), False), (timedelta(minutes=10, seconds=1), True)]
)
def test_a_record_from_the_future_is_refused_beyond_the_tolerance(ahead, refused):
    out = check([prediction(0, timestamp=(NOW + ahead).isoformat())])

    assert bool(out.rejected) is refused


def test_records_that_are_not_a_list_are_refused_whole():
    out = check({"id": 1})

    assert out.valid == [] and out.rejected == [
        {"index": None, "errors": [{"field": "records", "message": "expected a list"}]}
    ]


def test_lineage_may_nest_up_to_the_limit():
    nested: dict[str, Any] = {"leaf": 1}
    for _ in range(MAX_LINEAGE_DEPTH - 1):
        nested = {"n": nested}
    too_deep = {"n": nested}

    out = check([prediction(0, lineage=nested), prediction(1, lineage=too_deep)])

    assert [r.record_id for r in out.valid] == ["p-0"]
    assert out.rejected[0]["errors"] == [
        {"field": "lineage", "message": f"nested deeper than {MAX_LINEAGE_DEPTH} levels"}
    ]


# --- a batch says exactly what checking each record alone says ---

MUTATIONS: list[tuple[str, Any]] = [
    ("id", None),
    ("id", ""),
    ("id", 17),
    ("id", "x" * 201),
    ("id", False),
    ("timestamp", "garbage"),
    ("timestamp", "2026-11-20T12:00:00+02:00"),
    ("timestamp", "2026-11-20T12:00:00"),
    ("timestamp", "2026-11-17T00:00:00Z"),
    ("timestamp", "2026-11-21T00:00:00Z"),
    ("timestamp", 5),
    ("prediction", None),
    ("prediction", [1]),
    ("prediction", "yes"),
    ("score", "0.1"),
    ("score", None),
    ("score", True),
    ("latency_ms", -0.5),
    ("latency_ms", 0),
    ("status", "error"),
    ("status", ["ok"]),
    ("status", None),
    ("attributions", {"income": 1, "age": 0.5}),
    ("attributions", {"income": True}),
    ("attributions", {"nope": 0.1}),
    ("attributions", "x"),
    ("lineage", {"a": [1, {"b": 2}]}),
    ("lineage", 3),
    ("features", None),
    ("features", "x"),
    ("extra_field", 1),
    ("features.income", "1"),
    ("features.income", None),
    ("features.income", -5),
    ("features.income", 2.5),
    ("features.age", True),
    ("features.age", 200),
    ("features.region", "mars"),
    ("features.region", 7),
    ("features.has_default", None),
    ("features.has_default", 0),
    ("features.gender", None),
    ("features.unknown", 1),
    ("features.customer_ref", 12),
    ("features.customer_ref", None),
    ("features.email", ["x"]),
    ("drop features.region", None),
    ("drop features.income", None),
]


# Narrower mixes, so batches without any unreadable record (the fast column checks) are covered too.
WELL_FORMED_TIMES = [m for m in MUTATIONS if m[0] == "timestamp" and isinstance(m[1], str) and m[1][0] == "2"]
VALUES_ONLY = [
    m
    for m in MUTATIONS
    if m[0].startswith("drop ")
    or (
        m[0].startswith("features.") and m[0] != "features.unknown" and type(m[1]) in {int, float, type(None)}
    )
    or (m[0].startswith("features.region") and m[1] == "mars")
]
MIXES = {"anything": MUTATIONS, "well-formed times": WELL_FORMED_TIMES, "values only": VALUES_ONLY}


def mutate(record: dict[str, Any], rng: random.Random, mutations: list[tuple[str, Any]]) -> dict[str, Any]:
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        name, value = rng.choice(mutations)
        if name.startswith("drop "):
            record["features"].pop(name.split(".", 1)[1], None)
        elif name.startswith("features."):
            if isinstance(record.get("features"), dict):
                record["features"][name.split(".", 1)[1]] = value
        elif value is None and rng.random() < 0.5:
            record.pop(name, None)
        else:
            record[name] = value
    return record


def comparable(out: Any, index: int) -> Any:
    rows = [
        (
            r.record_id,
            r.timestamp,
            r.features,
            r.prediction,
            r.score,
            r.latency_ms,
            r.status,
            r.attributions,
            r.lineage,
            r.is_late,
            r.value_issues,
        )
        for r in out.valid
    ]
    rejected = [(r["id"], r["errors"]) for r in out.rejected]
    return rows, rejected, index


@pytest.mark.parametrize("mix", MIXES)
@pytest.mark.parametrize("seed", range(5))
def test_checking_a_batch_gives_each_record_the_same_answer_as_checking_it_alone(seed, mix):
    rng = random.Random(seed)
    records = [mutate(prediction(i), rng, MIXES[mix]) for i in range(120)]

    batch = check(records)

    valid = {r.index: r for r in batch.valid}
    rejected = {r["index"]: r for r in batch.rejected}
    assert set(valid) | set(rejected) == set(range(len(records))) and not set(valid) & set(rejected)
    assert len(valid) > 10  # the mutations leave a real mix
    for i, record in enumerate(records):
        alone = check([record])
        in_batch = type(alone)(
            valid=[valid[i]] if i in valid else [], rejected=[rejected[i]] if i in rejected else []
        )
        assert comparable(in_batch, i) == comparable(alone, i)
