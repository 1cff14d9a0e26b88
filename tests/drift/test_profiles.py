"""Profiles are checked against direct computation on the raw rows (the reference they must equal)."""

import numpy as np
import pytest
from scipy import stats

from drift.profiles import (
    latency_quantiles,
    merge_sketches,
    sketch_rows,
    spec_from_reference,
)


@pytest.fixture
def spec():
    rng = np.random.default_rng(7)
    reference = {
        "income": rng.normal(50_000, 10_000, 5_000),
        "region": np.array(
            ["north"] * 2_000 + ["south"] * 1_500 + ["east"] * 1_000 + ["west"] * 499 + ["rare"]
        ),
        "owner": rng.choice([True, False], 5_000),
    }
    return spec_from_reference(
        reference, {"income": "numeric", "region": "categorical", "owner": "boolean"}, max_categories=3
    )


def rows(seed, n):
    rng = np.random.default_rng(seed)
    income = rng.normal(52_000, 11_000, n)
    income[rng.random(n) < 0.05] = np.nan
    region = rng.choice(["north", "south", "east", "west", "partner"], n).astype(object)
    region[rng.random(n) < 0.02] = None
    return {"income": income, "region": region, "owner": list(rng.choice([True, False, None], n))}


def test_merging_hour_sketches_equals_sketching_all_rows_at_once(spec):
    parts = [rows(seed, 700) for seed in range(5)]
    merged = merge_sketches([sketch_rows(p, spec, seed=i) for i, p in enumerate(parts)])
    whole = sketch_rows(
        {k: np.concatenate([np.asarray(p[k], dtype=object) for p in parts]) for k in parts[0]}, spec
    )
    for name in ("income", "region", "owner"):
        for key in ("count", "nulls", "bins", "true", "min", "max"):
            assert merged["features"][name].get(key) == whole["features"][name].get(key), (name, key)
    assert merged["features"]["income"]["sum"] == pytest.approx(whole["features"]["income"]["sum"])
    assert merged["n"] == 3_500


def test_numeric_sketch_matches_numpy_on_the_raw_values(spec):
    data = rows(1, 2_000)
    income = data["income"]
    sketch = sketch_rows(data, spec)["features"]["income"]
    finite = income[np.isfinite(income)]
    assert sketch["count"] == finite.size
    assert sketch["nulls"] == np.isnan(income).sum()
    assert sketch["sum"] == pytest.approx(finite.sum())
    assert sketch["sumsq"] == pytest.approx(np.square(finite).sum())
    assert (sketch["min"], sketch["max"]) == (finite.min(), finite.max())
    assert sum(sketch["bins"]) == finite.size


def test_categories_split_into_kept_other_unseen_and_null(spec):
    data = {
        "income": np.array([1.0] * 6),
        "region": np.array(["north", "west", "rare", "partner", "partner", None], dtype=object),
        "owner": [True] * 6,
    }
    sketch = sketch_rows(data, spec)["features"]["region"]
    kept = spec.features[1].categories
    assert kept == ("north", "south", "east")
    # north kept; west and rare were in the reference but not kept (other); partner never seen (unseen).
    assert sketch["bins"] == [1, 0, 0, 2, 2]
    assert sketch["nulls"] == 1
    assert sketch["unseen_values"] == {"partner": 2}


def test_a_merged_reservoir_is_a_uniform_sample_of_all_rows(spec):
    # Two parts of very different sizes: a uniform merge takes rows in proportion 9:1.
    big = {
        "income": np.zeros(9_000),
        "region": np.array(["north"] * 9_000, dtype=object),
        "owner": [True] * 9_000,
    }
    small = {
        "income": np.ones(1_000),
        "region": np.array(["north"] * 1_000, dtype=object),
        "owner": [True] * 1_000,
    }
    shares = []
    for seed in range(40):
        merged = merge_sketches(
            [
                sketch_rows(big, spec, reservoir_size=500, seed=seed),
                sketch_rows(small, spec, reservoir_size=500, seed=seed + 100),
            ],
            reservoir_size=500,
            seed=seed,
        )
        sample = np.array(merged["reservoir"]["rows"]["income"], dtype=float)
        assert sample.size == 500
        shares.append(sample.mean())
    # Known answer: 10 % of rows come from the small part; binomial test on the pooled count.
    ones = round(float(np.sum(shares)) * 500)
    assert stats.binomtest(ones, 40 * 500, 0.1).pvalue > 0.001


def test_latency_quantiles_are_within_five_percent_of_numpy():
    rng = np.random.default_rng(3)
    latency = rng.lognormal(mean=3.0, sigma=0.8, size=20_000)
    spec = spec_from_reference({}, {})
    sketch = merge_sketches(
        [
            sketch_rows({}, spec, scores=[0.5] * 10_000, latencies=latency[:10_000]),
            sketch_rows({}, spec, scores=[0.5] * 10_000, latencies=latency[10_000:]),
        ]
    )
    estimated = latency_quantiles(sketch["latency"])
    for q in (50, 95, 99):
        assert estimated[f"p{q}"] == pytest.approx(np.percentile(latency, q), rel=0.05)


def test_a_spec_survives_a_json_round_trip(spec):
    from drift.profiles import ProfileSpec

    again = ProfileSpec.from_json(spec.to_json())
    assert again == spec
    assert again.digest == spec.digest


def test_scores_outside_zero_one_get_quantile_bins():
    spec = spec_from_reference({}, {}, scores=np.linspace(-5, 200, 1_000))
    assert spec.score_edges[0] == -5 and spec.score_edges[-1] == 200
