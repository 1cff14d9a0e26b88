"""The column-wise fast path of drift.validation gives exactly the answers of a record-by-record check.

`check_predictions` screens whole columns in C (types, min/max, category sets, a transpose of complete
feature rows) and looks at single records only when a screen may have failed. These tests hold it to a
plain record-by-record reference written out below, on tricky values and on seeded random batches.
Pure: no Django, no database.
"""

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from drift import validation
from drift.validation import (
    CleanPrediction,
    FeatureRule,
    Schema,
    check_features,
    check_predictions,
    pii_hasher,
    predictions,
)

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
LATENESS = timedelta(hours=48)
FUTURE = timedelta(minutes=10)
HASH = pii_hasher(b"speedpath-key")
SCHEMA = Schema(
    (
        FeatureRule("income", "numeric", min_value=0, max_value=1000, nullable=False),
        FeatureRule("ratio", "numeric"),
        FeatureRule("delta", "numeric", min_value=-1.5),
        FeatureRule("flag", "boolean"),
        FeatureRule("tier", "categorical", categories=frozenset({"gold", "silver", "3"})),
        FeatureRule("segment", "categorical"),
        FeatureRule("customer", "categorical", pii="hash"),
        FeatureRule("email", "categorical", pii="drop"),
    )
)
NAMES = [rule.name for rule in SCHEMA.features]
EXPECTED = {"numeric": "a number", "boolean": "true or false", "categorical": "a string"}


# --- the reference: one record at a time, one value at a time ---


def reference_features(feats: Any, schema: Schema, issues: dict[str, str]) -> list[dict[str, str]]:
    errors = []
    if not isinstance(feats, dict):
        errors.append(
            {"field": "features", "message": f"expected an object, got {validation.type_name(feats)}"}
        )
        feats = {}
    elif not schema.names.issuperset(feats):
        unknown = sorted(str(k) for k in feats if k not in schema.names)
        errors.append(
            {
                "field": "features",
                "message": f"unknown feature(s) {', '.join(unknown[:5])}; "
                "the version's schema does not declare them",
            }
        )
    for rule in schema.features:
        if rule.pii == "drop":
            continue
        value = feats.get(rule.name)
        if value is None:
            if not rule.nullable:
                issues[rule.name] = "null_not_allowed"
            continue
        well_typed = {"numeric": type(value) in (int, float), "boolean": type(value) is bool}.get(
            rule.type, type(value) in (str, int)
        )
        if not well_typed:
            errors.append(
                {
                    "field": f"features.{rule.name}",
                    "message": f"expected {EXPECTED[rule.type]}, got {validation.type_name(value)}",
                }
            )
        elif (rule.min_value is not None and value < rule.min_value) or (
            rule.max_value is not None and value > rule.max_value
        ):
            issues[rule.name] = "out_of_range"
        elif rule.categories is not None and str(value) not in rule.categories:
            issues[rule.name] = "undeclared_category"
    return errors


def reference(
    records: list[Any], schema: Schema = SCHEMA
) -> tuple[list[CleanPrediction], list[dict[str, Any]]]:
    valid, rejected = [], []
    needs_pii = any(rule.pii != "keep" for rule in schema.features)
    for i, rec in enumerate(records):
        errors: list[dict[str, str]] = []
        if not isinstance(rec, dict):
            errors.append({"field": "", "message": f"expected an object, got {validation.type_name(rec)}"})
            record_id, ts, feats = "", None, {}
        else:
            # The envelope's rules are `_check_envelope`, the per-record path the fast path falls back on.
            record_id, ts = predictions._check_envelope(rec, schema, NOW, FUTURE, errors)
            feats = rec.get("features")
            if feats is None:
                errors.append({"field": "features", "message": "required: an object of feature values"})
                feats = {}
        issues: dict[str, str] = {}
        errors += reference_features(feats, schema, issues)
        if errors or ts is None:
            rejected.append({"index": i, "id": record_id or None, "errors": errors})
            continue
        valid.append(
            CleanPrediction(
                index=i,
                record_id=record_id,
                timestamp=ts,
                features=validation.apply_pii(feats, schema, HASH) if needs_pii else feats,
                prediction=rec["prediction"],
                score=rec.get("score"),
                latency_ms=rec.get("latency_ms"),
                status=rec.get("status", "ok"),
                attributions=rec.get("attributions"),
                lineage=rec.get("lineage"),
                is_late=ts < NOW - LATENESS,
                value_issues=issues or None,
            )
        )
    return valid, rejected


def fast(records: list[Any], schema: Schema = SCHEMA) -> tuple[list[CleanPrediction], list[dict[str, Any]]]:
    out = check_predictions(records, schema, now=NOW, lateness=LATENESS, future_tolerance=FUTURE, hasher=HASH)
    return out.valid, out.rejected


def same_answer(
    records: list[Any], schema: Schema = SCHEMA
) -> tuple[list[CleanPrediction], list[dict[str, Any]]]:
    # Each side gets its own copy: PII handling must not change the caller's records either way.
    expected = reference(orjson.loads(orjson.dumps(records)), schema)
    got = fast(orjson.loads(orjson.dumps(records)), schema)
    assert got == expected
    features = [r.get("features") if isinstance(r, dict) else r for r in orjson.loads(orjson.dumps(records))]
    checked = check_features(features, schema)
    for i, feats in enumerate(features):
        issues: dict[str, str] = {}
        assert checked.errors[i] == reference_features(feats, schema, issues)
        assert checked.issues[i] == issues
    return got


def full_row(i: int, **changes: Any) -> dict[str, Any]:
    """A record with every declared feature present (the transposed path)."""
    feats = {
        "income": 10 * i,
        "ratio": i / 7,
        "delta": 0.5,
        "flag": i % 2 == 0,
        "tier": "gold",
        "segment": f"s{i % 3}",
        "customer": f"C-{i}",
        "email": f"p{i}@example.com",
    }
    feats.update(changes)
    return {
        "id": f"r-{i}",
        "timestamp": "2026-11-20T12:00:00Z",
        "features": feats,
        "prediction": 1,
        "score": 0.5,
    }


# --- tricky values: each one in a batch of otherwise clean, complete rows ---

TRICKY = [
    ("income", True),  # a boolean is not a number
    ("income", False),
    ("income", 0),  # the declared bounds are inclusive
    ("income", 1000),
    ("income", 1000.0000001),
    ("income", -0.0),
    ("income", None),  # not nullable: stored, flagged
    ("ratio", None),
    ("ratio", 1e300),
    ("ratio", "1.5"),  # a numeric string is refused
    ("delta", -1.5),
    ("delta", -2),
    ("flag", 1),  # a number is not a boolean
    ("flag", "true"),
    ("tier", 3),  # an integer code compares as text: "3" is declared
    ("tier", 4),
    ("tier", True),  # a boolean is not a category
    ("tier", 3.0),
    ("tier", "GOLD"),  # categories are case-sensitive
    ("tier", ""),
    ("segment", 7),
    ("segment", ["a"]),
    ("segment", {"a": 1}),
    ("customer", 12345),  # hashed, as text
    ("email", [1, 2]),  # dropped features are not checked
]


@pytest.mark.parametrize(("name", "value"), TRICKY)
def test_a_tricky_value_gets_the_reference_answer(name, value):
    same_answer([full_row(i) for i in range(5)] + [full_row(5, **{name: value})] + [full_row(6)])


@pytest.mark.parametrize(("name", "value"), TRICKY)
def test_a_tricky_value_in_a_sparse_row_gets_the_reference_answer(name, value):
    sparse = full_row(2)
    del sparse["features"]["ratio"]
    same_answer([full_row(0), sparse, {**full_row(3), "features": {name: value}}])


def test_clean_complete_rows_come_out_unchanged_with_no_issue():
    valid, rejected = same_answer([full_row(i) for i in range(50)])
    assert not rejected and [row.index for row in valid] == list(range(50))
    assert all(row.value_issues is None for row in valid)
    assert all("email" not in row.features and row.features["customer"] != f"C-{row.index}" for row in valid)


def test_an_undeclared_feature_refuses_the_record_and_names_it_not_its_value():
    valid, rejected = same_answer([full_row(0), full_row(1, secret_field="hunter2"), full_row(2)])
    assert [row.index for row in valid] == [0, 2]
    assert rejected[0]["index"] == 1 and "secret_field" in rejected[0]["errors"][0]["message"]
    assert "hunter2" not in repr(rejected)


def test_error_messages_never_echo_the_values():
    secret = "4111-1111-1111-1111"
    _valid, rejected = same_answer(
        [
            full_row(0, income=secret),
            full_row(1, flag=secret),
            full_row(2, tier=[secret]),
            {**full_row(3), "timestamp": secret},
            {**full_row(4), "score": secret},
            {**full_row(5), "status": secret},
        ]
    )
    assert len(rejected) == 6
    assert secret not in repr(rejected)


def test_value_problems_are_stored_and_counted_structural_ones_refuse():
    valid, rejected = same_answer(
        [
            full_row(0, income=5000),
            full_row(1, tier="platinum"),
            full_row(2, income=None),
            full_row(3, income="5000"),
        ]
    )
    assert [row.value_issues for row in valid] == [
        {"income": "out_of_range"},
        {"tier": "undeclared_category"},
        {"income": "null_not_allowed"},
    ]
    assert [r["index"] for r in rejected] == [3]


def test_a_missing_feature_is_a_null_in_either_path():
    sparse = full_row(0)
    del sparse["features"]["income"]
    valid, _ = same_answer([sparse, full_row(1)])
    assert valid[0].value_issues == {"income": "null_not_allowed"}


@pytest.mark.parametrize(
    "envelope",
    [
        {"id": 7},
        {"id": True},
        {"id": ""},
        {"id": "x" * 201},
        {"id": "x" * 200},
        {"id": None},
        {"timestamp": "2026-11-20T14:00:00+02:00"},
        {"timestamp": "2026-11-20T12:00:00"},
        {"timestamp": "2026-11-20T12:41:00Z"},
        {"timestamp": "2026-11-17T12:00:00Z"},
        {"timestamp": "yesterday"},
        {"timestamp": ""},
        {"timestamp": 1700000000},
        {"timestamp": "0001-01-01T00:00+05:00"},
        {"prediction": None},
        {"prediction": True},
        {"prediction": [1]},
        {"prediction": "approve"},
        {"score": True},
        {"score": 1},
        {"latency_ms": -0.001},
        {"latency_ms": 0},
        {"latency_ms": "3"},
        {"status": "error"},
        {"status": "OK"},
        {"status": None},
        {"status": []},
        {"status": {}},
        {"attributions": {"income": 0.2}},
        {"attributions": {"nope": 0.2}},
        {"attributions": {"income": True}},
        {"attributions": []},
        {"lineage": {"source": "batch"}},
        {"lineage": "batch"},
        {"lineage": {}},
        {"extra": 1},
        {"features": None},
        {"features": []},
        {"features": "income=3"},
    ],
)
def test_an_envelope_field_gets_the_reference_answer(envelope):
    same_answer([full_row(0), {**full_row(1), **envelope}, full_row(2)])


def test_a_batch_of_non_objects_gets_the_reference_answer():
    same_answer([full_row(0), None, [], "record", 5, full_row(1)])


def test_a_status_that_cannot_be_hashed_is_refused_not_a_crash():
    _valid, rejected = same_answer([{**full_row(0), "status": ["ok"]}])
    assert rejected[0]["errors"] == [{"field": "status", "message": "expected 'ok' or 'error'"}]


def test_an_empty_batch_is_empty():
    assert same_answer([]) == ([], [])


def test_nan_cannot_arrive_from_json():
    # So the min/max screens never see one from the API. Called directly, a NaN still cannot hide an
    # out-of-range value behind it (min() keeps a leading NaN; the screen then checks value by value).
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(b"[NaN]")
    rule = FeatureRule("income", "numeric", min_value=0, max_value=10)
    schema = Schema((rule,))
    checked = check_features([{"income": math.nan}, {"income": -5}, {"income": 50}], schema)
    assert checked.issues == [{}, {"income": "out_of_range"}, {"income": "out_of_range"}]


def random_record(rng: random.Random, i: int, dirty: float) -> Any:
    if rng.random() < dirty * 0.05:
        return rng.choice([None, [], "record", 3])
    rec = full_row(i)
    if rng.random() < 0.5:
        rec["id"] = rng.choice([f"r-{rng.randint(0, 40)}", i])  # repeats and integer ids
    for name in NAMES:
        if rng.random() < dirty * 0.3:
            if rng.random() < 0.3:
                rec["features"].pop(name)
            else:
                rec["features"][name] = rng.choice([value for _, value in TRICKY])
    if rng.random() < dirty * 0.1:
        rec["features"]["undeclared"] = 1
    for name, choices in (
        ("timestamp", ["2026-11-20T12:00:00Z", "2026-11-17T00:00:00Z", "2026-11-20T13:00:00Z", "bad", None]),
        ("score", [None, 0.1, True, "x"]),
        ("latency_ms", [None, 3, -1, "x"]),
        ("status", ["ok", "error", "nope", None]),
        ("attributions", [None, {"ratio": 1}, {"zz": 1}, [1]]),
        ("lineage", [None, {"a": "b"}, "s"]),
        ("prediction", [0, "yes", None, {}]),
    ):
        if rng.random() < dirty * 0.15:
            rec[name] = rng.choice(choices)
    return rec


@pytest.mark.parametrize("dirty", [0.0, 0.05, 0.5])
@pytest.mark.parametrize("seed", range(5))
def test_random_batches_get_the_reference_answer(seed, dirty):
    rng = random.Random(seed)
    for _ in range(20):
        same_answer([random_record(rng, i, dirty) for i in range(rng.randint(1, 60))])
