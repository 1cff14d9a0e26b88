"""Drill telemetry: each scenario kind changes what it says, on the model's own rows. No database."""

import re

import numpy as np
import pytest

from governance.drill_data import NEW_CATEGORY, drill_rows, placeholder

SCHEMA = [
    {"name": "income", "type": "numeric", "role": "input", "pii": "keep", "nullable": False},
    {"name": "age", "type": "numeric", "role": "input", "pii": "keep", "nullable": True},
    {"name": "region", "type": "categorical", "role": "input", "pii": "keep", "nullable": True},
    {"name": "gender", "type": "categorical", "role": "sensitive", "pii": "keep", "nullable": True},
]


def reference(n=2_000, seed=0):
    rng = np.random.default_rng(seed)
    income = rng.normal(50_000, 10_000, n)
    age = income / 1_000 + rng.normal(0, 3, n)  # correlated with income
    score = 1 / (1 + np.exp(-(income - 50_000) / 10_000))
    return [
        {
            "features": {
                "income": float(income[i]),
                "age": float(age[i]),
                "region": ["north", "north", "north", "south", "east"][i % 5],
                "gender": "f" if i % 4 else "m",
            },
            "prediction": int(score[i] >= 0.5),
            "score": float(score[i]),
            "label": int(rng.random() < score[i]),
        }
        for i in range(n)
    ]


def column(rows, name):
    return np.array([r["features"][name] for r in rows], dtype=object)


def labels(rows):
    return np.array([r["label"] for r in rows])


def test_stationary_replays_the_reference_unchanged():
    ref = reference()

    out = drill_rows(ref, SCHEMA, "stationary", n=1_000, seed=1)

    assert out.changed is None and len(out.rows) == 1_000
    assert abs(column(out.rows, "income").astype(float).mean() - 50_000) < 1_500


def test_a_mean_shift_moves_the_first_numeric_input_by_reference_deviations():
    out = drill_rows(reference(), SCHEMA, "mean_shift", n=2_000, seed=1, magnitude=1.0)

    assert out.changed == "income" and "1 reference standard deviations" in out.note
    assert re.search(r"\(\d{1,2},\d{3}\)$", out.note), out.note  # the shift in income's units, readable
    assert abs(column(out.rows, "income").astype(float).mean() - 60_000) < 1_500


def test_a_missing_burst_empties_a_nullable_feature_only():
    out = drill_rows(reference(), SCHEMA, "missing_burst", n=2_000, seed=1, magnitude=0.3)

    assert out.changed == "age"  # income is not nullable: emptying it would refuse the records
    assert 0.25 < np.mean([v is None for v in column(out.rows, "age")]) < 0.35


def test_a_new_category_and_a_reweighting_change_the_first_categorical_input():
    new = drill_rows(reference(), SCHEMA, "new_category", n=2_000, seed=1, magnitude=0.1)
    moved = drill_rows(reference(), SCHEMA, "category_reweighting", n=2_000, seed=1, magnitude=0.3)

    assert 0.07 < np.mean(column(new.rows, "region") == NEW_CATEGORY) < 0.13
    assert 0.25 < np.mean(column(moved.rows, "region") == "north") < 0.35  # from 0.6


def test_label_scenarios_change_labels_and_leave_predictions():
    ref = reference()
    base = drill_rows(ref, SCHEMA, "stationary", n=2_000, seed=1)
    concept = drill_rows(ref, SCHEMA, "concept_shift", n=2_000, seed=1)
    fairness = drill_rows(ref, SCHEMA, "fairness_gap", n=2_000, seed=1, magnitude=1.0)

    agree = np.mean([r["label"] == r["prediction"] for r in base.rows])
    assert np.mean([r["label"] == r["prediction"] for r in concept.rows]) < agree - 0.15
    men = column(fairness.rows, "gender") == "m"  # the smaller group
    assert labels(fairness.rows)[men].mean() < labels(base.rows)[men].mean() - 0.1
    assert labels(fairness.rows)[~men].mean() == pytest.approx(labels(base.rows)[~men].mean())


def test_a_correlation_change_keeps_the_marginals_and_breaks_the_correlation():
    ref = reference()
    base = drill_rows(ref, SCHEMA, "stationary", n=2_000, seed=1)
    broken = drill_rows(ref, SCHEMA, "correlation_change", n=2_000, seed=1)

    def corr(rows):
        return np.corrcoef(column(rows, "income").astype(float), column(rows, "age").astype(float))[0, 1]

    assert corr(base.rows) > 0.9 and abs(corr(broken.rows)) < 0.1
    assert sorted(column(broken.rows, "income")) == sorted(column(base.rows, "income"))


def test_an_unknown_scenario_or_an_empty_reference_is_refused():
    with pytest.raises(ValueError, match="unknown scenario"):
        drill_rows(reference(10), SCHEMA, "meteor", n=10, seed=0)
    with pytest.raises(ValueError, match="no rows"):
        drill_rows([], SCHEMA, "stationary", n=10, seed=0)


def test_a_required_dropped_feature_gets_a_placeholder_of_its_type():
    assert placeholder({"type": "numeric", "min": 18}) == 18
    assert placeholder({"type": "categorical", "categories": ["a", "b"]}) == "a"
    assert placeholder({"type": "boolean"}) is False
