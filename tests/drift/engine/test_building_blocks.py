"""Windows, label sketches, bin codes, the labelled-reference summary: the engine's small pure parts."""

import doctest
import importlib
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from drift.engine.bins import bin_codes, bin_count
from drift.engine.context import ModelInfo, jsonable
from drift.engine.label_sketch import merge_label_sketches, sketch_labels
from drift.engine.reference import summarise_labels
from drift.engine.windows import complete_windows, split, window_of
from drift.profiles import FeatureBins, bin_counts

MODULES = [
    "bins",
    "context",
    "label_sketch",
    "operations",
    "performance",
    "quality",
    "reference",
    "run",
    "segments",
    "windows",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name):
    assert doctest.testmod(importlib.import_module(f"drift.engine.{name}")).failed == 0


T = datetime(2026, 11, 20, 13, 45, tzinfo=UTC)  # a Friday


def test_windows_are_aligned_on_utc_hours_days_and_mondays():
    assert window_of("hourly", T) == (T.replace(minute=0), T.replace(minute=0) + timedelta(hours=1))
    assert window_of("daily", T)[0] == datetime(2026, 11, 20, tzinfo=UTC)
    assert window_of("weekly", T)[0] == datetime(2026, 11, 16, tzinfo=UTC)


def test_only_complete_windows_past_the_grace_period_are_due():
    hours = [T - timedelta(days=2), T - timedelta(days=1), T]
    due = complete_windows("daily", hours, now=datetime(2026, 11, 20, 0, 5, tzinfo=UTC))

    # Yesterday ended 5 minutes ago, inside the 10-minute grace; today is not over.
    assert due == [(datetime(2026, 11, 18, tzinfo=UTC), datetime(2026, 11, 19, tzinfo=UTC))]


def test_a_range_splits_into_aligned_windows():
    out = split("daily", datetime(2026, 11, 18, 6, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC))

    assert [w[0].day for w in out] == [18, 19]


def test_label_sketches_merge_counts_exactly_and_keep_a_uniform_sample():
    rng = np.random.default_rng(0)
    parts = []
    for h in range(10):
        y = rng.integers(0, 2, 500)
        p = rng.integers(0, 2, 500)
        parts.append(
            sketch_labels(
                task="binary_classification",
                timestamps=np.arange(500.0) + 500 * h,
                predictions=p,
                labels=y,
                scores=rng.random(500),
                features={"x": list(y)},
                seed=h,
            )
        )
    merged = merge_label_sketches(parts, reservoir_size=1_000)

    assert merged["n"] == 5_000
    assert sum(merged["labels"].values()) == 5_000
    assert sum(sum(row.values()) for row in merged["confusion"].values()) == 5_000
    times = np.array(merged["reservoir"]["rows"]["__ts__"])
    assert len(times) == 1_000
    # Each hour's fragment kept 200 of its 500 rows; the merge takes ~100 from each.
    assert np.bincount((times // 500).astype(int), minlength=10).min() > 60


def test_regression_label_sketches_keep_error_sums():
    s = sketch_labels(
        task="regression",
        timestamps=[0.0, 1.0, 2.0],
        predictions=[1.0, 2.0, None],
        labels=[2.0, 2.0, 5.0],
        scores=[None] * 3,
        features={},
    )

    assert s["errors"] == {"count": 2, "abs_sum": 1.0, "sq_sum": 1.0}


def test_bin_codes_follow_the_profile_count_vectors():
    edges = (0.0, 1.0, 2.0, 3.0)
    values = [-1.0, 0.0, 0.5, 3.0, 3.5, None]
    b = FeatureBins("x", "numeric", edges=edges)

    codes = bin_codes(values, b)

    counted = np.bincount(codes[:-1], minlength=len(edges) + 1)
    assert counted.tolist() == bin_counts(np.array(values[:-1], dtype=float), edges).tolist()
    assert codes[-1] == bin_count(b) - 1


def test_the_labelled_reference_summary_holds_what_windows_are_compared_with():
    rng = np.random.default_rng(1)
    scores = rng.random(4_000)
    labels = (rng.random(4_000) < scores).astype(int)
    preds = (scores >= 0.5).astype(int)
    codes = {"x": rng.integers(0, 3, 4_000)}

    out = summarise_labels(
        ModelInfo("binary_classification", "1"),
        predictions=preds,
        labels=labels,
        scores=scores,
        codes=codes,
        bins={"x": 3},
    )

    assert out["performance"]["accuracy"] == pytest.approx(0.75, abs=0.02)
    assert out["calibration"]["ece"] < 0.05
    assert set(out["calibrator"]) == {"x", "y"}
    assert sum(out["conditional"]["x"]["n"]) == 4_000 and len(out["conditional"]["score"]["n"]) == 11
    assert jsonable(out) == out


def test_a_reference_without_labels_gives_an_empty_summary():
    assert summarise_labels(
        ModelInfo("regression"), predictions=[], labels=[], scores=[], codes={}, bins={}
    ) == {"n": 0}
