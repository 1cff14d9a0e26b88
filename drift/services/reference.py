"""Reference datasets: the data a version is compared against, uploaded as JSON records or CSV."""

import csv
import hashlib
import io
import math
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from drift.models import BatchKind, IngestionBatch, ModelVersion, ReferenceDataset, ReferenceRow
from drift.selectors import schema_for
from drift.services.ingestion import ERRORS_KEPT_PER_BATCH, pii_key
from drift.services.profiles import spec_from_reference_rows
from drift.tasks import profiles_rebuild_task
from drift.validation import (
    REFERENCE_FIELDS,
    Schema,
    apply_pii,
    check_features,
    is_number,
    is_scalar,
    pii_hasher,
)
from monitoring_site.broker import send_on_commit
from monitoring_site.errors import ApplicationError

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def _csv_value(text: str, kind: str) -> Any:
    """Text of a CSV cell to the schema's type; unparseable text is kept as text so validation names it."""
    if text == "":
        return None
    if kind == "numeric":
        try:
            number = float(text)
        except ValueError:
            return text
        # "nan" and "inf" parse as floats but are not measurements, and JSON cannot hold them.
        return number if math.isfinite(number) else text
    if kind == "boolean":
        lowered = text.strip().lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else text
    return text


def parse_reference_csv(content: bytes, schema: Schema) -> list[dict[str, Any]]:
    """CSV with one column per feature plus `prediction`, and optionally `score` and `label`."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApplicationError(
            "The CSV file is not UTF-8 text.", errors=[{"field": "file", "message": "not UTF-8 text"}]
        ) from exc
    if "\x00" in text:
        raise ApplicationError(
            "The CSV file contains NUL characters; is it a binary file?",
            errors=[{"field": "file", "message": "contains NUL characters"}],
        )
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    types = {rule.name: rule.type for rule in schema.features}
    unknown = [name for name in header if name not in types and name not in {"prediction", "score", "label"}]
    if unknown or "prediction" not in header:
        problem = f"unknown column(s) {', '.join(unknown[:5])}" if unknown else "no 'prediction' column"
        raise ApplicationError(f"CSV header: {problem}.", errors=[{"field": "file", "message": problem}])
    rows = []
    try:
        for line in reader:
            if None in line:
                raise ApplicationError(
                    f"CSV line {reader.line_num} has more cells than the header.",
                    errors=[{"field": f"file:line {reader.line_num}", "message": "too many cells"}],
                )
            features = {name: _csv_value(line[name] or "", types[name]) for name in header if name in types}
            score_text = line.get("score") or ""
            rows.append(
                {
                    "features": features,
                    "prediction": _csv_value(line["prediction"] or "", "categorical"),
                    "score": _csv_value(score_text, "numeric") if score_text else None,
                    "label": _csv_value(line.get("label") or "", "categorical"),
                }
            )
    except csv.Error as exc:
        raise ApplicationError(
            f"Unreadable CSV: {exc}.", errors=[{"field": "file", "message": str(exc)}]
        ) from exc
    if not rows:
        raise ApplicationError(
            "The CSV file has a header but no rows.", errors=[{"field": "file", "message": "no rows"}]
        )
    return rows


def _check_rows(rows: Any, schema: Schema) -> list[dict[str, Any]]:
    if not isinstance(rows, list) or not rows:
        raise ApplicationError(
            "'records' must be a non-empty list.",
            errors=[{"field": "records", "message": "expected a non-empty list"}],
        )
    limit = settings.DRIFTWATCH["MAX_REFERENCE_ROWS"]
    if len(rows) > limit:
        raise ApplicationError(
            f"A reference holds at most {limit} rows; this one has {len(rows)}.",
            errors=[{"field": "records", "message": f"at most {limit} rows"}],
        )
    errors: list[dict[str, Any]] = []
    feature_dicts = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.append({"index": i, "field": "", "message": "expected an object"})
            feature_dicts.append({})
            continue
        extra = row.keys() - REFERENCE_FIELDS
        if extra:
            errors.append(
                {
                    "index": i,
                    "field": sorted(extra)[0],
                    "message": "unknown field; allowed: features, prediction, score, label",
                }
            )
        if not is_scalar(row.get("prediction")):
            errors.append({"index": i, "field": "prediction", "message": "required: a label or a number"})
        if row.get("score") is not None and not is_number(row["score"]):
            errors.append({"index": i, "field": "score", "message": "expected a number"})
        if row.get("label") is not None and not is_scalar(row["label"]):
            errors.append({"index": i, "field": "label", "message": "expected a label or a number"})
        feats = row.get("features")
        if feats is None:
            errors.append(
                {"index": i, "field": "features", "message": "required: an object of feature values"}
            )
        feature_dicts.append(feats if feats is not None else {})
    checked = check_features(feature_dicts, schema)
    for i, errs in enumerate(checked.errors):
        errors.extend({"index": i, **e} for e in errs)
    if errors:
        errors.sort(key=lambda e: e["index"])
        first = errors[0]
        raise ApplicationError(
            f"Reference row {first['index']} was refused ({first['field'] or 'row'}: {first['message']}); "
            "nothing was stored.",
            errors=errors[:100],
        )
    return [{"issues": issues} for issues in checked.issues]


def _record_refused(
    *, version: ModelVersion, rows: Any, exc: ApplicationError, now: Any, uploaded_by: Any
) -> None:
    """Tally a refused upload: a bad reference is a data-quality signal like a refused batch."""
    by_index: dict[Any, list[dict[str, Any]]] = {}
    for error in exc.errors:
        by_index.setdefault(error.get("index"), []).append(
            {"field": error.get("field"), "message": error.get("message")}
        )
    refused_rows = [i for i in by_index if i is not None]
    IngestionBatch.objects.create(
        model=version.model,
        version=version,
        kind=BatchKind.REFERENCE,
        received_at=now,
        submitted_by=str(uploaded_by or "")[:200],
        rejected=len(refused_rows) or (len(rows) if isinstance(rows, list) else 0),
        errors_sample=[
            {"index": i, "errors": errs[:3]} for i, errs in list(by_index.items())[:ERRORS_KEPT_PER_BATCH]
        ]
        or [{"index": None, "errors": [{"field": None, "message": exc.message}]}],
    )


def reference_upload_csv(
    *, version: ModelVersion, content: bytes, uploaded_by: Any = None
) -> ReferenceDataset:
    """Replace the version's reference with the rows of a CSV file (see `parse_reference_csv`)."""
    try:
        rows = parse_reference_csv(content, schema_for(version))
    except ApplicationError as exc:
        _record_refused(version=version, rows=None, exc=exc, now=timezone.now(), uploaded_by=uploaded_by)
        raise
    return reference_upload(version=version, rows=rows, source="csv", uploaded_by=uploaded_by)


def reference_upload(
    *, version: ModelVersion, rows: Any, source: str, uploaded_by: Any = None
) -> ReferenceDataset:
    """Replace the version's reference with `rows`, whole: an invalid row refuses the upload."""
    now = timezone.now()
    schema = schema_for(version)
    try:
        issues = _check_rows(rows, schema)
    except ApplicationError as exc:
        _record_refused(version=version, rows=rows, exc=exc, now=now, uploaded_by=uploaded_by)
        raise
    with transaction.atomic():
        # Two uploads for one version at once would both delete, then both create: one at a time.
        ModelVersion.objects.select_for_update().filter(pk=version.pk).first()
        dataset = _replace_reference(
            version=version, rows=rows, schema=schema, source=source, uploaded_by=uploaded_by
        )
        flagged = sum(1 for item in issues if item["issues"])
        IngestionBatch.objects.create(
            model=version.model,
            version=version,
            kind=BatchKind.REFERENCE,
            received_at=now,
            submitted_by=str(uploaded_by or "")[:200],
            accepted=dataset.row_count,
            flagged=flagged,
        )
    dataset.flagged_rows = flagged  # type: ignore[attr-defined]
    return dataset


def _replace_reference(
    *, version: ModelVersion, rows: list[dict[str, Any]], schema: Schema, source: str, uploaded_by: Any
) -> ReferenceDataset:
    hasher = pii_hasher(pii_key())
    needs_pii = any(rule.pii != "keep" for rule in schema.features)
    clean = [
        (apply_pii(row["features"], schema, hasher) if needs_pii else row["features"], row) for row in rows
    ]
    digest = hashlib.sha256()
    for features, row in clean:
        digest.update(
            orjson.dumps(
                [features, row["prediction"], row.get("score"), row.get("label")], option=orjson.OPT_SORT_KEYS
            )
        )
    ReferenceDataset.objects.filter(version=version).delete()
    dataset = ReferenceDataset.objects.create(
        version=version,
        row_count=len(clean),
        source=source,
        digest=digest.hexdigest(),
        has_scores=any(row.get("score") is not None for _, row in clean),
        has_labels=any(row.get("label") is not None for _, row in clean),
        uploaded_by=uploaded_by if getattr(uploaded_by, "pk", None) else None,
        profile_spec=spec_from_reference_rows(
            schema, [{"features": features, "score": row.get("score")} for features, row in clean]
        ).to_json(),
    )
    # New bins: the version's profiles are recomputed from its stored rows once this commits.
    # If the broker is down the rebuild is skipped, not the upload: the next analysis asks again.
    send_on_commit(profiles_rebuild_task, version.pk)
    ReferenceRow.objects.bulk_create(
        [
            ReferenceRow(
                dataset=dataset,
                features=features,
                prediction=row["prediction"],
                score=row.get("score"),
                label=row.get("label"),
            )
            for features, row in clean
        ],
        batch_size=2000,
    )
    return dataset
