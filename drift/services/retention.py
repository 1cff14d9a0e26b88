"""Retention of raw predictions: rows older than N days go; profiles, labels' fragments and results stay.

What goes: raw predictions (`PredictionLog`) older than the cut-off and their outcomes. An outcome is
the raw label of one prediction; what analyses need of it is already in the label fragments written
when it arrived, and without its prediction it could not be rebuilt into anything. Rows that point at a
pruned prediction with SET_NULL (a flagged prediction's annotation) keep their record id and lose the
row link. An outcome sent later for a pruned prediction is refused like any unknown id, so keep raw
data longer than labels take to arrive.

What stays: profile and label fragments, reference data, analysis runs and results, drift events,
ingestion tallies, the audit log.

How: on PostgreSQL (weekly partitions, migration 0007) every partition whose whole week is older than
the cut-off is detached and dropped, after its outcomes, row links and record-id keys are removed, each
partition in one transaction with its audit entry. Rows of the default partition older than the cut-off
(and every old row on SQLite) are deleted in bounded batches, one transaction each, the first of which
writes the run's audit entry with the counts it sets out to delete. Cut-off: whole weeks with
partitions, whole UTC days without (`drift.partitioning.prune_cutoff`).

Audit entries ("raw_data.prune") carry `pruned_before`; `raw_data_horizon` reads the latest, so the
rebuilds (`profiles_rebuild`, `labels_rebuild`) leave the fragments of pruned hours alone.
"""

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from drift.models import PredictionLog
from drift.partitioning import PARENT, prune_cutoff
from drift.services.partitions import (
    LOCK_TIMEOUT,
    Partition,
    is_partitioned,
    prediction_partitions,
    with_lock_retries,
)
from drift.validation import parse_timestamp

log = logging.getLogger("driftwatch.retention")
ACTION = "raw_data.prune"
BATCH = 5_000
KEY_TABLE = "drift_predictionkey"


@dataclass
class PruneReport:
    cutoff: datetime
    dry_run: bool
    partitions: list[str] = field(default_factory=list)
    predictions: int = 0
    # Per dependent table: rows deleted with their predictions (outcomes) or unlinked from them.
    dependents: dict[str, int] = field(default_factory=dict)

    def add(self, counts: dict[str, int]) -> None:
        for label, n in counts.items():
            self.dependents[label] = self.dependents.get(label, 0) + n

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "cutoff": self.cutoff.isoformat()}


def _dependents() -> list[tuple[type[models.Model], str, Callable[..., Any]]]:
    """(model, field, on_delete) of every foreign key to predictions (outcomes, annotations...)."""
    return [
        (rel.related_model, rel.field.name, rel.on_delete)  # type: ignore[misc]
        for rel in PredictionLog._meta.related_objects
    ]


def _dependents_of(predictions: dict[str, Any], *, apply: bool) -> dict[str, int]:
    """Count (and with `apply`, delete or unlink) the rows that point at the predictions matching the
    lookups `predictions` (e.g. {"timestamp__lt": t}). By time they go through the parent table, so
    PostgreSQL reads only the partitions of that range."""
    counts = {}
    for model, name, on_delete in _dependents():
        qs = model._base_manager.filter(**{f"{name}__{lookup}": v for lookup, v in predictions.items()})
        label = model._meta.label
        if not apply:
            counts[label] = qs.count()
        elif on_delete is models.CASCADE:
            counts[label] = qs.delete()[0]
        elif on_delete is models.SET_NULL:
            counts[label] = qs.update(**{name: None})
        elif on_delete is not models.DO_NOTHING:
            raise RuntimeError(f"{label}.{name}: retention handles CASCADE and SET_NULL only")
    return counts


def _audit(actor: Any, pruned_before: datetime, after: dict[str, Any]) -> None:
    from governance.services.audit import audit_record

    audit_record(
        actor=actor,
        action=ACTION,
        obj=PredictionLog._meta.model_name,
        model=None,
        after={"pruned_before": pruned_before.isoformat(), **after},
        reason=f"raw data retention: predictions before {pruned_before:%Y-%m-%d %H:%M} UTC",
    )


def _rows_in(partition: Partition) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {partition.name}")
        return int(cursor.fetchone()[0])


def _drop_partition(partition: Partition, report: PruneReport, actor: Any) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        rows = _rows_in(partition)
        within = {"timestamp__gte": partition.start, "timestamp__lt": partition.end}
        dependents = _dependents_of(within, apply=True)
        # Dropping a partition fires no DELETE trigger: its record-id keys go here.
        cursor.execute(f"DELETE FROM {KEY_TABLE} k USING {partition.name} p WHERE k.prediction_id = p.id")
        cursor.execute(f"ALTER TABLE {PARENT} DETACH PARTITION {partition.name}")
        cursor.execute(f"DROP TABLE {partition.name}")
        cursor.execute("SET LOCAL lock_timeout = DEFAULT")
        _audit(
            actor,
            partition.end,
            {
                "partition": partition.name,
                "from": partition.start.isoformat(),
                "to": partition.end.isoformat(),
                "predictions": rows,
                "dependents": dependents,
            },
        )
    report.partitions.append(partition.name)
    report.predictions += rows
    report.add(dependents)


def _delete_in_batches(report: PruneReport, actor: Any) -> None:
    old = PredictionLog.objects.filter(timestamp__lt=report.cutoff)
    first = True
    while True:
        with transaction.atomic():
            ids = list(old.values_list("pk", flat=True)[:BATCH])
            if not ids:
                return
            if first:
                planned = _dependents_of({"timestamp__lt": report.cutoff}, apply=False)
                _audit(
                    actor, report.cutoff, {"predictions": old.count(), "dependents": planned, "batched": True}
                )
                first = False
            report.add(_dependents_of({"pk__in": ids}, apply=True))
            deleted, _ = PredictionLog.objects.filter(pk__in=ids).only("pk").delete()
        report.predictions += deleted


def raw_data_prune(
    *, days: int, now: datetime | None = None, dry_run: bool = False, actor: Any = None
) -> PruneReport:
    """Remove raw predictions older than `days` days (see the module docstring for what goes and
    stays). `dry_run` counts what would go and changes nothing."""
    from governance.services.audit import Actor

    if days < 1:
        raise ValueError("retention must keep at least one day of raw data")
    actor = actor or Actor.system("raw_data_prune")
    partitioned = is_partitioned()
    report = PruneReport(prune_cutoff(now or timezone.now(), days, whole_weeks=partitioned), dry_run)
    expired = [p for p in prediction_partitions() if p.end <= report.cutoff] if partitioned else []
    if dry_run:
        older = PredictionLog.objects.filter(timestamp__lt=report.cutoff).count()
        report.partitions = [p.name for p in expired]
        report.predictions = older
        report.add(_dependents_of({"timestamp__lt": report.cutoff}, apply=False))
        return report
    for partition in expired:
        with_lock_retries(lambda p=partition: _drop_partition(p, report, actor), f"dropping {partition.name}")
    _delete_in_batches(report, actor)
    log.info(
        "pruned %d raw predictions before %s (%d partitions dropped)",
        report.predictions,
        report.cutoff.isoformat(),
        len(report.partitions),
        extra={"retention": report.as_dict()},
    )
    return report


def raw_data_horizon() -> datetime | None:
    """Raw predictions before this instant were pruned (None: never). Fragments of earlier hours have
    no rows left to be rebuilt from."""
    from governance.models import AuditEntry

    cutoffs = AuditEntry.objects.filter(action=ACTION).values_list("after__pruned_before", flat=True)
    parsed = [parse_timestamp(c) for c in cutoffs if isinstance(c, str)]
    return max((p for p in parsed if p is not None), default=None)
