"""Telemetry ingestion: predictions, outcomes and health samples.

A batch is checked whole before anything is written. By default one refused record refuses the batch
(nothing stored); with ``partial=True`` the valid records are stored and the refused ones returned.
Either way the tally is kept in an `IngestionBatch`, because refused records are a data-quality signal.
"""

import hashlib
import hmac
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from drift.models import (
    BatchKind,
    HealthSample,
    IngestionBatch,
    ModelVersion,
    MonitoredModel,
    Outcome,
)
from drift.selectors import schema_for, version_for
from drift.services.labels import labels_record
from drift.services.profiles import profiles_record
from drift.services.writers import existing_record_ids, insert_predictions, stored_predictions
from drift.validation import (
    MAX_ID_LENGTH,
    check_predictions,
    is_number,
    is_scalar,
    parse_timestamp,
    pii_hasher,
)
from monitoring_site.errors import ApplicationError

ERRORS_KEPT_PER_BATCH = 20


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    flagged: int = 0
    late: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "flagged": self.flagged,
            "late": self.late,
        }


def pii_key() -> bytes:
    configured = settings.DRIFTWATCH["PII_HASH_KEY"]
    if configured:
        return configured.encode()
    # Derived rather than SECRET_KEY itself, so the hash reveals nothing usable about the secret.
    return hmac.new(settings.SECRET_KEY.encode(), b"driftwatch-pii", hashlib.sha256).digest()


def _check_batch_size(records: Any) -> None:
    if not isinstance(records, list):
        raise ApplicationError(
            "'records' must be a list of objects.",
            errors=[{"field": "records", "message": "expected a list"}],
        )
    limit = settings.DRIFTWATCH["MAX_BATCH_RECORDS"]
    if len(records) > limit:
        raise ApplicationError(
            f"A batch holds at most {limit} records; this one has {len(records)}. Split it.",
            errors=[{"field": "records", "message": f"at most {limit} records per batch"}],
        )
    if not records:
        raise ApplicationError(
            "'records' is empty.", errors=[{"field": "records", "message": "must not be empty"}]
        )


@dataclass(frozen=True)
class _Tally:
    """Where one batch's `IngestionBatch` tally goes: the batch's fixed facts, written once."""

    model: MonitoredModel
    kind: str
    now: datetime
    submitted_by: str
    partial: bool
    is_drill: bool = False
    version: ModelVersion | None = None

    def _create(self, **counts: Any) -> None:
        IngestionBatch.objects.create(
            model=self.model,
            version=self.version,
            kind=self.kind,
            received_at=self.now,
            submitted_by=self.submitted_by[:200],
            partial=self.partial,
            is_drill=self.is_drill,
            **counts,
        )

    def record(self, result: IngestResult) -> None:
        self._create(
            accepted=result.accepted,
            duplicates=result.duplicates,
            rejected=len(result.rejected),
            flagged=result.flagged,
            late=result.late,
            errors_sample=[
                {"index": r["index"], "errors": r["errors"][:3]}
                for r in result.rejected[:ERRORS_KEPT_PER_BATCH]
            ],
        )

    def refused(self, records: Any, exc: ApplicationError) -> None:
        """A batch refused before its records were looked at (unknown version, too many records...)."""
        self._create(
            rejected=len(records) if isinstance(records, list) else 0,
            errors_sample=[
                {"index": None, "errors": (exc.errors or [{"field": None, "message": exc.message}])[:3]}
            ],
        )


def _by_record_id(row: Any) -> str:
    return row.record_id


def _refuse_batch(result: IngestResult) -> ApplicationError:
    first = result.rejected[0]
    problem = first["errors"][0] if first["errors"] else {"field": "", "message": "invalid"}
    where = f"field '{problem['field']}'" if problem["field"] else "the record"
    return ApplicationError(
        f"Record {first['index']} was refused ({where}: {problem['message']}); nothing was stored. "
        f"{len(result.rejected)} record(s) refused in all; fix them, or send with ?partial=true "
        "to store the valid records.",
        errors=[
            {"index": r["index"], "field": e["field"], "message": e["message"]}
            for r in result.rejected[:100]
            for e in r["errors"]
        ],
        extra={"accepted": 0, "duplicates": 0, "rejected": result.rejected},
    )


def predictions_ingest(
    *,
    model: MonitoredModel,
    version: str,
    records: Any,
    partial: bool = False,
    submitted_by: str = "",
    is_drill: bool = False,
) -> IngestResult:
    """Validate and store a batch of predictions; idempotent on the client's record id. `is_drill`
    marks a governance drill's synthetic batch: its rows, profiles and tally stay out of real metrics."""
    tally = _Tally(model, BatchKind.PREDICTIONS, timezone.now(), submitted_by, partial, is_drill)
    now = tally.now
    try:
        if not isinstance(version, str) or not version:
            problem = "required" if version in (None, "") else "expected a string"
            raise ApplicationError(
                f"'version': {problem}.", errors=[{"field": "version", "message": problem}]
            )
        mv = version_for(model, version, status=400)
        tally = replace(tally, version=mv)
        _check_batch_size(records)
    except ApplicationError as exc:
        tally.refused(records, exc)
        raise
    opts = settings.DRIFTWATCH
    checked = check_predictions(
        records,
        schema_for(mv),
        now=now,
        lateness=timedelta(hours=opts["LATENESS_HOURS"]),
        future_tolerance=timedelta(minutes=opts["FUTURE_TOLERANCE_MINUTES"]),
        # A drill replays stored rows, whose hashed features are hashes already: hashing them again
        # would make every hashed value look new.
        hasher=str if is_drill else pii_hasher(pii_key()),
    )
    result = IngestResult(rejected=checked.rejected)
    if checked.rejected and not partial:
        tally.record(result)
        raise _refuse_batch(result)

    # Repeats inside the batch: the first occurrence wins, the rest are duplicates.
    unique: dict[str, Any] = {}
    for row in checked.valid:
        unique.setdefault(row.record_id, row)
    with transaction.atomic():
        stored = existing_record_ids(model.pk, list(unique))
        # Sorted, so concurrent batches with overlapping ids take the unique-index locks in the same
        # order: they wait for each other instead of deadlocking.
        fresh = sorted((row for rid, row in unique.items() if rid not in stored), key=_by_record_id)
        inserted = insert_predictions(
            fresh, model_id=model.pk, version_id=mv.pk, received_at=now, is_drill=is_drill
        )
        kept = [row for row in fresh if row.record_id in inserted]
        result.accepted = len(kept)
        result.duplicates = len(checked.valid) - len(kept)
        result.flagged = sum(1 for row in kept if row.value_issues)
        result.late = sum(1 for row in kept if row.is_late)
        if settings.DRIFTWATCH["PROFILES_AT_INGEST"]:
            # Same transaction as the rows: a window's profile never disagrees with its raw data.
            profiles_record(version=mv, rows=kept, is_drill=is_drill)
        tally.record(result)
    return result


OUTCOME_FIELDS = frozenset({"prediction_id", "label", "timestamp"})


def _check_outcome(
    rec: Any, now: datetime, future: timedelta
) -> tuple[str, Any, datetime, list[dict[str, str]]]:
    errs: list[dict[str, str]] = []
    if not isinstance(rec, dict):
        return "", None, now, [{"field": "", "message": "expected an object"}]
    extra = rec.keys() - OUTCOME_FIELDS
    if extra:
        errs.append(
            {"field": sorted(extra)[0], "message": "unknown field; allowed: prediction_id, label, timestamp"}
        )
    raw_id = rec.get("prediction_id")
    pid = str(raw_id) if type(raw_id) in (str, int) else ""
    if not pid:
        errs.append({"field": "prediction_id", "message": "required: the id the prediction was sent with"})
    elif len(pid) > MAX_ID_LENGTH:
        errs.append({"field": "prediction_id", "message": f"longer than {MAX_ID_LENGTH} characters"})
        pid = ""
    label = rec.get("label")
    if not is_scalar(label):
        errs.append({"field": "label", "message": "required: a label or a number"})
    observed = now
    if rec.get("timestamp") is not None:
        parsed = parse_timestamp(rec["timestamp"])
        if parsed is None:
            errs.append({"field": "timestamp", "message": "not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)"})
        elif parsed > now + future:
            errs.append({"field": "timestamp", "message": "is in the future; check the client's clock"})
        else:
            observed = parsed
    return pid, label, observed, errs


def _insert_outcomes(outcomes: list[Outcome]) -> list[Outcome]:
    """Insert outcomes of predictions not labelled yet; returns the ones inserted."""
    labelled = set(
        Outcome.objects.filter(prediction_id__in=[o.prediction_id for o in outcomes]).values_list(
            "prediction_id", flat=True
        )
    )
    # Sorted for the same reason as prediction rows: concurrent batches lock in the same order.
    fresh = sorted((o for o in outcomes if o.prediction_id not in labelled), key=lambda o: o.prediction_id)
    try:
        with transaction.atomic():
            Outcome.objects.bulk_create(fresh, batch_size=1000)
        return fresh
    except IntegrityError:
        pass
    # A concurrent request labelled some of the same predictions since we looked. Rare, so one
    # savepoint per row is affordable, and it tells exactly which rows were ours.
    inserted = []
    for outcome in fresh:
        outcome.pk = None
        try:
            with transaction.atomic():
                outcome.save(force_insert=True)
            inserted.append(outcome)
        except IntegrityError:
            continue
    return inserted


def outcomes_ingest(
    *,
    model: MonitoredModel,
    records: Any,
    partial: bool = False,
    submitted_by: str = "",
    is_drill: bool = False,
) -> IngestResult:
    """Join labels to stored predictions by the client's id. Unknown ids are refused and reported back.
    (A drill prediction's label lands in drill label fragments whatever `is_drill` says; the flag marks
    the batch's tally.)"""
    tally = _Tally(model, BatchKind.OUTCOMES, timezone.now(), submitted_by, partial, is_drill)
    now = tally.now
    try:
        _check_batch_size(records)
    except ApplicationError as exc:
        tally.refused(records, exc)
        raise
    future = timedelta(minutes=settings.DRIFTWATCH["FUTURE_TOLERANCE_MINUTES"])
    parsed = [_check_outcome(rec, now, future) for rec in records]
    ids = [pid for pid, _, _, errs in parsed if not errs]
    known = stored_predictions(model.pk, ids)
    result = IngestResult()
    valid: dict[int, Outcome] = {}
    for index, (pid, label, observed, errs) in enumerate(parsed):
        if not errs and pid not in known:
            errs = [{"field": "prediction_id", "message": f"no prediction with id '{pid}' for this model"}]
        if errs:
            result.rejected.append({"index": index, "id": pid or None, "errors": errs})
            continue
        if known[pid] in valid:
            result.duplicates += 1
            continue
        valid[known[pid]] = Outcome(
            model=model, prediction_id=known[pid], label=label, observed_at=observed, received_at=now
        )
    if result.rejected and not partial:
        # Recorded outside any transaction, so the refusal's tally stays when the error is raised.
        tally.record(result)
        raise _refuse_batch(result)
    with transaction.atomic():
        inserted = _insert_outcomes(list(valid.values())) if valid else []
        result.accepted = len(inserted)
        result.duplicates += len(valid) - result.accepted
        # Only what this batch inserted: each prediction's label is counted once in the fragments.
        labels_record(model=model, outcomes=inserted)
        tally.record(result)
    return result


HEALTH_COUNTS = ("queue_depth", "request_count", "error_count")
HEALTH_FIELDS = (*HEALTH_COUNTS, "cpu", "memory")
# The largest value the integer columns hold on every database.
MAX_COUNT = 2**31 - 1


def health_record(*, model: MonitoredModel, data: dict[str, Any]) -> HealthSample:
    now = timezone.now()
    errors = []
    extra = sorted(str(key) for key in data.keys() - {"timestamp", *HEALTH_FIELDS})
    if extra:
        errors.append(
            {"field": extra[0], "message": "unknown field; allowed: timestamp, " + ", ".join(HEALTH_FIELDS)}
        )
    ts = parse_timestamp(data.get("timestamp")) if data.get("timestamp") is not None else now
    if ts is None:
        errors.append({"field": "timestamp", "message": "not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)"})
    elif ts > now + timedelta(minutes=settings.DRIFTWATCH["FUTURE_TOLERANCE_MINUTES"]):
        errors.append({"field": "timestamp", "message": "is in the future; check the client's clock"})
    for name in HEALTH_FIELDS:
        value = data.get(name)
        if value is None:
            continue
        if not is_number(value) or value < 0:
            errors.append({"field": name, "message": "expected a non-negative number"})
        elif name in HEALTH_COUNTS and (value != int(value) or value > MAX_COUNT):
            errors.append({"field": name, "message": f"expected a whole number up to {MAX_COUNT}"})
    if errors:
        raise ApplicationError(
            f"Invalid health sample: {errors[0]['field']} {errors[0]['message']}.", errors=errors
        )
    if all(data.get(name) is None for name in HEALTH_FIELDS):
        raise ApplicationError(
            "A health sample needs at least one measurement.",
            errors=[{"field": "", "message": "send one of " + ", ".join(HEALTH_FIELDS)}],
        )
    return HealthSample.objects.create(
        model=model, timestamp=ts, received_at=now, **{name: data.get(name) for name in HEALTH_FIELDS}
    )
