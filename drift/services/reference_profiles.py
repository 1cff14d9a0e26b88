"""The reference's profile: its sketch on the version's bins and its label summaries, computed once.

Built from the stored reference rows in chunks (bounded memory however large the reference), cached in
a `ReferenceProfile`, and rebuilt only when the reference or the model's label settings change.
"""

import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from drift.engine.bins import bin_codes, bin_count, identifier_features
from drift.engine.context import ModelInfo
from drift.engine.reference import summarise_labels
from drift.models import ReferenceDataset, ReferenceProfile, ReferenceRow
from drift.profiles import ProfileSpec, merge_sketches, sketch_rows
from drift.services.fragments import decode_json
from drift.stats.univariate import SAMPLE_LIMIT

# The reference reservoir holds every row up to the exact-test limit, so small references are tested
# exactly; larger ones keep a uniform sample of that size.
RESERVOIR = SAMPLE_LIMIT
CHUNK = 5_000


def settings_key(model: ModelInfo) -> str:
    """What the label summaries depend on besides the rows: a change of these rebuilds them."""
    values = ",".join(f"{k}={model.values.get(k)}" for k in ("tp", "fp", "tn", "fn"))
    return f"{model.task}|{model.positive_label}|{values}|{model.currency}"


def _chunks(dataset: ReferenceDataset) -> Iterator[list[tuple[Any, ...]]]:
    rows = ReferenceRow.objects.filter(dataset=dataset).order_by("id")
    chunk: list[tuple[Any, ...]] = []
    for row in rows.values_list("features", "prediction", "score", "label").iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def build(
    dataset: ReferenceDataset, spec: ProfileSpec, model: ModelInfo
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(sketch, label summaries) of the reference rows. Streams the rows; keeps only labelled columns."""
    sketch: dict[str, Any] | None = None
    preds: list[Any] = []
    labels: list[Any] = []
    scores: list[Any] = []
    codes: dict[str, list[np.ndarray]] = {b.name: [] for b in spec.features}
    for i, chunk in enumerate(_chunks(dataset)):
        columns = {b.name: [r[0].get(b.name) for r in chunk] for b in spec.features}
        part = sketch_rows(
            columns,
            spec,
            scores=[r[2] for r in chunk],
            predictions=[r[1] for r in chunk],
            reservoir_size=RESERVOIR,
            seed=zlib.crc32(f"{dataset.pk}:{i}".encode()),
        )
        sketch = part if sketch is None else merge_sketches([sketch, part], reservoir_size=RESERVOIR, seed=i)
        labelled = [j for j, r in enumerate(chunk) if r[3] is not None]
        preds.extend(chunk[j][1] for j in labelled)
        labels.extend(chunk[j][3] for j in labelled)
        scores.extend(chunk[j][2] for j in labelled)
        for b in spec.features:
            # int16 codes: a 200k-row reference costs a few MB per feature, not tens.
            codes[b.name].append(bin_codes([columns[b.name][j] for j in labelled], b).astype(np.int16))
    summary = summarise_labels(
        model,
        predictions=preds,
        labels=labels,
        scores=scores,
        codes={
            name: np.concatenate(parts).astype(np.intp) if parts else np.zeros(0, np.intp)
            for name, parts in codes.items()
        },
        bins={b.name: bin_count(b) for b in spec.features},
        # Identifier-like features (hashed ids) have no meaningful target rate per value.
        skip=identifier_features(spec, sketch or {}),
    )
    summary["key"] = settings_key(model)
    return sketch or {"n": 0, "features": {}}, summary


def _stored(dataset: ReferenceDataset) -> ReferenceProfile | None:
    """The stored profile, its JSON read as text and decoded by orjson (a reservoir of thousands of rows
    and the conditional tables: every analysis reads them, and the json module took ~30 ms)."""
    text = TextField()
    row = (
        ReferenceProfile.objects.filter(reference=dataset)
        .values_list("pk", "reference_digest", Cast("sketch", text), Cast("labelled", text))
        .first()
    )
    if row is None:
        return None
    pk, digest, sketch, labelled = row
    return ReferenceProfile(
        pk=pk,
        reference=dataset,
        reference_digest=digest,
        sketch=decode_json(sketch),
        labelled=decode_json(labelled),
    )


def reference_profile_for(
    *, dataset: ReferenceDataset, spec: ProfileSpec, model: ModelInfo
) -> ReferenceProfile:
    """The cached profile, built on first use (two workers racing keep the first one stored)."""
    digest = dataset.digest[:16]
    found = _stored(dataset)
    if found and found.reference_digest == digest and found.labelled.get("key") == settings_key(model):
        return found
    sketch, labelled = build(dataset, spec, model)
    try:
        with transaction.atomic():
            ReferenceProfile.objects.filter(reference=dataset).delete()
            return ReferenceProfile.objects.create(
                reference=dataset, reference_digest=digest, sketch=sketch, labelled=labelled
            )
    except IntegrityError:
        return ReferenceProfile.objects.get(reference=dataset)
