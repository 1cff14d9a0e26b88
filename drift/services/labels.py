"""Label fragments: written when outcomes arrive, merged by analyses (`drift.engine.label_sketch`).

`labels_record` is called by outcome ingestion, in the transaction that stores the outcomes, with the
outcomes it inserted; `labels_rebuild` recomputes a version's fragments from its stored outcomes.
"""

import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from drift.engine.label_sketch import FRAGMENT_RESERVOIR, sketch_labels
from drift.models import FeatureSpec, LabelFragment, ModelVersion, MonitoredModel, Outcome, PredictionLog
from drift.services.retention import raw_data_horizon
from drift.services.writers import prediction_times

ID_CHUNK = 5_000  # ids per query: under SQLite's bound-parameter limit
REBUILD_CHUNK = 5_000

# (prediction timestamp, stored features, prediction, score, label) of one labelled prediction.
LabelledRow = tuple[datetime, dict[str, Any], Any, float | None, Any]


def kept_features(version_id: int) -> list[str]:
    """Features worth keeping per labelled row: not dropped, not hashed (hashes are identifiers here)."""
    return list(
        FeatureSpec.objects.filter(version_id=version_id)
        .exclude(pii__in=("drop", "hash"))
        .order_by("position")
        .values_list("name", flat=True)
    )


def build_label_fragments(
    version_id: int, task: str, names: Sequence[str], rows: Iterable[LabelledRow], *, is_drill: bool = False
) -> list[LabelFragment]:
    """One unsaved fragment per prediction hour the rows fall in."""
    by_hour: dict[datetime, list[LabelledRow]] = {}
    for row in rows:
        by_hour.setdefault(row[0].replace(minute=0, second=0, microsecond=0), []).append(row)
    fragments = []
    for hour, group in by_hour.items():
        sketch = sketch_labels(
            task=task,
            timestamps=[r[0].timestamp() for r in group],
            predictions=[r[2] for r in group],
            labels=[r[4] for r in group],
            scores=[r[3] for r in group],
            features={name: [r[1].get(name) for r in group] for name in names},
            reservoir_size=FRAGMENT_RESERVOIR,
            seed=zlib.crc32(f"{version_id}:{hour.isoformat()}:{len(group)}".encode()),
        )
        fragments.append(
            LabelFragment(version_id=version_id, hour=hour, rows=len(group), sketch=sketch, is_drill=is_drill)
        )
    return fragments


def labels_record(*, model: MonitoredModel, outcomes: Sequence[Outcome]) -> int:
    """Add the label fragments of freshly inserted outcomes; call inside the transaction that stores them.

    Pass only the outcomes this batch inserted (an outcome labels its prediction once, so each
    prediction is counted once). Returns the number of fragments written.
    """
    label_of = {o.prediction_id: o.label for o in outcomes}
    if not label_of:
        return 0
    ids = list(label_of)
    # Per version, and drill predictions apart from real ones.
    by_version: dict[tuple[int, bool], list[LabelledRow]] = {}
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        stored = PredictionLog.objects.filter(pk__in=chunk)
        times = prediction_times(chunk)
        if times:  # PostgreSQL: read only the partitions of these predictions' weeks
            stored = stored.filter(timestamp__range=times)
        stored = stored.values_list(
            "pk", "version_id", "is_drill", "timestamp", "features", "prediction", "score"
        )
        for pk, version_id, is_drill, ts, features, prediction, score in stored:
            by_version.setdefault((version_id, is_drill), []).append(
                (ts, features or {}, prediction, score, label_of[pk])
            )
    fragments = []
    for (version_id, is_drill), rows in by_version.items():
        names = kept_features(version_id)
        fragments += build_label_fragments(version_id, model.task, names, rows, is_drill=is_drill)
    LabelFragment.objects.bulk_create(fragments, batch_size=500)
    return len(fragments)


@transaction.atomic
def labels_rebuild(*, version: ModelVersion) -> int:
    """Recompute every label fragment of a version from its stored outcomes (backfill, repair). Hours
    before the retention horizon keep their fragments: their predictions and outcomes are gone."""
    ModelVersion.objects.select_for_update().filter(pk=version.pk).first()
    since = raw_data_horizon()
    replaced = LabelFragment.objects.filter(version=version)
    outcomes = Outcome.objects.filter(prediction__version=version)
    if since is not None:
        replaced = replaced.filter(hour__gte=since)
        outcomes = outcomes.filter(prediction__timestamp__gte=since)
    replaced.delete()
    names = kept_features(version.pk)
    task = version.model.task
    written = 0
    for is_drill in (False, True):  # drill labels keep fragments of their own
        rows = (
            outcomes.filter(prediction__is_drill=is_drill)
            .order_by("prediction__timestamp", "prediction_id")
            .values_list(
                "prediction__timestamp",
                "prediction__features",
                "prediction__prediction",
                "prediction__score",
                "label",
            )
        )
        chunk: list[LabelledRow] = []
        for row in rows.iterator(chunk_size=REBUILD_CHUNK):
            chunk.append((row[0], row[1] or {}, row[2], row[3], row[4]))
            if len(chunk) >= REBUILD_CHUNK:
                written += _store_label_fragments(version.pk, task, names, chunk, is_drill)
                chunk = []
        if chunk:
            written += _store_label_fragments(version.pk, task, names, chunk, is_drill)
    return written


def _store_label_fragments(
    version_id: int, task: str, names: Sequence[str], chunk: list[LabelledRow], is_drill: bool
) -> int:
    fragments = build_label_fragments(version_id, task, names, chunk, is_drill=is_drill)
    return len(LabelFragment.objects.bulk_create(fragments))
