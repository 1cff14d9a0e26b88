"""Group fairness: rates and gaps vs a pandas group-by oracle, intervals vs known answers."""

import numpy as np
import pandas as pd
import pytest

from drift.stats.calibration import calibration_error
from drift.stats.fairness import fairness_report, sensitive_combinations


@pytest.fixture
def loans():
    """Seeded decisions where women are approved less often at equal qualification."""
    rng = np.random.default_rng(21)
    n = 6000
    sex = rng.choice(["F", "M"], size=n)
    region = rng.choice(["north", "south", "east"], size=n, p=[0.5, 0.45, 0.05])
    qualified = rng.random(n) < 0.4
    approve_p = np.where(qualified, 0.8, 0.2) - np.where(sex == "F", 0.1, 0.0)
    pred = (rng.random(n) < approve_p).astype(int)
    prob = np.clip(approve_p + rng.normal(0, 0.05, n), 0, 1)
    return pd.DataFrame(
        {"sex": sex, "region": region, "y": qualified.astype(int), "pred": pred, "prob": prob}
    )


def _oracle(df, by):
    g = df.groupby(by)
    selection = g["pred"].mean()
    tpr = df[df.y == 1].groupby(by)["pred"].mean()
    fpr = df[df.y == 0].groupby(by)["pred"].mean()
    return selection, tpr, fpr


def test_group_rates_and_gaps_match_a_pandas_group_by(loans):
    report = fairness_report(loans.pred, {"sex": loans.sex}, loans.y, n_resamples=0)
    (sex,) = report
    selection, tpr, fpr = _oracle(loans, "sex")
    for group in sex.groups:
        assert group.selection_rate == pytest.approx(selection[group.group])
        assert group.tpr == pytest.approx(tpr[group.group])
        assert group.fpr == pytest.approx(fpr[group.group])
    assert sex.demographic_parity_difference.value == pytest.approx(selection.max() - selection.min())
    assert sex.demographic_parity_ratio.value == pytest.approx(selection.min() / selection.max())
    assert sex.equal_opportunity_difference.value == pytest.approx(tpr.max() - tpr.min())
    odds = max(tpr.max() - tpr.min(), fpr.max() - fpr.min())
    assert sex.equalized_odds_difference.value == pytest.approx(odds)


def test_intersections_are_built_and_small_groups_are_not_judged(loans):
    report = {
        r.attribute: r
        for r in fairness_report(
            loans.pred, {"sex": loans.sex, "region": loans.region}, loans.y, n_resamples=0, min_group_size=200
        )
    }
    assert set(report) == {"sex", "region", "sex & region"}
    both = report["sex & region"]
    sizes = loans.groupby(["sex", "region"]).size()
    selection, _, _ = _oracle(loans, ["sex", "region"])
    judged = sizes[sizes >= 200].index
    assert 0 < len(judged) < len(sizes)  # the east cells (~150 rows) fall below the minimum
    for group in both.groups:
        key = tuple(group.group.split(" & "))
        assert group.n == sizes[key]
        if key in judged:
            assert group.selection_rate == pytest.approx(selection[key])
        else:
            assert group.selection_rate is None and group.reason.startswith("too small to judge")
    # The gap runs over judged groups only: east's ~150-row cells never enter it.
    assert both.demographic_parity_difference.value == pytest.approx(
        selection[judged].max() - selection[judged].min()
    )


def test_reference_group_changes_the_comparison(loans):
    (sex,) = fairness_report(loans.pred, {"sex": loans.sex}, n_resamples=0, reference_groups={"sex": "M"})
    selection = loans.groupby("sex")["pred"].mean()
    assert sex.reference_group == "M"
    assert sex.demographic_parity_ratio.value == pytest.approx(selection["F"] / selection["M"])
    assert sex.equal_opportunity_difference.reason == "no labels"
    (missing,) = fairness_report(loans.pred, {"sex": loans.sex}, n_resamples=0, reference_groups={"sex": "X"})
    assert missing.demographic_parity_difference.value is None
    assert "reference group 'X'" in missing.demographic_parity_difference.reason


def test_four_fifths_rule_is_off_by_default_and_flags_a_low_ratio():
    pred = np.array([1] * 50 + [0] * 50 + [1] * 30 + [0] * 70)
    group = np.array(["a"] * 100 + ["b"] * 100)
    (default,) = fairness_report(pred, {"g": group}, n_resamples=0)
    (checked,) = fairness_report(pred, {"g": group}, n_resamples=0, four_fifths=True)
    assert default.four_fifths_passed is None
    assert checked.demographic_parity_ratio.value == pytest.approx(0.6)
    assert checked.four_fifths_passed is False


def test_gap_intervals_cover_the_true_gap_at_roughly_the_nominal_rate():
    # Known answer: selection rates 0.5 vs 0.3, so the true parity difference is 0.2.
    rng = np.random.default_rng(99)
    misses = 0
    for seed in range(40):
        group = np.repeat(["a", "b"], 800)
        pred = (rng.random(1600) < np.where(group == "a", 0.5, 0.3)).astype(int)
        (r,) = fairness_report(pred, {"g": group}, n_resamples=200, seed=seed)
        ci = r.demographic_parity_difference.ci
        misses += not (ci.low <= 0.2 <= ci.high)
    assert misses <= 6


def test_calibration_by_group_uses_each_groups_rows(loans):
    (sex,) = fairness_report(loans.pred, {"sex": loans.sex}, loans.y, loans.prob, n_resamples=0)
    women = loans[loans.sex == "F"]
    f_group = next(g for g in sex.groups if g.group == "F")
    assert f_group.ece == pytest.approx(calibration_error(women.y, women.prob).ece)
    eces = [g.ece for g in sex.groups]
    assert sex.calibration_gap.value == pytest.approx(max(eces) - min(eces))


def test_too_few_positives_leave_tpr_out_and_one_group_gives_a_reason():
    pred = np.array([1, 0] * 40)
    y = np.zeros(80, dtype=int)
    y[:3] = 1  # group "a" holds only 3 positives: below min_outcomes
    group = np.array(["a"] * 40 + ["b"] * 40)
    (r,) = fairness_report(pred, {"g": group}, y, n_resamples=50)
    assert all(g.tpr is None for g in r.groups)
    assert r.equal_opportunity_difference.value is None
    assert r.demographic_parity_difference.value == pytest.approx(0.0)
    (single,) = fairness_report(pred, {"g": np.array(["a"] * 80)}, n_resamples=50)
    assert single.demographic_parity_difference.reason == "fewer than two groups large enough to judge"


def test_sensitive_combinations_respects_max_order():
    cols = {"a": ["1", "2"], "b": ["x", "y"], "c": ["p", "q"]}
    assert list(sensitive_combinations(cols, max_order=1)) == ["a", "b", "c"]
    three = sensitive_combinations(cols, max_order=3)
    assert three["a & b & c"].tolist() == ["1 & x & p", "2 & y & q"]
    assert len(three) == 7


@pytest.mark.parametrize("reference_groups", [None, {"g": "a"}])
def test_a_window_too_small_for_any_group_is_too_small_to_judge_not_an_error(reference_groups):
    rng = np.random.default_rng(5)
    pred = rng.integers(0, 2, 12)
    y = rng.integers(0, 2, 12)
    groups = {"g": np.array(["a", "b", "c"] * 4), "h": np.array(["x", "y"] * 6)}

    reports = fairness_report(
        pred, groups, y, rng.random(12), reference_groups=reference_groups, n_resamples=20, four_fifths=True
    )

    assert [r.attribute for r in reports] == ["g", "h", "g & h"]
    for r in reports:
        assert r.demographic_parity_difference.value is None
        assert r.demographic_parity_difference.reason.startswith("too small to judge")
        assert r.equalized_odds_difference.value is None and r.four_fifths_passed is None
        assert all(g.selection_rate is None and g.reason.startswith("too small") for g in r.groups)


def test_a_reference_group_alone_gives_a_reason_not_an_error():
    pred = np.array([1, 0] * 40)
    group = np.array(["a"] * 70 + ["b"] * 10)  # only the reference group is large enough

    (r,) = fairness_report(pred, {"g": group}, reference_groups={"g": "a"}, n_resamples=20)

    assert r.demographic_parity_difference.value is None
    assert r.demographic_parity_difference.reason == "fewer than two groups large enough to judge"
