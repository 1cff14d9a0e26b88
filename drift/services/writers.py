"""Idempotent bulk writes of prediction rows: psycopg COPY on PostgreSQL, bulk_create elsewhere.

Both return the ids actually inserted, so a record id already stored (or stored by a concurrent request
a moment ago) is counted as a duplicate, never written twice.

On PostgreSQL the predictions table is partitioned by week of prediction time (migration 0007), and a
partitioned table cannot hold a unique index without its partition key. The client's record id is
unique per model in ``drift_predictionkey`` instead: (model_id, record_id) → (prediction_id,
timestamp), written in the same transaction as the row. Ids are drawn from the table's sequence first,
so the keys and the rows go in as two binary COPYs; the keys go first, so a re-sent id fails (or waits
for a concurrent writer) before any row of the batch is written.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from django.db import IntegrityError, connection, transaction
from psycopg.types.string import BytesBinaryDumper

from drift.models import PredictionLog
from drift.validation import CleanPrediction

COLUMNS = (
    "model_id",
    "version_id",
    "record_id",
    "timestamp",
    "received_at",
    "features",
    "prediction",
    "score",
    "latency_ms",
    "status",
    "attributions",
    "lineage",
    "is_late",
    "value_issues",
    "is_drill",
)
COLUMN_TYPES = (
    "int8",
    "int8",
    "varchar",
    "timestamptz",
    "timestamptz",
    "jsonb",
    "jsonb",
    "float8",
    "float8",
    "varchar",
    "jsonb",
    "jsonb",
    "bool",
    "jsonb",
    "bool",
)
# Binary COPY sends each field in its type's binary form, and jsonb's is a version byte followed by the
# JSON text. We build that form ourselves with orjson and declare those fields as bytea, so psycopg
# passes the bytes through in C instead of calling a Python dumper for every value.
JSONB_VERSION = b"\x01"
COPY_TYPES = ("int8", *(("bytea" if t == "jsonb" else t) for t in COLUMN_TYPES))
KEY_TABLE = "drift_predictionkey"
KEY_COLUMNS = ("model_id", "record_id", "prediction_id", "timestamp")
KEY_TYPES = ("int8", "varchar", "int8", "timestamptz")
_sequence: str | None = None  # the id sequence's name, looked up once per process


def stored_predictions(model_id: int, record_ids: Sequence[str]) -> dict[str, int]:
    """Record id → primary key of the ids among `record_ids` already stored for the model."""
    if not record_ids:
        return {}
    if connection.vendor == "postgresql":
        # The ids travel as one JSON text (encoded in C) instead of thousands of bound parameters. As a
        # set-returning function they also make the planner probe the (model, record_id) key once per
        # id; with `= ANY(array)` it estimated thousands of matches and scanned the whole table.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT record_id, prediction_id FROM {KEY_TABLE} WHERE model_id = %s "
                "AND record_id IN (SELECT jsonb_array_elements_text(%s::jsonb))",
                [model_id, orjson.dumps(list(record_ids)).decode()],
            )
            return dict(cursor.fetchall())
    found: dict[str, int] = {}
    # Chunks keep SQLite under its bound-parameter limit.
    for start in range(0, len(record_ids), 5000):
        chunk = record_ids[start : start + 5000]
        found.update(
            PredictionLog.objects.filter(model_id=model_id, record_id__in=chunk).values_list(
                "record_id", "pk"
            )
        )
    return found


def prediction_times(prediction_ids: Sequence[int]) -> tuple[datetime, datetime] | None:
    """(earliest, latest) prediction time of these stored predictions, from the key table, so a query
    by id can name the partitions to read (PostgreSQL); None elsewhere or when none is found."""
    if connection.vendor != "postgresql" or not prediction_ids:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT min("timestamp"), max("timestamp") FROM {KEY_TABLE} '
            "WHERE prediction_id IN (SELECT jsonb_array_elements(%s::jsonb)::bigint)",
            [orjson.dumps(list(prediction_ids)).decode()],
        )
        earliest, latest = cursor.fetchone()
    return (earliest, latest) if earliest is not None else None


def existing_record_ids(model_id: int, record_ids: Sequence[str]) -> set[str]:
    """The ids among `record_ids` already stored for the model."""
    return set(stored_predictions(model_id, record_ids))


def _jsonb(value: Any) -> bytes | None:
    return None if value is None else JSONB_VERSION + orjson.dumps(value)


def _copy_rows(
    cursor: object,
    table: str,
    rows: Sequence[CleanPrediction],
    ids: Sequence[int],
    model_id: int,
    version_id: int,
    received_at: datetime,
    is_drill: bool,
) -> None:
    raw = cursor.cursor  # type: ignore[attr-defined]  # Django's wrapper around the psycopg cursor
    columns = ", ".join(f'"{c}"' for c in ("id", *COLUMNS))
    dumps = orjson.dumps
    # The raw psycopg cursor bypasses Django's error translation; without it a unique violation would
    # surface as psycopg's IntegrityError, which the caller's `except IntegrityError` does not catch.
    statement = f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)"
    # By type oid psycopg would pick its DB-API `Binary` dumper for bytea (Python); this cursor gets C's.
    raw.adapters.register_dumper(bytes, BytesBinaryDumper)
    with connection.wrap_database_errors, raw.copy(statement) as copy:
        copy.set_types(list(COPY_TYPES))
        write = copy.write_row
        for pk, r in zip(ids, rows, strict=True):
            write(
                (
                    pk,
                    model_id,
                    version_id,
                    r.record_id,
                    r.timestamp,
                    received_at,
                    JSONB_VERSION + dumps(r.features),
                    JSONB_VERSION + dumps(r.prediction),
                    r.score,
                    r.latency_ms,
                    r.status,
                    _jsonb(r.attributions),
                    _jsonb(r.lineage),
                    r.is_late,
                    _jsonb(r.value_issues),
                    is_drill,
                )
            )


def _copy_keys(cursor: object, rows: Sequence[CleanPrediction], ids: Sequence[int], model_id: int) -> None:
    raw = cursor.cursor  # type: ignore[attr-defined]
    columns = ", ".join(f'"{c}"' for c in KEY_COLUMNS)
    with (
        connection.wrap_database_errors,
        raw.copy(f"COPY {KEY_TABLE} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(list(KEY_TYPES))
        write = copy.write_row
        for pk, r in zip(ids, rows, strict=True):
            write((model_id, r.record_id, pk, r.timestamp))


def _new_ids(cursor: Any, count: int) -> list[int]:
    """`count` fresh primary keys from the table's identity sequence (unused ones are harmless gaps)."""
    global _sequence
    if _sequence is None:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [PredictionLog._meta.db_table])
        _sequence = cursor.fetchone()[0]
    cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [_sequence, count])
    return [row[0] for row in cursor.fetchall()]


def _insert_postgres(
    rows: Sequence[CleanPrediction], model_id: int, version_id: int, received_at: datetime, is_drill: bool
) -> set[str]:
    table = PredictionLog._meta.db_table
    with connection.cursor() as cursor:
        ids = _new_ids(cursor, len(rows))
    # Fast path: the keys, then the rows, each one COPY. A concurrent request may have stored some of
    # these ids since we looked; then the key's primary key refuses the COPY (after waiting for that
    # request to commit) and the slow path below sorts it out.
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _copy_keys(cursor, rows, ids, model_id)
            _copy_rows(cursor, table, rows, ids, model_id, version_id, received_at, is_drill)
        return {r.record_id for r in rows}
    except IntegrityError:
        pass
    with connection.cursor() as cursor:
        columns = ", ".join(f'"{c}"' for c in ("id", *COLUMNS))
        # A plain table of the copied columns, without constraints: the keys decide what goes in.
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS _incoming ON COMMIT DROP "
            f"AS SELECT {columns} FROM {table} WITH NO DATA"
        )
        cursor.execute("TRUNCATE _incoming")
        _copy_rows(cursor, "_incoming", rows, ids, model_id, version_id, received_at, is_drill)
        # The keys that are still free decide which rows go in. In the order the COPY uses (Python's
        # sort is code-point order, which is "C" collation order), so concurrent batches take the key
        # locks in the same order and wait instead of deadlocking.
        cursor.execute(
            f'WITH won AS (INSERT INTO {KEY_TABLE} (model_id, record_id, prediction_id, "timestamp") '
            f'SELECT model_id, record_id, id, "timestamp" FROM _incoming ORDER BY record_id COLLATE "C" '
            "ON CONFLICT (model_id, record_id) DO NOTHING RETURNING prediction_id) "
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _incoming "
            "WHERE id IN (SELECT prediction_id FROM won) RETURNING record_id"
        )
        return {row[0] for row in cursor.fetchall()}


def _insert_generic(
    rows: Sequence[CleanPrediction], model_id: int, version_id: int, received_at: datetime, is_drill: bool
) -> set[str]:
    # SQLite: the caller's transaction holds the write lock (IMMEDIATE), so no other writer got in
    # between the duplicate check and this insert.
    PredictionLog.objects.bulk_create(
        [
            PredictionLog(
                model_id=model_id,
                version_id=version_id,
                record_id=r.record_id,
                timestamp=r.timestamp,
                received_at=received_at,
                features=r.features,
                prediction=r.prediction,
                score=r.score,
                latency_ms=r.latency_ms,
                status=r.status,
                attributions=r.attributions,
                lineage=r.lineage,
                is_late=r.is_late,
                value_issues=r.value_issues,
                is_drill=is_drill,
            )
            for r in rows
        ],
        batch_size=500,
    )
    return {r.record_id for r in rows}


def insert_predictions(
    rows: Sequence[CleanPrediction],
    *,
    model_id: int,
    version_id: int,
    received_at: datetime,
    is_drill: bool = False,
) -> set[str]:
    """Insert rows whose ids are not stored yet; returns the ids inserted. Call inside a transaction.
    `is_drill` marks a governance drill's synthetic rows."""
    if not rows:
        return set()
    if connection.vendor == "postgresql":
        return _insert_postgres(rows, model_id, version_id, received_at, is_drill)
    return _insert_generic(rows, model_id, version_id, received_at, is_drill)
