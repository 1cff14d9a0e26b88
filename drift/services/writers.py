"""Idempotent bulk writes of prediction rows: psycopg COPY on PostgreSQL, bulk_create elsewhere.

Both return the ids actually inserted, so a record id already stored (or stored by a concurrent request
a moment ago) is counted as a duplicate, never written twice.
"""

from collections.abc import Sequence
from datetime import datetime

import orjson
from django.db import IntegrityError, connection, transaction
from psycopg.types.json import set_json_dumps

from drift.models import PredictionLog
from drift.validation import CleanPrediction

COLUMNS = (
    "model_id", "version_id", "record_id", "timestamp", "received_at", "features", "prediction", "score",
    "latency_ms", "status", "attributions", "lineage", "is_late", "value_issues",
)
COLUMN_TYPES = (
    "int8", "int8", "varchar", "timestamptz", "timestamptz", "jsonb", "jsonb", "float8",
    "float8", "varchar", "jsonb", "jsonb", "bool", "jsonb",
)


def existing_record_ids(model_id: int, record_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    # Chunks keep SQLite under its bound-parameter limit; one query per 5,000 ids.
    for start in range(0, len(record_ids), 5000):
        chunk = record_ids[start : start + 5000]
        found.update(
            PredictionLog.objects.filter(model_id=model_id, record_id__in=chunk).values_list("record_id", flat=True)
        )
    return found


def _copy_rows(cursor: object, table: str, rows: Sequence[CleanPrediction], model_id: int, version_id: int,
               received_at: datetime) -> None:
    raw = cursor.cursor  # type: ignore[attr-defined]  # Django's wrapper around the psycopg cursor
    set_json_dumps(orjson.dumps, raw)
    columns = ", ".join(f'"{c}"' for c in COLUMNS)
    with raw.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(list(COLUMN_TYPES))
        for r in rows:
            copy.write_row((
                model_id, version_id, r.record_id, r.timestamp, received_at, r.features,
                r.prediction, r.score, r.latency_ms, r.status, r.attributions,
                r.lineage, r.is_late, r.value_issues,
            ))


def _insert_postgres(rows: Sequence[CleanPrediction], model_id: int, version_id: int,
                     received_at: datetime) -> set[str]:
    table = PredictionLog._meta.db_table
    # Fast path: straight COPY into the table. A concurrent request may have stored some of these ids
    # since we looked; then the unique index refuses the COPY and the slow path below sorts it out.
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _copy_rows(cursor, table, rows, model_id, version_id, received_at)
        return {r.record_id for r in rows}
    except IntegrityError:
        pass
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS _incoming (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP")
        cursor.execute("TRUNCATE _incoming")
        _copy_rows(cursor, "_incoming", rows, model_id, version_id, received_at)
        columns = ", ".join(f'"{c}"' for c in COLUMNS)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _incoming "
            "ON CONFLICT (model_id, record_id) DO NOTHING RETURNING record_id"
        )
        return {row[0] for row in cursor.fetchall()}


def _insert_generic(rows: Sequence[CleanPrediction], model_id: int, version_id: int,
                    received_at: datetime) -> set[str]:
    # SQLite: the caller's transaction holds the write lock (IMMEDIATE), so no other writer got in
    # between the duplicate check and this insert.
    PredictionLog.objects.bulk_create(
        [
            PredictionLog(
                model_id=model_id, version_id=version_id, record_id=r.record_id, timestamp=r.timestamp,
                received_at=received_at, features=r.features, prediction=r.prediction, score=r.score,
                latency_ms=r.latency_ms, status=r.status, attributions=r.attributions, lineage=r.lineage,
                is_late=r.is_late, value_issues=r.value_issues,
            )
            for r in rows
        ],
        batch_size=500,
    )
    return {r.record_id for r in rows}


def insert_predictions(rows: Sequence[CleanPrediction], *, model_id: int, version_id: int,
                       received_at: datetime) -> set[str]:
    """Insert rows whose ids are not stored yet; returns the ids inserted. Call inside a transaction."""
    if not rows:
        return set()
    if connection.vendor == "postgresql":
        return _insert_postgres(rows, model_id, version_id, received_at)
    return _insert_generic(rows, model_id, version_id, received_at)
