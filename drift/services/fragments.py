"""Merging a window's fragments, and compacting each complete hour's fragments into one.

Ingestion writes one fragment per batch and hour, so an hour fed by many small batches holds many
fragments, and merging a window costs a little per fragment (mostly decoding its JSON). Compaction
replaces a complete hour's fragments with their merge, under the version's lock (as a profile rebuild
takes it) and deleting exactly the fragments it read, so a batch landing meanwhile keeps its own
fragment. The dispatcher compacts in the background; an analysis compacts its window's hours first.

A compacted hour's sample is stored in two parts: `reservoir` holds a uniform subset of `HEAD_ROWS`
rows (standing for all the hour's rows) and `reservoir_more` the rest. A window that needs no more rows
from an hour than the head holds (a day's window needs ~5,000 / 24) reads the fragment without
`reservoir_more`, so PostgreSQL renders and Python decodes a fraction of the JSON; an hourly window
reads both parts. Fragments without the split (ingested, or compacted before it) read whole either way.
"""

import json
import zlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import orjson
from django.db import transaction
from django.db.models import Case, Count, F, Func, Model, QuerySet, TextField, When
from django.db.models.functions import Cast

from drift.engine.label_sketch import merge_label_sketches
from drift.engine.sample import SampleBuilder, allocate
from drift.models import LabelFragment, ModelVersion, ProfileFragment
from drift.profiles import merge_sketches

MERGE_GROUP = 64  # fragments decoded at a time: bounds memory whatever the window
# Rows a compacted hour keeps: a day of compacted hours still offers 24k rows to a 5k-row sample.
COMPACT_RESERVOIR = 1_000
# Rows of a compacted hour's sample in its head: a day's window of evenly spread traffic draws ~210 per
# hour, so 400 covers hours twice as busy as the day's average; busier ones read the whole sample.
HEAD_ROWS = 400
MORE = "reservoir_more"
Merge = Callable[..., dict[str, Any]]


class _TextWithout(Func):
    """A JSON column as text without one top-level key: `jsonb - key` on PostgreSQL, `json_remove` on
    SQLite; other databases send it whole (the reader drops the key after decoding)."""

    output_field = TextField()

    def __init__(self, field: str, key: str) -> None:
        super().__init__(F(field))
        self.key = key

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return compiler.compile(self.get_source_expressions()[0])  # type: ignore[no-any-return]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"(({sql}) - %s)::text", [*params, self.key]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"json_remove({sql}, %s)", [*params, f'$."{self.key}"']


def _split_head(reservoir: dict[str, Any], rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
    """(head: a uniform subset of `HEAD_ROWS` rows standing for every row seen, the other rows)."""
    rows = reservoir.get("rows") or {}
    held = len(next(iter(rows.values()), []))
    if held <= HEAD_ROWS:
        return reservoir, {}
    order = rng.permutation(held)
    head, more = np.sort(order[:HEAD_ROWS]).tolist(), np.sort(order[HEAD_ROWS:]).tolist()
    return (
        {"seen": reservoir["seen"], "rows": {name: [col[i] for i in head] for name, col in rows.items()}},
        {"rows": {name: [col[i] for i in more] for name, col in rows.items()}},
    )


def _whole_reservoir(sketch: dict[str, Any]) -> dict[str, Any] | None:
    """The fragment's sample: its head joined with the rest when that was read too."""
    reservoir = sketch.pop("reservoir", None)
    more = (sketch.pop(MORE, None) or {}).get("rows")
    if reservoir and more:
        rows = reservoir.get("rows") or {}
        reservoir = {**reservoir, "rows": {name: [*col, *more.get(name, ())] for name, col in rows.items()}}
    return reservoir  # type: ignore[no-any-return]


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
    # A fragment whose share of the sample fits in its head is read without the rest of its sample.
    small = [pk for pk, k in want.items() if k <= HEAD_ROWS]
    text = Case(
        When(id__in=small, then=_TextWithout("sketch", MORE)),
        default=Cast("sketch", output_field=TextField()),
        output_field=TextField(),
    )
    stream = fragments.filter(id__lte=listed[-1][0]).order_by("id").values_list("id", text)
    for pk, raw in stream.iterator(chunk_size=MERGE_GROUP):
        if pk not in want:  # committed after the listing: left for the next merge
            continue
        sketch = decode_json(raw)
        sample.add(_whole_reservoir(sketch), want[pk], rng)
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
    merged["reservoir"], more = _split_head(merged["reservoir"], np.random.default_rng(seed))
    if more:
        merged[MORE] = more
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
