"""PostgreSQL: the predictions table becomes partitioned by week of prediction time. SQLite: nothing changes.

What changes on PostgreSQL, and why (the README's "Partitioning and retention" has the operator's view):

- ``drift_predictionlog`` is ``PARTITION BY RANGE ("timestamp")``, one partition per UTC week
  (``drift_predictionlog_w<Monday>``) plus ``drift_predictionlog_default`` for rows outside every
  week with a partition, so ingestion never fails for lack of one. Existing rows are copied into
  partitions of the weeks they fall in (weeks older than two years into the default partition).
- A unique index on a partitioned table must contain the partition key, so ``(model_id, record_id)``
  cannot be unique there any more. Uniqueness moves to ``drift_predictionkey`` (model_id, record_id
  → prediction_id, timestamp), an ordinary table written in the same transaction as the row
  (``drift.services.writers``): a re-sent record id is refused by its primary key whatever the
  record's timestamp, also between concurrent requests. The primary key becomes (id, timestamp).
- A foreign key to a partitioned table must name a unique key holding the partition key, so the
  foreign keys that pointed at ``drift_predictionlog(id)`` (outcomes, annotations) now point at
  ``drift_predictionkey(prediction_id)``, which is unique and holds one row per stored prediction.
- Triggers keep the key table in step: a DELETE or TRUNCATE through ``drift_predictionlog`` removes
  the keys of the rows it removed, an UPDATE carries a changed model, record id or time over (a
  re-used record id fails the UPDATE, as the unique constraint did). Dropping
  a partition fires no trigger; retention (``drift.services.retention``) removes those keys itself.
- The single-column indexes Django made for the two foreign-key columns are not re-created: the
  (model_id, timestamp) and (version_id, timestamp) indexes serve every query they served.

Django's model state is unchanged (``id`` stays the model's primary key, the ``(model, record_id)``
constraint stays declared, and is real on SQLite). Consequences for later migrations on PostgreSQL: a
new unique constraint on predictions must include ``timestamp``, and a new foreign key to
``PredictionLog`` needs ``db_constraint=False`` plus a constraint to ``drift_predictionkey`` in RunSQL.
"""

from datetime import UTC, datetime, timedelta

from django.db import migrations

TABLE = "drift_predictionlog"
OLD = "drift_predictionlog_unpartitioned"
NEW = "drift_predictionlog_partitioned"
KEYS = "drift_predictionkey"
AHEAD_WEEKS = 8
# Weeks further back than this with data go to the default partition instead of a partition each.
BACK_WEEKS = 104

KEY_TABLE = f"""
CREATE TABLE {KEYS} (
    model_id bigint NOT NULL,
    record_id varchar(200) NOT NULL,
    prediction_id bigint NOT NULL,
    "timestamp" timestamp with time zone NOT NULL,
    CONSTRAINT {KEYS}_pkey PRIMARY KEY (model_id, record_id),
    CONSTRAINT {KEYS}_prediction_id_key UNIQUE (prediction_id)
)
"""
TRIGGERS = f"""
CREATE FUNCTION drift_predictionkey_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {KEYS} k USING gone WHERE k.prediction_id = gone.id;
    RETURN NULL;
END $$;
CREATE TRIGGER drift_predictionlog_forget_keys AFTER DELETE ON {TABLE}
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION drift_predictionkey_forget();

CREATE FUNCTION drift_predictionkey_forget_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {KEYS};
    RETURN NULL;
END $$;
CREATE TRIGGER drift_predictionlog_truncate_keys AFTER TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION drift_predictionkey_forget_all();

CREATE FUNCTION drift_predictionkey_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {KEYS} k SET model_id = n.model_id, record_id = n.record_id, "timestamp" = n."timestamp"
    FROM changed n
    WHERE k.prediction_id = n.id
        AND (k.model_id, k.record_id, k."timestamp") IS DISTINCT FROM (n.model_id, n.record_id, n."timestamp");
    RETURN NULL;
END $$;
-- Per statement: an UPDATE that moves a row to another partition fires no row-level UPDATE trigger.
CREATE TRIGGER drift_predictionlog_follow_keys AFTER UPDATE ON {TABLE}
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION drift_predictionkey_follow();
"""
DROP_TRIGGERS = f"""
DROP TRIGGER IF EXISTS drift_predictionlog_forget_keys ON {TABLE};
DROP TRIGGER IF EXISTS drift_predictionlog_truncate_keys ON {TABLE};
DROP TRIGGER IF EXISTS drift_predictionlog_follow_keys ON {TABLE};
DROP FUNCTION IF EXISTS drift_predictionkey_forget();
DROP FUNCTION IF EXISTS drift_predictionkey_forget_all();
DROP FUNCTION IF EXISTS drift_predictionkey_follow();
"""


def _week(when: datetime) -> datetime:
    day = when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _referencing(cursor, table: str) -> list[tuple[str, str, str]]:
    """(table, column, constraint) of the single-column foreign keys that point at `table`."""
    cursor.execute(
        "SELECT con.conrelid::regclass::text, att.attname, con.conname FROM pg_constraint con "
        "JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = con.conkey[1] "
        "WHERE con.contype = 'f' AND con.confrelid = %s::regclass ORDER BY 1",
        [table],
    )
    return cursor.fetchall()


def _outgoing(cursor, table: str) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = %s::regclass ORDER BY 1",
        [table],
    )
    return cursor.fetchall()


def partition(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        referencing = _referencing(cursor, TABLE)
        outgoing = _outgoing(cursor, TABLE)
        for table, _column, name in referencing:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
        cursor.execute(f"ALTER SEQUENCE {TABLE}_id_seq RENAME TO {OLD}_id_seq")
        # LIKE keeps every column exactly as earlier migrations made it, identity included.
        cursor.execute(
            f"CREATE TABLE {NEW} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING STORAGE) "
            'PARTITION BY RANGE ("timestamp")'
        )
        cursor.execute(f"SELECT pg_get_serial_sequence('{NEW}', 'id')")
        (sequence,) = cursor.fetchone()
        cursor.execute(f"SELECT setval('{sequence}', last_value, is_called) FROM {OLD}_id_seq")

        now = datetime.now(UTC)
        cursor.execute(
            f"SELECT DISTINCT date_trunc('week', \"timestamp\" AT TIME ZONE 'UTC') FROM {OLD} "
            'WHERE "timestamp" >= %s',
            [_week(now) - timedelta(weeks=BACK_WEEKS)],
        )
        weeks = {row[0].replace(tzinfo=UTC) for row in cursor.fetchall()}
        weeks |= {_week(now) + timedelta(weeks=k) for k in range(AHEAD_WEEKS + 1)}
        for start in sorted(weeks):
            cursor.execute(
                f"CREATE TABLE {TABLE}_w{start:%Y%m%d} PARTITION OF {NEW} FOR VALUES FROM (%s) TO (%s)",
                [start, start + timedelta(weeks=1)],
            )
        cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {NEW} DEFAULT")
        cursor.execute(f"INSERT INTO {NEW} SELECT * FROM {OLD}")

        cursor.execute(KEY_TABLE)
        cursor.execute(f'INSERT INTO {KEYS} SELECT model_id, record_id, id, "timestamp" FROM {OLD}')
        cursor.execute(f"DROP TABLE {OLD}")
        cursor.execute(f"ALTER TABLE {NEW} RENAME TO {TABLE}")
        cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {TABLE}_id_seq")
        # Built after the copy: one sorted build per partition instead of row-by-row inserts.
        cursor.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, "timestamp")')
        cursor.execute(f'CREATE INDEX pred_version_ts ON {TABLE} (version_id, "timestamp")')
        cursor.execute(f'CREATE INDEX pred_model_ts ON {TABLE} (model_id, "timestamp")')
        for name, definition in outgoing:
            cursor.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')
        for table, column, name in referencing:
            cursor.execute(
                f'ALTER TABLE {table} ADD CONSTRAINT "{name}" FOREIGN KEY ({column}) '
                f"REFERENCES {KEYS} (prediction_id) DEFERRABLE INITIALLY DEFERRED"
            )
        cursor.execute(TRIGGERS)


def unpartition(apps, schema_editor) -> None:
    """Back to one plain table with the (model_id, record_id) unique constraint."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        referencing = _referencing(cursor, KEYS)
        outgoing = _outgoing(cursor, TABLE)
        for table, _column, name in referencing:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cursor.execute(DROP_TRIGGERS)
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {NEW}")
        cursor.execute(f"ALTER SEQUENCE {TABLE}_id_seq RENAME TO {NEW}_id_seq")
        cursor.execute(f"CREATE TABLE {TABLE} (LIKE {NEW} INCLUDING DEFAULTS INCLUDING IDENTITY)")
        cursor.execute(f"SELECT pg_get_serial_sequence('{TABLE}', 'id')")
        (sequence,) = cursor.fetchone()
        cursor.execute(f"SELECT setval('{sequence}', last_value, is_called) FROM {NEW}_id_seq")
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {NEW}")
        cursor.execute(f"DROP TABLE {NEW}")
        cursor.execute(f"DROP TABLE {KEYS}")
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id)")
        cursor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT uniq_prediction_record_per_model "
            "UNIQUE (model_id, record_id)"
        )
        cursor.execute(f'CREATE INDEX pred_version_ts ON {TABLE} (version_id, "timestamp")')
        cursor.execute(f'CREATE INDEX pred_model_ts ON {TABLE} (model_id, "timestamp")')
        for column in ("model_id", "version_id"):
            cursor.execute(f"CREATE INDEX {TABLE}_{column} ON {TABLE} ({column})")
        for name, definition in outgoing:
            cursor.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')
        for table, column, name in referencing:
            cursor.execute(
                f'ALTER TABLE {table} ADD CONSTRAINT "{name}" FOREIGN KEY ({column}) '
                f"REFERENCES {TABLE} (id) DEFERRABLE INITIALLY DEFERRED"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("drift", "0006_drill_flags"),
        # Its foreign key to predictions must exist before this migration re-points it.
        ("governance", "0007_annotations"),
    ]

    operations = [migrations.RunPython(partition, unpartition, elidable=False)]
