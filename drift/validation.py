"""Check telemetry records against a version's feature schema. Pure: no Django.

Two kinds of problems, treated differently because monitoring must see the second kind:

- *structural* problems refuse the record (wrong type, unknown feature, missing id/timestamp/prediction,
  unparseable timestamp): it cannot be stored meaningfully;
- *value* problems are stored and counted (outside the declared range, a category never declared, a null
  where the schema says not nullable, a late timestamp).

Error messages name the field and the problem but never echo the value, so raw PII cannot leak into
responses or logs.

Example:
    >>> schema = Schema((FeatureRule("age", "numeric", min_value=18, max_value=99),))
    >>> out = check_features([{"age": 17}, {"age": "x"}], schema)
    >>> out.errors[1], out.issues[0]
    ([{'field': 'features.age', 'message': 'expected a number, got a string'}], {'age': 'out_of_range'})
"""

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

NUMBER_TYPES = (int, float)
OUT_OF_RANGE = "out_of_range"
UNDECLARED_CATEGORY = "undeclared_category"
NULL_NOT_ALLOWED = "null_not_allowed"
PREDICTION_FIELDS = frozenset(
    {"id", "timestamp", "features", "prediction", "score", "latency_ms", "status", "attributions", "lineage"}
)
REFERENCE_FIELDS = frozenset({"features", "prediction", "score", "label"})
STATUSES = frozenset({"ok", "error"})
MAX_ID_LENGTH = 200
MAX_LINEAGE_DEPTH = 16


@dataclass(frozen=True)
class FeatureRule:
    name: str
    type: str  # numeric | categorical | boolean
    pii: str = "keep"  # keep | hash | drop
    nullable: bool = True
    min_value: float | None = None
    max_value: float | None = None
    categories: frozenset[str] | None = None  # None: nothing declared, so nothing is "undeclared"


@dataclass(frozen=True)
class Schema:
    features: tuple[FeatureRule, ...]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(rule.name for rule in self.features)


@dataclass
class FeatureCheck:
    """Per-record results of `check_features`, index-aligned with the input."""

    errors: list[list[dict[str, str]]]
    issues: list[dict[str, str]]


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, NUMBER_TYPES):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def is_number(value: Any) -> bool:
    # type() rather than isinstance(): bool is a subclass of int and must not pass as a number.
    return type(value) in NUMBER_TYPES


def _check_column(rule: FeatureRule, column: list[Any], errors: list[list[dict[str, str]]],
                  issues: list[dict[str, str]]) -> None:
    field_name = f"features.{rule.name}"
    if rule.type == "numeric":
        valid = is_number
        expected = "a number"
    elif rule.type == "boolean":
        def valid(v: Any) -> bool:
            return type(v) is bool

        expected = "true or false"
    else:
        # Categories may be sent as codes (3) or names ("gold"); they are compared as text.
        def valid(v: Any) -> bool:
            return type(v) is str or type(v) is int

        expected = "a string"
    low, high, cats = rule.min_value, rule.max_value, rule.categories
    for i, value in enumerate(column):
        if value is None:
            if not rule.nullable:
                issues[i][rule.name] = NULL_NOT_ALLOWED
            continue
        if not valid(value):
            errors[i].append({"field": field_name, "message": f"expected {expected}, got {_type_name(value)}"})
            continue
        if low is not None and value < low or high is not None and value > high:
            issues[i][rule.name] = OUT_OF_RANGE
        elif cats is not None and str(value) not in cats:
            issues[i][rule.name] = UNDECLARED_CATEGORY


def check_features(feature_dicts: Sequence[Any], schema: Schema) -> FeatureCheck:
    """Check each record's ``features`` object, column by column (one tight loop per feature)."""
    n = len(feature_dicts)
    errors: list[list[dict[str, str]]] = [[] for _ in range(n)]
    issues: list[dict[str, str]] = [{} for _ in range(n)]
    known = schema.names
    checked = [rule for rule in schema.features if rule.pii != "drop"]
    rows: list[dict[str, Any]] = []
    for i, feats in enumerate(feature_dicts):
        if not isinstance(feats, dict):
            errors[i].append({"field": "features", "message": f"expected an object, got {_type_name(feats)}"})
            rows.append({})
            continue
        if not known.issuperset(feats):
            unknown = sorted(str(k) for k in feats if k not in known)
            errors[i].append({
                "field": "features",
                "message": f"unknown feature(s) {', '.join(unknown[:5])}; the version's schema does not declare them",
            })
        rows.append(feats)
    for rule in checked:
        name = rule.name
        _check_column(rule, [row.get(name) for row in rows], errors, issues)
    return FeatureCheck(errors=errors, issues=issues)


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 text to an aware UTC datetime; naive times are taken as UTC. None when unparseable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        # Converting e.g. 0001-01-01T00:00+05:00 to UTC leaves the representable range.
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def pii_hasher(key: bytes) -> Callable[[Any], str]:
    """Keyed HMAC-SHA256 of a value's text: equal inputs stay equal, the raw value cannot be recovered."""

    def digest(value: Any) -> str:
        return hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()[:32]

    return digest


def apply_pii(features: dict[str, Any], schema: Schema, hasher: Callable[[Any], str]) -> dict[str, Any]:
    """Drop `drop` features and hash `hash` features; returns a new dict (the input is left alone)."""
    out = dict(features)
    for rule in schema.features:
        if rule.pii == "drop":
            out.pop(rule.name, None)
        elif rule.pii == "hash" and out.get(rule.name) is not None:
            out[rule.name] = hasher(out[rule.name])
    return out


@dataclass
class CleanPrediction:
    index: int
    record_id: str
    timestamp: datetime
    features: dict[str, Any]
    prediction: Any
    score: float | None
    latency_ms: float | None
    status: str
    attributions: dict[str, float] | None
    lineage: dict[str, Any] | None
    is_late: bool
    value_issues: dict[str, str] | None


@dataclass
class PredictionCheck:
    valid: list[CleanPrediction] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def is_scalar(value: Any) -> bool:
    return value is not None and not isinstance(value, dict | list)


def _nested_deeper_than(value: Any, limit: int) -> bool:
    # Deep junk cannot be stored (the JSON encoders stop at a few hundred levels) or shown usefully.
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return False


def _check_envelope(rec: dict[str, Any], schema: Schema, now: datetime, future: timedelta,
                    errs: list[dict[str, str]]) -> tuple[str, datetime | None]:
    """Structural checks of one record outside its features; appends to `errs`."""
    extra = rec.keys() - PREDICTION_FIELDS
    if extra:
        errs.append({"field": sorted(extra)[0], "message": "unknown field; allowed: " + ", ".join(sorted(PREDICTION_FIELDS))})
    raw_id = rec.get("id")
    record_id = str(raw_id) if type(raw_id) in (str, int) else ""
    if not record_id:
        errs.append({"field": "id", "message": "required: a non-empty string or integer"})
    elif len(record_id) > MAX_ID_LENGTH:
        errs.append({"field": "id", "message": f"longer than {MAX_ID_LENGTH} characters"})
    ts = parse_timestamp(rec.get("timestamp"))
    if "timestamp" not in rec:
        errs.append({"field": "timestamp", "message": "required: an ISO 8601 time"})
    elif ts is None:
        errs.append({"field": "timestamp", "message": "not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)"})
    elif ts > now + future:
        errs.append({"field": "timestamp", "message": "is in the future; check the client's clock"})
    if not is_scalar(rec.get("prediction")):
        errs.append({"field": "prediction", "message": "required: a label or a number"})
    for name in ("score", "latency_ms"):
        value = rec.get(name)
        if value is not None and not is_number(value):
            errs.append({"field": name, "message": f"expected a number, got {_type_name(value)}"})
    latency = rec.get("latency_ms")
    if is_number(latency) and latency < 0:
        errs.append({"field": "latency_ms", "message": "must not be negative"})
    status = rec.get("status", "ok")
    if status not in STATUSES:
        errs.append({"field": "status", "message": "expected 'ok' or 'error'"})
    attributions = rec.get("attributions")
    if attributions is not None:
        if not isinstance(attributions, dict) or not all(is_number(v) for v in attributions.values()):
            errs.append({"field": "attributions", "message": "expected an object of feature: number"})
        elif not schema.names.issuperset(attributions):
            errs.append({"field": "attributions", "message": "names features the schema does not declare"})
    lineage = rec.get("lineage")
    if lineage is not None and not isinstance(lineage, dict):
        errs.append({"field": "lineage", "message": f"expected an object, got {_type_name(lineage)}"})
    elif lineage and _nested_deeper_than(lineage, MAX_LINEAGE_DEPTH):
        errs.append({"field": "lineage", "message": f"nested deeper than {MAX_LINEAGE_DEPTH} levels"})
    return record_id, ts


def check_predictions(
    records: Any,
    schema: Schema,
    *,
    now: datetime,
    lateness: timedelta,
    future_tolerance: timedelta,
    hasher: Callable[[Any], str],
) -> PredictionCheck:
    """Validate a batch of prediction records; returns the clean ones (PII applied) and the refused ones."""
    out = PredictionCheck()
    if not isinstance(records, list):
        out.rejected.append({"index": None, "errors": [{"field": "records", "message": "expected a list"}]})
        return out
    envelopes: list[tuple[str, datetime | None]] = []
    errors: list[list[dict[str, str]]] = []
    feature_dicts: list[Any] = []
    for i, rec in enumerate(records):
        errs: list[dict[str, str]] = []
        if not isinstance(rec, dict):
            errs.append({"field": "", "message": f"expected an object, got {_type_name(rec)}"})
            envelopes.append(("", None))
            feature_dicts.append({})
        else:
            envelopes.append(_check_envelope(rec, schema, now, future_tolerance, errs))
            feats = rec.get("features")
            if feats is None:
                errs.append({"field": "features", "message": "required: an object of feature values"})
                feats = {}
            feature_dicts.append(feats)
        errors.append(errs)
    checked = check_features(feature_dicts, schema)
    late_before = now - lateness
    needs_pii = any(rule.pii != "keep" for rule in schema.features)
    for i, rec in enumerate(records):
        errs = errors[i] + checked.errors[i]
        record_id, ts = envelopes[i]
        if errs or ts is None:
            out.rejected.append({"index": i, "id": record_id or None, "errors": errs})
            continue
        feats = feature_dicts[i]
        out.valid.append(
            CleanPrediction(
                index=i,
                record_id=record_id,
                timestamp=ts,
                features=apply_pii(feats, schema, hasher) if needs_pii else feats,
                prediction=rec["prediction"],
                score=rec.get("score"),
                latency_ms=rec.get("latency_ms"),
                status=rec.get("status", "ok"),
                attributions=rec.get("attributions"),
                lineage=rec.get("lineage"),
                is_late=ts < late_before,
                value_issues=checked.issues[i] or None,
            )
        )
    return out
