"""Profile fragments: written with every ingested batch, rebuilt when a version's reference changes."""

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np
from django.db import transaction

from drift.models import ModelVersion, PredictionLog, ProfileFragment, ReferenceDataset
from drift.profiles import FeatureBins, ProfileSpec, sketch_rows, spec_from_reference
from drift.selectors import schema_for
from drift.services.retention import raw_data_horizon
from drift.validation import Schema

# Rows kept per fragment for the exact tests: one hour of one batch rarely needs more, and an
# analysis merges fragments into a window sample of several thousand rows.
FRAGMENT_RESERVOIR = 200
REBUILD_CHUNK = 5000


@dataclass(frozen=True)
class ProfiledRow:
    """The fields of a prediction that profiles read (a stored row or one being ingested)."""

    timestamp: datetime
    features: dict[str, Any]
    prediction: Any
    score: float | None
    latency_ms: float | None
    status: str
    is_late: bool
    value_issues: dict[str, str] | None


def _bare_spec(schema: Schema) -> ProfileSpec:
    """Before a reference exists: counts, nulls, sums and min/max, but no bins."""
    return ProfileSpec(
        features=tuple(FeatureBins(r.name, r.type) for r in schema.features if r.pii != "drop")
    )


def current_spec(version: ModelVersion) -> tuple[ProfileSpec, str]:
    """The version's spec and its digest ('' when no reference exists yet)."""
    stored = ReferenceDataset.objects.filter(version=version).values_list("profile_spec", flat=True).first()
    if stored:
        spec = ProfileSpec.from_json(stored)
        return spec, spec.digest
    return _bare_spec(schema_for(version)), ""


def spec_from_reference_rows(schema: Schema, rows: Sequence[dict[str, Any]]) -> ProfileSpec:
    kinds = {rule.name: rule.type for rule in schema.features if rule.pii != "drop"}
    columns = {name: [row["features"].get(name) for row in rows] for name in kinds}
    scores = [row.get("score") for row in rows]
    has_scores = any(s is not None for s in scores)
    return spec_from_reference(columns, kinds, scores=scores if has_scores else None)


def _by_hour(rows: Sequence[Any]) -> dict[datetime, Sequence[Any]]:
    seconds = np.fromiter((r.timestamp.timestamp() for r in rows), dtype=np.float64, count=len(rows))
    hours = (seconds // 3600).astype(np.int64)
    if hours.min() == hours.max():
        return {datetime.fromtimestamp(int(hours[0]) * 3600, tz=UTC): rows}  # the usual batch: one hour
    keys, which = np.unique(hours, return_inverse=True)
    order = np.argsort(which, kind="stable")
    bounds = np.searchsorted(which[order], np.arange(keys.size + 1))
    return {
        datetime.fromtimestamp(int(h) * 3600, tz=UTC): [rows[i] for i in order[lo:hi]]
        for h, lo, hi in zip(keys, bounds[:-1], bounds[1:], strict=True)
    }


def _feature_columns(rows: Sequence[Any], names: tuple[str, ...]) -> dict[str, Sequence[Any]]:
    """Each feature's values; a transpose in C when every row holds every feature (the usual case)."""
    feats = [r.features for r in rows]
    if len(names) > 1:
        try:
            return dict(zip(names, zip(*map(itemgetter(*names), feats), strict=True), strict=True))
        except KeyError:
            pass  # a feature absent from some row: fall back to lookups that give None
    get = dict.get
    return {name: list(map(get, feats, repeat(name))) for name in names}


def build_fragments(
    version: ModelVersion, rows: Sequence[Any], spec: ProfileSpec, digest: str, *, is_drill: bool = False
) -> list[ProfileFragment]:
    """One unsaved fragment per hour the rows fall in. `rows` need the attributes of `ProfiledRow`."""
    names = tuple(f.name for f in spec.features)
    fragments = []
    for hour, group in _by_hour(rows).items():
        sketch = sketch_rows(
            _feature_columns(group, names),
            spec,
            scores=[r.score for r in group],
            predictions=[r.prediction for r in group],
            latencies=[r.latency_ms for r in group],
            errors=sum(1 for r in group if r.status == "error"),
            late=sum(1 for r in group if r.is_late),
            issues=[r.value_issues for r in group],
            reservoir_size=FRAGMENT_RESERVOIR,
            # Deterministic per hour and batch, so a rebuild from the same rows gives the same sample.
            seed=zlib.crc32(f"{version.pk}:{hour.isoformat()}:{len(group)}".encode()),
        )
        fragments.append(
            ProfileFragment(
                version=version,
                hour=hour,
                spec_digest=digest,
                rows=len(group),
                sketch=sketch,
                is_drill=is_drill,
            )
        )
    return fragments


def profiles_record(*, version: ModelVersion, rows: Sequence[Any], is_drill: bool = False) -> int:
    """Add the fragments of freshly stored rows; call inside the transaction that stores them."""
    if not rows:
        return 0
    spec, digest = current_spec(version)
    fragments = build_fragments(version, rows, spec, digest, is_drill=is_drill)
    ProfileFragment.objects.bulk_create(fragments)
    return len(fragments)


def _stored_rows(
    version: ModelVersion, is_drill: bool, since: datetime | None
) -> Iterable[list[ProfiledRow]]:
    fields = (
        "timestamp",
        "features",
        "prediction",
        "score",
        "latency_ms",
        "status",
        "is_late",
        "value_issues",
    )
    chunk: list[ProfiledRow] = []
    rows = PredictionLog.objects.filter(version=version, is_drill=is_drill)
    if since is not None:
        rows = rows.filter(timestamp__gte=since)
    rows = rows.order_by("timestamp", "id").values_list(*fields)
    for values in rows.iterator(chunk_size=REBUILD_CHUNK):
        chunk.append(ProfiledRow(*values))
        if len(chunk) >= REBUILD_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@transaction.atomic
def profiles_rebuild(*, version: ModelVersion) -> int:
    """Recompute every fragment of a version from its stored rows (after a reference arrives or changes).

    Stored rows are already PII-processed, so the rebuild sees exactly what ingestion saw. Hours before
    the retention horizon keep their fragments: their raw rows are gone (`drift.services.retention`).
    """
    ModelVersion.objects.select_for_update().filter(pk=version.pk).first()
    spec, digest = current_spec(version)
    since = raw_data_horizon()
    replaced = ProfileFragment.objects.filter(version=version)
    if since is not None:
        replaced = replaced.filter(hour__gte=since)
    replaced.delete()
    written = 0
    for is_drill in (False, True):  # drill rows keep fragments of their own
        for chunk in _stored_rows(version, is_drill, since):
            fragments = build_fragments(version, chunk, spec, digest, is_drill=is_drill)
            ProfileFragment.objects.bulk_create(fragments, batch_size=500)
            written += len(fragments)
    return written
