"""Prediction records: the fields around the features, checked column by column, then the features."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain, repeat
from operator import attrgetter
from typing import Any

from drift.validation.features import ACCEPTED_TYPES, NONE_TYPE, check_feature_objects
from drift.validation.schema import (
    MAX_ID_LENGTH,
    MAX_LINEAGE_DEPTH,
    PREDICTION_FIELDS,
    STATUSES,
    Schema,
    apply_pii,
    is_number,
    is_scalar,
    parse_timestamp,
    type_name,
)


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
            errs.append({"field": name, "message": f"expected a number, got {type_name(value)}"})
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
        errs.append({"field": "lineage", "message": f"expected an object, got {type_name(lineage)}"})
    elif lineage and _nested_deeper_than(lineage, MAX_LINEAGE_DEPTH):
        errs.append({"field": "lineage", "message": f"nested deeper than {MAX_LINEAGE_DEPTH} levels"})
    return record_id, ts


_NUMBER_OR_NULL = frozenset({int, float, NONE_TYPE})
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
    latencies = [v for v in cols["latency_ms"] if type(v) in ACCEPTED_TYPES["numeric"]]
    # `not >=` rather than `<`: a NaN minimum (not possible from JSON) goes to the exact check.
    if latencies and not min(latencies) >= 0:
        suspects |= _where(cols["latency_ms"], lambda v: not is_number(v) or not v >= 0)

    cols["status"] = statuses = column("status", "ok")
    if not (set(map(type, statuses)) <= {str} and STATUSES.issuperset(statuses)):
        suspects |= _where(statuses, lambda v: type(v) is not str or v not in STATUSES)

    names = schema.names
    cols["attributions"] = attributions = column("attributions")
    if set(map(type, attributions)) != {NONE_TYPE}:
        suspects |= _where(
            attributions,
            lambda a: (
                a is not None
                and not (
                    type(a) is dict
                    and set(map(type, a.values())) <= ACCEPTED_TYPES["numeric"]
                    and names.issuperset(a)
                )
            ),
        )
    cols["lineage"] = lineage = column("lineage")
    if set(map(type, lineage)) != {NONE_TYPE}:
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
            errs.append({"field": "", "message": f"expected an object, got {type_name(rec)}"})
            ids[i], times[i], feature_dicts[i] = "", None, {}
        else:
            ids[i], times[i] = _check_envelope(rec, schema, now, future_tolerance, errs)
            if feature_dicts[i] is None:
                errs.append({"field": "features", "message": "required: an object of feature values"})
                feature_dicts[i] = {}
        if errs:
            errors[i] = errs
    feature_errors, issues = check_feature_objects(feature_dicts, schema)
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
