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
from itertools import chain, repeat
from operator import attrgetter, itemgetter
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


_NONE = type(None)
# Value types each feature type accepts. Exact types, not isinstance(): bool is a subclass of int and must
# not pass as a number. Categories may be sent as codes (3) or names ("gold"); they are compared as text.
_ACCEPTED = {"numeric": frozenset({int, float}), "boolean": frozenset({bool})}
_CATEGORY_TYPES = frozenset({str, int})
_EXPECTED = {"numeric": "a number", "boolean": "true or false"}


def _check_values(
    rule: FeatureRule,
    column: Sequence[Any],
    errors: dict[int, list[dict[str, str]]],
    issues: dict[int, dict[str, str]],
) -> None:
    """The reference check of one column, value by value. `errors` and `issues` are keyed by index."""
    name = rule.name
    accepted = _ACCEPTED.get(rule.type, _CATEGORY_TYPES)
    message = f"expected {_EXPECTED.get(rule.type, 'a string')}, got "
    low, high, cats = rule.min_value, rule.max_value, rule.categories
    for i, value in enumerate(column):
        if value is None:
            if not rule.nullable:
                issues.setdefault(i, {})[name] = NULL_NOT_ALLOWED
            continue
        if type(value) not in accepted:
            errors.setdefault(i, []).append(
                {"field": f"features.{name}", "message": message + _type_name(value)}
            )
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            issues.setdefault(i, {})[name] = OUT_OF_RANGE
        elif cats is not None and str(value) not in cats:
            issues.setdefault(i, {})[name] = UNDECLARED_CATEGORY


def _all_declared(rule: FeatureRule, values: Sequence[Any], types: set[type]) -> bool:
    """True when no value (all non-null and of an accepted type) is outside the declared range or categories.

    Conservative: False sends the column to the value-by-value check, which finds the exact ones.
    """
    low, high, cats = rule.min_value, rule.max_value, rule.categories
    if not values or (low is None and high is None and cats is None):
        return True
    if cats is None:
        # min/max in C instead of two comparisons per value. A NaN (not possible from JSON) that
        # min/max return fails both comparisons, so it lands in the exact check too.
        return (low is None or min(values) >= low) and (high is None or max(values) <= high)
    if low is None and high is None:
        return cats.issuperset(values) if types == {str} else cats.issuperset(map(str, values))
    return False


def _check_column(
    rule: FeatureRule,
    column: Sequence[Any],
    errors: dict[int, list[dict[str, str]]],
    issues: dict[int, dict[str, str]],
) -> None:
    """Check one feature's values; the common all-well-typed, all-in-range column costs a few C calls."""
    types = set(map(type, column))
    has_null = _NONE in types
    types.discard(_NONE)
    values = [v for v in column if v is not None] if has_null else column
    if types <= _ACCEPTED.get(rule.type, _CATEGORY_TYPES) and _all_declared(rule, values, types):
        if has_null and not rule.nullable:
            for i, value in enumerate(column):
                if value is None:
                    issues.setdefault(i, {})[rule.name] = NULL_NOT_ALLOWED
        return
    _check_values(rule, column, errors, issues)


def _columns(rows: Sequence[dict[str, Any]], names: tuple[str, ...]) -> dict[str, Sequence[Any]] | None:
    """Each feature's values, when every row holds every declared feature and nothing else; else None.

    The usual batch: one itemgetter per row and a transpose, all in C, instead of one lookup per value.
    """
    if len(names) < 2 or not rows:
        return None
    try:
        table = list(zip(*map(itemgetter(*names), rows), strict=True))
    except KeyError:
        return None  # some feature is absent from some row (sent as null by absence)
    if max(map(len, rows)) != len(names):
        return None  # some row names a feature the schema does not declare
    return dict(zip(names, table, strict=True))


def _check_feature_objects(
    feature_dicts: Sequence[Any], schema: Schema
) -> tuple[dict[int, list[dict[str, str]]], dict[int, dict[str, str]]]:
    """`check_features` with results keyed by index, holding only the records that have some."""
    errors: dict[int, list[dict[str, str]]] = {}
    issues: dict[int, dict[str, str]] = {}
    known = schema.names
    rows: Sequence[Any] = feature_dicts
    plain = set(map(type, feature_dicts)) <= {dict}
    columns = _columns(feature_dicts, tuple(rule.name for rule in schema.features)) if plain else None
    # Without the transpose, one pass in C still tells whether any row names an undeclared feature.
    if columns is None and not (plain and known.issuperset(chain.from_iterable(feature_dicts))):
        rows = []
        for i, feats in enumerate(feature_dicts):
            if not isinstance(feats, dict):
                errors[i] = [{"field": "features", "message": f"expected an object, got {_type_name(feats)}"}]
                rows.append({})
                continue
            if not known.issuperset(feats):
                unknown = sorted(str(k) for k in feats if k not in known)
                errors[i] = [
                    {
                        "field": "features",
                        "message": f"unknown feature(s) {', '.join(unknown[:5])}; "
                        "the version's schema does not declare them",
                    }
                ]
            rows.append(feats)
    get = dict.get
    for rule in schema.features:
        if rule.pii != "drop":
            column = columns[rule.name] if columns is not None else list(map(get, rows, repeat(rule.name)))
            _check_column(rule, column, errors, issues)
    return errors, issues


def check_features(feature_dicts: Sequence[Any], schema: Schema) -> FeatureCheck:
    """Check each record's ``features`` object, column by column (one tight loop per feature)."""
    errors, issues = _check_feature_objects(feature_dicts, schema)
    n = len(feature_dicts)
    return FeatureCheck(
        errors=[errors.get(i) or [] for i in range(n)], issues=[issues.get(i) or {} for i in range(n)]
    )


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


@dataclass(slots=True)
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


def _check_envelope(
    rec: dict[str, Any], schema: Schema, now: datetime, future: timedelta, errs: list[dict[str, str]]
) -> tuple[str, datetime | None]:
    """Structural checks of one record outside its features; appends to `errs`."""
    extra = rec.keys() - PREDICTION_FIELDS
    if extra:
        errs.append(
            {
                "field": sorted(extra)[0],
                "message": "unknown field; allowed: " + ", ".join(sorted(PREDICTION_FIELDS)),
            }
        )
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
    if not isinstance(status, str) or status not in STATUSES:  # a list is not hashable
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


_NUMBER_OR_NULL = frozenset({int, float, _NONE})
# The record fields `check_predictions` reads, with the value a missing one stands for.
_COLUMN_DEFAULTS = {
    "id": None,
    "timestamp": None,
    "features": None,
    "prediction": None,
    "score": None,
    "latency_ms": None,
    "status": "ok",
    "attributions": None,
    "lineage": None,
}
_JSON_SCALARS = frozenset({str, int, float, bool})


def _to_utc(parsed: datetime) -> datetime:
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _parse_timestamps(raw: list[Any]) -> list[datetime | None]:
    """`parse_timestamp` of every value; in C for the usual column of well-formed UTC texts."""
    if set(map(type, raw)) == {str}:
        try:
            parsed = list(map(datetime.fromisoformat, raw))
            if set(map(attrgetter("tzinfo"), parsed)) == {UTC}:
                return parsed  # type: ignore[return-value]
            return list(map(_to_utc, parsed))  # type: ignore[return-value]
        except (ValueError, OverflowError):
            pass
    return list(map(parse_timestamp, raw))


def _where(values: list[Any], bad: Callable[[Any], bool]) -> set[int]:
    return {i for i, value in enumerate(values) if bad(value)}


def _screen_envelopes(
    records: list[dict[str, Any]], schema: Schema, now: datetime, future: timedelta
) -> tuple[dict[str, list[Any]], set[int]]:
    """Check the fields outside ``features`` column by column; returns the columns and the suspects.

    A record outside the suspects certainly passes `_check_envelope` with the same id and time (each
    screen below is that function's condition, or a stricter one). Suspects, usually none, get the
    exact per-record check, which names their problems.
    """
    get = dict.get
    suspects: set[int] = set()

    def column(name: str, default: Any = None) -> list[Any]:
        return list(map(get, records, repeat(name), repeat(default)))

    if not PREDICTION_FIELDS.issuperset(chain.from_iterable(records)):
        suspects |= _where(records, lambda rec: not PREDICTION_FIELDS.issuperset(rec))

    ids = column("id")
    if not set(map(type, ids)) <= {str}:
        ids = [str(v) if type(v) in (str, int) else "" for v in ids]
    if not all(ids) or max(map(len, ids), default=0) > MAX_ID_LENGTH:
        suspects |= _where(ids, lambda v: not v or len(v) > MAX_ID_LENGTH)

    times = _parse_timestamps(column("timestamp"))
    if None in times:
        suspects |= _where(times, lambda ts: ts is None)
        latest = max((ts for ts in times if ts is not None), default=None)
    else:
        latest = max(times, default=None)
    if latest is not None and latest > now + future:
        suspects |= _where(times, lambda ts: ts is not None and ts > now + future)

    predictions = column("prediction")
    if not set(map(type, predictions)) <= _JSON_SCALARS:
        suspects |= _where(predictions, lambda v: not is_scalar(v))

    cols = {"id": ids, "timestamp": times, "prediction": predictions}
    for name in ("score", "latency_ms"):
        cols[name] = values = column(name)
        if not set(map(type, values)) <= _NUMBER_OR_NULL:
            suspects |= _where(values, lambda v: v is not None and not is_number(v))
    latencies = [v for v in cols["latency_ms"] if type(v) in _ACCEPTED["numeric"]]
    # `not >=` rather than `<`: a NaN minimum (not possible from JSON) goes to the exact check.
    if latencies and not min(latencies) >= 0:
        suspects |= _where(cols["latency_ms"], lambda v: not is_number(v) or not v >= 0)

    cols["status"] = statuses = column("status", "ok")
    if not (set(map(type, statuses)) <= {str} and STATUSES.issuperset(statuses)):
        suspects |= _where(statuses, lambda v: type(v) is not str or v not in STATUSES)

    names = schema.names
    cols["attributions"] = attributions = column("attributions")
    if set(map(type, attributions)) != {_NONE}:
        suspects |= _where(
            attributions,
            lambda a: (
                a is not None
                and not (
                    type(a) is dict
                    and set(map(type, a.values())) <= _ACCEPTED["numeric"]
                    and names.issuperset(a)
                )
            ),
        )
    cols["lineage"] = lineage = column("lineage")
    if set(map(type, lineage)) != {_NONE}:
        suspects |= _where(
            lineage,
            lambda v: v is not None and (type(v) is not dict or _nested_deeper_than(v, MAX_LINEAGE_DEPTH)),
        )

    cols["features"] = features = column("features")
    if None in features:
        suspects |= _where(features, lambda v: v is None)
    return cols, suspects


def check_predictions(
    records: Any,
    schema: Schema,
    *,
    now: datetime,
    lateness: timedelta,
    future_tolerance: timedelta,
    hasher: Callable[[Any], str],
) -> PredictionCheck:
    """Validate a batch of prediction records; returns the clean ones (PII applied) and the refused ones.

    Column by column: a batch of well-formed records costs a few C-level passes per field, and only
    records that may have a problem are looked at one by one (by the same rules, so the answer is the same).
    """
    out = PredictionCheck()
    if not isinstance(records, list):
        out.rejected.append({"index": None, "errors": [{"field": "records", "message": "expected a list"}]})
        return out
    n = len(records)
    errors: dict[int, list[dict[str, str]]] = {}
    if set(map(type, records)) <= {dict}:
        cols, suspects = _screen_envelopes(records, schema, now, future_tolerance)
    else:
        # Not every record is a plain object: the rare broken batch is checked record by record.
        cols = {
            name: [rec.get(name, default) if isinstance(rec, dict) else None for rec in records]
            for name, default in _COLUMN_DEFAULTS.items()
        }
        suspects = set(range(n))
    ids, times, feature_dicts = cols["id"], cols["timestamp"], cols["features"]
    for i in sorted(suspects):
        rec = records[i]
        errs: list[dict[str, str]] = []
        if not isinstance(rec, dict):
            errs.append({"field": "", "message": f"expected an object, got {_type_name(rec)}"})
            ids[i], times[i], feature_dicts[i] = "", None, {}
        else:
            ids[i], times[i] = _check_envelope(rec, schema, now, future_tolerance, errs)
            if feature_dicts[i] is None:
                errs.append({"field": "features", "message": "required: an object of feature values"})
                feature_dicts[i] = {}
        if errs:
            errors[i] = errs
    feature_errors, issues = _check_feature_objects(feature_dicts, schema)
    for i, errs in feature_errors.items():
        errors.setdefault(i, []).extend(errs)
    for i in sorted(errors):
        out.rejected.append({"index": i, "id": ids[i] or None, "errors": errors[i]})

    keep: Sequence[int] = range(n)
    if errors:
        keep = [i for i in range(n) if i not in errors]
        cols = {name: [column[i] for i in keep] for name, column in cols.items()}
    if any(rule.pii != "keep" for rule in schema.features):
        cols["features"] = [apply_pii(feats, schema, hasher) for feats in cols["features"]]
    late_before = now - lateness
    out.valid = list(
        map(
            CleanPrediction,
            keep,
            cols["id"],
            cols["timestamp"],
            cols["features"],
            cols["prediction"],
            cols["score"],
            cols["latency_ms"],
            cols["status"],
            cols["attributions"],
            cols["lineage"],
            map(late_before.__gt__, cols["timestamp"]),
            map(issues.get, keep),
        )
    )
    return out
