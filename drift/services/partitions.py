"""Weekly partitions of the predictions table on PostgreSQL, created ahead of time (see migration 0007).

`partitions_ensure` runs at every `migrate` (post_migrate) and daily from beat; it creates the partitions
of the current week and the next DRIFTWATCH["PARTITIONS_AHEAD_WEEKS"] weeks. Rows whose week has no
partition land in the default partition, so ingestion never fails for lack of one; when a partition is
created for a week the default partition already holds rows of, those rows move into it.

On SQLite (or a PostgreSQL table that is not partitioned) every function here does nothing.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from drift.partitioning import (
    DEFAULT_PARTITION,
    PARENT,
    PERIOD,
    partition_name,
    partition_start,
    weeks_ahead,
)

log = logging.getLogger("driftwatch.partitions")
# One creator at a time (beat, a deploy's migrate and a manual run may overlap). Any constant will do.
ADVISORY_LOCK = 7_146_291
# DDL on the table waits behind long readers, and new writers queue behind it: wait briefly, pause,
# try again a few times, then leave it to the next daily run (weeks are created well ahead).
LOCK_TIMEOUT = "3s"
LOCK_ATTEMPTS = 3
LOCK_NOT_AVAILABLE = "55P03"


T = TypeVar("T")


def with_lock_retries(work: Callable[[], T], what: str) -> T:
    """Run `work` (one transaction that sets LOCK_TIMEOUT); when it gives up waiting for a lock, pause
    and run it again, LOCK_ATTEMPTS times in all."""
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            return work()
        except OperationalError as exc:
            if attempt == LOCK_ATTEMPTS or getattr(exc.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            log.warning("%s: the predictions table is busy, trying again (attempt %d)", what, attempt)
            time.sleep(2 * attempt)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime
    end: datetime


def is_partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [PARENT])
        found = cursor.fetchone()
    return bool(found) and found[0] == "p"


def prediction_partitions() -> list[Partition]:
    """The weekly partitions attached to the predictions table, oldest first (not the default one)."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [PARENT],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = sorted((start, name) for name in names if (start := partition_start(name)) is not None)
    return [Partition(name, start, start + PERIOD) for start, name in found]


def _create(cursor: object, start: datetime) -> None:
    """Create and attach the partition of the week from `start`, moving in rows the default partition
    holds for that week. ATTACH takes a weaker lock on the parent than CREATE ... PARTITION OF."""
    name, end = partition_name(start), start + PERIOD
    execute = cursor.execute  # type: ignore[attr-defined]
    execute(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING STORAGE)")
    execute(
        f'WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE "timestamp" >= %s AND "timestamp" < %s '
        f"RETURNING *) INSERT INTO {name} SELECT * FROM moved",
        [start, end],
    )
    moved = cursor.rowcount  # type: ignore[attr-defined]
    execute(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", [start, end])
    log.info(
        "created prediction partition %s",
        name,
        extra={"partition": name, "start": start.isoformat(), "moved_from_default": moved},
    )


def partitions_ensure(*, now: datetime | None = None, ahead: int | None = None) -> list[str]:
    """Create the missing partitions of this week and the `ahead` next ones; returns the names created."""
    if not is_partitioned():
        return []
    now = now or timezone.now()
    ahead = settings.DRIFTWATCH["PARTITIONS_AHEAD_WEEKS"] if ahead is None else ahead

    def create_missing() -> list[str]:
        created = []
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            existing = {p.start for p in prediction_partitions()}
            for start in weeks_ahead(now, ahead):
                if start not in existing:
                    _create(cursor, start)
                    created.append(partition_name(start))
            # SET LOCAL would outlive this block when a caller's transaction encloses it.
            cursor.execute("SET LOCAL lock_timeout = DEFAULT")
        return created

    return with_lock_retries(create_missing, "creating prediction partitions")
