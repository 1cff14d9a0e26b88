"""The data-drift section on scenario data with known injected changes, and on features that cannot be
tested (constant, all null, one category, no reference values). No database."""

import numpy as np
import pytest

from drift.engine import drift
from drift.engine.context import FeatureInfo, ModelInfo, WindowInput
from drift.narratives import narrate
from drift.profiles import merge_sketches, sketch_rows, spec_from_reference
from drift.scenarios import make_scenario
from tests.drift.engine.support import scenario_input, window_input


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("stationary", set()),
        ("mean_shift", {"num_0"}),
        ("variance_change", {"num_0"}),
        ("category_reweighting", {"cat_0"}),
        ("new_category", {"cat_0"}),
        # A burst of missing values leaves the present values alone: data quality, not drift.
        ("missing_burst", set()),
        # Marginals intact: only the multivariate view can see it.
        ("correlation_change", set()),
    ],
)
@pytest.mark.parametrize("seed", [0, 2])
def test_it_flags_exactly_the_features_that_were_changed(kind, expected, seed):
    out = drift.data_drift(scenario_input(kind, seed=seed))

    assert set(out["drifted_features"]) == expected
    assert out["share_drifted"] == pytest.approx(len(expected) / 8)


def test_every_feature_entry_has_the_promised_fields():
    out = drift.data_drift(scenario_input("mean_shift", n_reference=4_000, n_current=2_000))

    for entry in out["features"]:
        assert {"feature", "method", "statistic", "p_value", "effect_size", "threshold", "drifted"} <= set(
            entry
        )
    assert {"pca", "domain_classifier", "drifted"} <= set(out["multivariate"])


def test_a_correlation_change_is_seen_by_the_multivariate_check_only():
    out = drift.data_drift(scenario_input("correlation_change"))

    assert out["drifted_features"] == []
    assert out["multivariate"]["drifted"] is True


def test_a_stationary_window_raises_no_multivariate_alarm():
    assert drift.data_drift(scenario_input("stationary"))["multivariate"]["drifted"] is False


def test_small_windows_get_an_exact_test_and_large_ones_a_binned_test():
    small = drift.data_drift(scenario_input("stationary", n_reference=3_000, n_current=2_000))
    large = drift.data_drift(scenario_input("stationary", n_reference=20_000, n_current=10_000))

    assert {e["mode"] for e in small["features"] if e["type"] == "numeric"} == {"samples"}
    assert {e["method"] for e in small["features"] if e["type"] == "numeric"} == {"ks"}
    assert {e["method"] for e in large["features"] if e["type"] == "numeric"} == {"ks_binned"}


def test_the_summary_says_how_far_the_mean_moved():
    entry = next(
        e for e in drift.data_drift(scenario_input("mean_shift"))["features"] if e["feature"] == "num_0"
    )

    # The scenario shifts num_0 (mean 50, sd 10) by half a standard deviation.
    assert entry["summary"]["current_mean"] - entry["summary"]["reference_mean"] == pytest.approx(5, abs=0.5)
    assert entry["summary"]["mean_change"] == pytest.approx(0.1, abs=0.015)


def test_a_new_category_is_named_with_its_share():
    entry = next(
        e for e in drift.data_drift(scenario_input("new_category"))["features"] if e["feature"] == "cat_0"
    )

    assert entry["summary"]["new_values"]["new"] == pytest.approx(0.05, abs=0.01)


class Recording:
    """A threshold source that learns at the window size and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str, int]] = []

    def get(self, feature, mode, method, window_size, learn):
        self.asked.append((feature, mode, method, window_size))
        return learn(window_size)

    def pca_threshold(self, window_size, learn):
        self.asked.append(("(multivariate)", "pca", "reconstruction", window_size))
        return learn(window_size)


def test_thresholds_come_from_the_threshold_source_once_per_testable_feature():
    source = Recording()
    inp = scenario_input("stationary", n_reference=4_000, n_current=2_000, thresholds=source)

    drift.data_drift(inp)

    features = [a[0] for a in source.asked if a[0] != "(multivariate)"]
    assert sorted(features) == sorted(f.name for f in inp.features)
    # Four numeric features: PCA keeps them all, nothing to reconstruct, so no null is asked for.
    assert not out_of(source, "(multivariate)")


def out_of(source, name):
    return [a for a in source.asked if a[0] == name]


def test_the_pca_null_comes_from_the_threshold_source_for_the_windows_sample_rows():
    source = Recording()
    sc = make_scenario("correlation_change", n_reference=4_000, n_current=2_000, n_numeric=12, seed=0)

    out = drift.data_drift(window_input(sc, thresholds=source))

    assert out_of(source, "(multivariate)") == [("(multivariate)", "pca", "reconstruction", 2_000)]
    assert out["multivariate"]["pca"]["drifted"] is True


# --- features that cannot be compared -----------------------------------------------------------


def edge_input(reference: dict, current: dict, kinds: dict) -> WindowInput:
    spec = spec_from_reference(reference, kinds)
    return WindowInput(
        spec=spec,
        features=tuple(FeatureInfo(n, k) for n, k in kinds.items()),
        model=ModelInfo("regression"),
        current=merge_sketches([sketch_rows(current, spec, reservoir_size=500)], reservoir_size=500),
        reference=sketch_rows(reference, spec, reservoir_size=5_000),
    )


def by_feature(out: dict) -> dict:
    return {e["feature"]: e for e in out["features"]}


@pytest.fixture
def edges():
    rng = np.random.default_rng(3)
    n_ref, n_cur = 1_000, 400
    reference = {
        "normal": rng.normal(0, 1, n_ref),
        "constant": np.full(n_ref, 5.0),
        "gone": rng.normal(0, 1, n_ref),
        "never": np.full(n_ref, np.nan),
        "one_category": np.array(["north"] * n_ref, dtype=object),
        "flag": np.array([True] * n_ref, dtype=object),
        "customer": np.array([f"c{i}" for i in range(n_ref)], dtype=object),
    }
    current = {
        "normal": rng.normal(0, 1, n_cur),
        "constant": np.full(n_cur, 5.0),
        "gone": np.full(n_cur, np.nan),
        "never": rng.normal(0, 1, n_cur),
        "one_category": np.array(["north"] * n_cur, dtype=object),
        "flag": np.array([True] * n_cur, dtype=object),
        "customer": np.array([f"new{i}" for i in range(n_cur)], dtype=object),
    }
    kinds = {
        "normal": "numeric",
        "constant": "numeric",
        "gone": "numeric",
        "never": "numeric",
        "one_category": "categorical",
        "flag": "boolean",
        "customer": "categorical",
    }
    return drift.data_drift(edge_input(reference, current, kinds))


def test_a_constant_feature_is_compared_by_the_share_of_values_that_moved(edges):
    entry = by_feature(edges)["constant"]

    assert entry["testable"] and not entry["drifted"]
    assert entry["effect_method"] == "ks"
    assert "constant (5) in the reference" in entry["explanation"]


def test_an_all_null_window_is_not_testable_and_says_why(edges):
    entry = by_feature(edges)["gone"]

    assert not entry["testable"] and not entry["drifted"]
    assert entry["explanation"] == "gone was null in all 400 rows of this window."


def test_a_feature_without_reference_values_is_not_testable_and_says_why(edges):
    entry = by_feature(edges)["never"]

    assert not entry["testable"] and not entry["drifted"]
    assert "no values in the reference" in entry["explanation"]


def test_a_single_category_on_both_sides_is_explained(edges):
    entries = by_feature(edges)
    assert not entries["one_category"]["drifted"]
    assert "single value ('north')" in entries["one_category"]["explanation"]
    assert not entries["flag"]["drifted"]
    assert "single value" in entries["flag"]["explanation"]


def test_an_identifier_is_not_compared_and_says_why(edges):
    entry = by_feature(edges)["customer"]

    assert not entry["testable"] and not entry["drifted"]
    assert "looks like an identifier (1,000 distinct values in 1,000 reference rows)" in entry["explanation"]


def test_untestable_features_stay_out_of_the_drifted_share(edges):
    testable = [e["feature"] for e in edges["features"] if e["testable"]]

    assert sorted(testable) == ["constant", "flag", "normal", "one_category"]
    assert edges["share_drifted"] == 0.0


def test_a_change_confined_to_one_segment_is_located():
    rng = np.random.default_rng(5)
    seg_ref = rng.choice(["north", "south", "east"], 6_000).astype(object)
    seg_cur = rng.choice(["north", "south", "east"], 3_000).astype(object)
    cur = rng.normal(0, 1, 3_000)
    cur[seg_cur == "south"] += 1.5
    reference = {"x": rng.normal(0, 1, 6_000), "region": seg_ref}
    current = {"x": cur, "region": seg_cur}
    spec = spec_from_reference(reference, {"x": "numeric", "region": "categorical"})
    inp = WindowInput(
        spec=spec,
        features=(FeatureInfo("x", "numeric"), FeatureInfo("region", "categorical", "segment")),
        model=ModelInfo("regression"),
        current=sketch_rows(current, spec, reservoir_size=5_000),
        reference=sketch_rows(reference, spec, reservoir_size=5_000),
    )

    entry = by_feature(drift.data_drift(inp))["x"]

    assert entry["drifted"]
    (segments,) = entry["segments"]
    assert segments["by"] == "region" and segments["concentrated_in"] == "south"


# --- small windows --------------------------------------------------------------------------------


def test_a_window_too_small_to_test_flags_nothing_and_says_why():
    rng = np.random.default_rng(8)
    reference = {
        "x": rng.normal(0, 1, 5_000),
        "region": rng.choice(["north", "south", "east"], 5_000).astype(object),
        "flag": (rng.random(5_000) < 0.3).astype(object),
    }
    # 36 rows from an hour whose mix differs a little from the day's, as a short window's does.
    current = {
        "x": rng.normal(0.6, 1, 36),
        "region": rng.choice(["north", "south", "east"], 36, p=[0.6, 0.2, 0.2]).astype(object),
        "flag": (rng.random(36) < 0.5).astype(object),
    }
    kinds = {"x": "numeric", "region": "categorical", "flag": "boolean"}

    out = drift.data_drift(edge_input(reference, current, kinds))

    entries = by_feature(out)
    assert out["drifted_features"] == [] and out["testable_features"] == 0 and out["share_drifted"] is None
    for name in kinds:
        assert not entries[name]["testable"]
        assert (
            f"not testable, too few rows (36 non-null values in this window; {drift.MIN_TEST_ROWS} are"
            in (entries[name]["explanation"])
        )


def test_share_drifted_counts_only_the_features_that_could_be_tested():
    rng = np.random.default_rng(9)
    reference = {"x": rng.normal(0, 1, 4_000), "sparse": rng.normal(0, 1, 4_000)}
    sparse = np.full(400, np.nan)
    sparse[:40] = rng.normal(0, 1, 40)  # 40 values: too few to test
    current = {"x": rng.normal(1.0, 1, 400), "sparse": sparse}

    out = drift.data_drift(edge_input(reference, current, {"x": "numeric", "sparse": "numeric"}))

    assert out["drifted_features"] == ["x"]
    assert out["testable_features"] == 1 and out["share_drifted"] == 1.0


def test_sparse_categories_are_pooled_before_the_chi_square_test():
    reference = {"plan": np.array(["a"] * 6_000 + ["b"] * 3_950 + ["c"] * 50, dtype=object)}
    # Three rows of the rare plan "c" where 0.8 are expected: alone, a chi-square p of ~0.02.
    current = {"plan": np.array(["a"] * 90 + ["b"] * 57 + ["c"] * 3, dtype=object)}

    entry = by_feature(drift.data_drift(edge_input(reference, current, {"plan": "categorical"})))["plan"]

    assert entry["testable"] and entry["method"] == "chi_square"
    assert entry["p_value"] > 0.5  # "c" pooled with "b": the two plans' joint share did not move
    assert not entry["drifted"]


def test_a_sparse_two_by_two_table_gets_fishers_exact_test():
    from scipy import stats

    reference = {"flag": np.array([True] * 100 + [False] * 9_900, dtype=object)}
    current = {"flag": np.array([True] * 4 + [False] * 116, dtype=object)}

    entry = by_feature(drift.data_drift(edge_input(reference, current, {"flag": "boolean"})))["flag"]

    expected = stats.fisher_exact([[9_900, 100], [116, 4]]).pvalue
    assert entry["method"] == "fisher_exact"
    assert entry["p_value"] == pytest.approx(expected)


# --- where a change comes from ------------------------------------------------------------------------

INCOME = {"new": 30_000.0, "existing": 45_000.0, "premium": 90_000.0}


def _customers(rng: np.random.Generator, n: int, shares: list[float]) -> dict:
    segment = rng.choice(list(INCOME), n, p=shares).astype(object)
    income = np.array([rng.normal(INCOME[s], 0.25 * INCOME[s]) for s in segment])
    return {"income": income, "customer_segment": segment}


def test_a_rising_share_of_new_customers_is_told_as_the_mix_not_as_noise_in_a_small_segment():
    # Income falls because new customers (who earn less) went from 30 % to 42 % of requests; inside
    # each segment nothing changed, but the small premium segment's noise is the largest effect.
    rng = np.random.default_rng(0)
    reference = _customers(rng, 20_000, [0.30, 0.62, 0.08])
    current = _customers(rng, 3_000, [0.42, 0.51, 0.07])
    spec = spec_from_reference(reference, {"income": "numeric", "customer_segment": "categorical"})
    inp = WindowInput(
        spec=spec,
        features=(
            FeatureInfo("income", "numeric"),
            FeatureInfo("customer_segment", "categorical", "segment"),
        ),
        model=ModelInfo("regression"),
        current=sketch_rows(current, spec, reservoir_size=5_000),
        reference=sketch_rows(reference, spec, reservoir_size=5_000),
    )

    out = drift.data_drift(inp)

    (segments,) = by_feature(out)["income"]["segments"]
    premium = next(s for s in segments["segments"] if s["value"] == "premium")
    assert premium["effect"] == max(s["effect"] for s in segments["segments"])  # the noise is there
    assert segments["concentrated_in"] is None and not premium["significant"]
    assert segments["mix"]["moved"] and segments["mix_explains"]
    assert segments["mix"]["value"] == "new"
    assert segments["mix"]["reference_share"] == pytest.approx(0.30, abs=0.02)
    assert segments["mix"]["current_share"] == pytest.approx(0.42, abs=0.02)
    text = narrate({"data_drift": out})
    assert "premium" not in text
    assert "Most of the change in income comes from that shift in customer segment." in text
