"""Merging a window's fragments, and compacting each complete hour's fragments into one.

Ingestion writes one fragment per batch and hour, so an hour fed by many small batches holds many
fragments, and merging a window costs a little per fragment (mostly decoding its JSON). Compaction
replaces a complete hour's fragments with their merge, under the version's lock (as a profile rebuild
takes it) and deleting exactly the fragments it read, so a batch landing meanwhile keeps its own
fragment. The dispatcher compacts in the background; an analysis compacts its window's hours first.
"""

import json
import zlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import orjson
from django.db import transaction
from django.db.models import Count, Model, QuerySet, TextField
from django.db.models.functions import Cast

from drift.engine.label_sketch import merge_label_sketches
from drift.engine.sample import SampleBuilder, allocate
from drift.models import LabelFragment, ModelVersion, ProfileFragment
from drift.profiles import merge_sketches

MERGE_GROUP = 64  # fragments decoded at a time: bounds memory whatever the window
# Rows a compacted hour keeps: a day of compacted hours still offers 24k rows to a 5k-row sample.
COMPACT_RESERVOIR = 1_000
Merge = Callable[..., dict[str, Any]]


def merge_fragments(
    fragments: QuerySet[Any], merge: Merge, size: int, seed: int
) -> tuple[dict[str, Any] | None, list[int]]:
    """(merged sketch with a uniform `size`-row sample, ids of the fragments merged)."""
    listed = list(fragments.order_by("id").values_list("id", "rows"))
    if not listed:
        return None, []
    rng = np.random.default_rng(seed)
    want = dict(zip([pk for pk, _ in listed], allocate([r for _, r in listed], size, rng), strict=True))
    sample = SampleBuilder(seen=sum(r for _, r in listed))
    merged: dict[str, Any] | None = None
    group: list[dict[str, Any]] = []
    # The sketches as JSON text, decoded by orjson: a day's compacted fragments are megabytes of JSON
    # (their reservoirs grow with the window's rows until full), several times faster than `json`.
    text = Cast("sketch", output_field=TextField())
    stream = fragments.filter(id__lte=listed[-1][0]).order_by("id").values_list("id", text)
    for pk, raw in stream.iterator(chunk_size=MERGE_GROUP):
        if pk not in want:  # committed after the listing: left for the next merge
            continue
        sketch = decode_json(raw)
        sample.add(sketch.pop("reservoir", None), want[pk], rng)
        group.append(sketch)
        if len(group) >= MERGE_GROUP:
            merged = merge(([merged] if merged else []) + group, reservoir_size=size, seed=seed)
            group = []
    if group or merged is None:
        merged = merge(([merged] if merged else []) + group, reservoir_size=size, seed=seed)
    merged["reservoir"] = sample.reservoir()
    return merged, list(want)


def decode_json(raw: str) -> dict[str, Any]:
    """A JSON column read as text (`Cast(field, TextField())`), decoded by orjson: several times faster
    than the `json` module Django's JSONField uses, for sketches that are megabytes of JSON."""
    try:
        return orjson.loads(raw)  # type: ignore[no-any-return]
    except orjson.JSONDecodeError:  # a number beyond a double's range (jsonb keeps it): json reads inf
        return json.loads(raw)  # type: ignore[no-any-return]


class _Moved(Exception):
    """The fragments changed under us (a rebuild won the race): leave the hour as it is."""


@transaction.atomic
def _compact_hour(model: type[Model], merge: Merge, version: ModelVersion, key: dict[str, Any]) -> int:
    ModelVersion.objects.select_for_update().filter(pk=version.pk).first()
    fragments = model.objects.filter(version=version, **key)  # type: ignore[attr-defined]
    seed = zlib.crc32(f"compact:{version.pk}:{key['hour'].isoformat()}".encode())
    merged, ids = merge_fragments(fragments, merge, COMPACT_RESERVOIR, seed)
    if merged is None or len(ids) < 2:
        return 0
    if model.objects.filter(id__in=ids).delete()[0] != len(ids):  # type: ignore[attr-defined]
        raise _Moved
    model.objects.create(version=version, rows=merged["reservoir"]["seen"], sketch=merged, **key)  # type: ignore[attr-defined]
    return len(ids) - 1


def fragments_compact(*, version: ModelVersion, start: datetime, end: datetime) -> int:
    """Compact every hour in [start, end) that holds several fragments; returns fragments removed.

    Pass only complete hours (`end` at least one hour plus a grace period in the past).
    """
    removed = 0
    kinds: tuple[tuple[type[Model], Merge, tuple[str, ...]], ...] = (
        # Drill fragments are compacted among themselves, never into real ones.
        (ProfileFragment, merge_sketches, ("hour", "spec_digest", "is_drill")),
        (LabelFragment, merge_label_sketches, ("hour", "is_drill")),
    )
    for model, merge, fields in kinds:
        crowded = (
            model.objects.filter(version=version, hour__gte=start, hour__lt=end)  # type: ignore[attr-defined]
            .values(*fields)
            .annotate(fragments=Count("id"))
            .filter(fragments__gt=1)
        )
        for group in crowded:
            key = {name: group[name] for name in fields}
            try:
                removed += _compact_hour(model, merge, version, key)
            except _Moved:
                continue
    return removed
