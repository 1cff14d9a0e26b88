"""Compacting an hour's fragments, and merging a window's fragments into a uniform sample: the head of a
compacted hour's sample is read alone when a window needs no more from that hour."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db.models import TextField
from django.db.models.functions import Cast
from scipy import stats

from drift.models import ProfileFragment
from drift.profiles import merge_sketches, sketch_rows, spec_from_reference
from drift.services import fragments
from drift.services.fragments import COMPACT_RESERVOIR, HEAD_ROWS, MORE, fragments_compact, merge_fragments
from drift.services.registry import model_create, version_create

DAY = datetime(2026, 3, 2, tzinfo=UTC)
BATCHES, BATCH = 9, 500  # an hour: 9 batches of 500 rows, 200 of each kept by its fragment


@pytest.fixture
def version(db):
    model = model_create(slug="m", name="M", task="binary_classification", owner="tests", positive_label="1")
    return version_create(model=model, version="v1", features=[{"name": "x", "type": "numeric"}])


@pytest.fixture
def spec():
    return spec_from_reference({"x": np.arange(1_000.0)}, {"x": "numeric"})


def ingest_hour(version, spec, hour: int) -> None:
    """Fragments of one hour; row values are their global index, so samples can be traced back."""
    for b in range(BATCHES):
        start = (hour * BATCHES + b) * BATCH
        sketch = sketch_rows({"x": np.arange(start, start + BATCH, dtype=float)}, spec, seed=start)
        ProfileFragment.objects.create(
            version=version,
            hour=DAY + timedelta(hours=hour),
            spec_digest=spec.digest,
            rows=BATCH,
            sketch=sketch,
        )


def test_compaction_splits_the_hours_sample_into_a_head_and_the_rest(version, spec):
    ingest_hour(version, spec, 0)

    assert fragments_compact(version=version, start=DAY, end=DAY + timedelta(hours=1)) == BATCHES - 1

    compacted = ProfileFragment.objects.get()
    head, more = compacted.sketch["reservoir"], compacted.sketch[MORE]
    assert compacted.rows == head["seen"] == BATCHES * BATCH
    assert len(head["rows"]["x"]) == HEAD_ROWS
    assert len(more["rows"]["x"]) == COMPACT_RESERVOIR - HEAD_ROWS
    assert not set(head["rows"]["x"]) & set(more["rows"]["x"])
    assert compacted.sketch["features"]["x"]["count"] == BATCHES * BATCH  # counts stay exact


def test_a_days_window_reads_each_hours_head_only_and_an_hours_window_its_whole_sample(version, spec):
    for hour in range(24):
        ingest_hour(version, spec, hour)
    fragments_compact(version=version, start=DAY, end=DAY + timedelta(days=1))
    heads = {f.pk: set(f.sketch["reservoir"]["rows"]["x"]) for f in ProfileFragment.objects.all()}
    every_head = set().union(*heads.values())

    day, ids = merge_fragments(ProfileFragment.objects.all(), merge_sketches, 5_000, seed=1)
    hour, _ = merge_fragments(ProfileFragment.objects.filter(hour=DAY), merge_sketches, 5_000, seed=1)

    sampled = day["reservoir"]["rows"]["x"]
    assert len(sampled) == 5_000 and len(set(sampled)) == 5_000 and set(sampled) <= every_head
    assert day["reservoir"]["seen"] == day["n"] == 24 * BATCHES * BATCH and len(ids) == 24
    # One hour: the sample's head and the rest, all 1,000 rows (more than the head holds).
    assert len(hour["reservoir"]["rows"]["x"]) == COMPACT_RESERVOIR
    assert len(set(hour["reservoir"]["rows"]["x"]) - every_head) == COMPACT_RESERVOIR - HEAD_ROWS


def test_the_merged_sample_stays_uniform_over_the_windows_rows(version, spec):
    for hour in range(24):
        ingest_hour(version, spec, hour)
    fragments_compact(version=version, start=DAY, end=DAY + timedelta(days=1))

    merged, _ = merge_fragments(ProfileFragment.objects.all(), merge_sketches, 5_000, seed=2)

    # Row values are their index among the day's 108,000 rows: a uniform sample of them is uniform.
    x = np.array(merged["reservoir"]["rows"]["x"]) / (24 * BATCHES * BATCH)
    assert stats.kstest(x, "uniform").pvalue > 0.01


def test_uncompacted_fragments_read_whole_and_the_key_is_dropped_in_sql(version, spec):
    ingest_hour(version, spec, 0)
    merged, _ = merge_fragments(ProfileFragment.objects.all(), merge_sketches, 900, seed=3)
    assert len(merged["reservoir"]["rows"]["x"]) == 900  # 100 of each fragment's 200 rows

    fragments_compact(version=version, start=DAY, end=DAY + timedelta(hours=1))
    row = ProfileFragment.objects.annotate(
        slim=fragments._TextWithout("sketch", MORE), whole=Cast("sketch", TextField())
    ).get()
    assert MORE not in fragments.decode_json(row.slim) and MORE in fragments.decode_json(row.whole)
