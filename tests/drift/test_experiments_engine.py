"""The pure side of experiments: metrics from label sketches, the order of the stopping rules, guardrail
helpers and the executive summary. No database."""

import doctest
import math

import numpy as np
import pytest

from drift.engine import experiment_guardrails, experiment_summary, experiments
from drift.engine.experiment_guardrails import share_above
from drift.engine.experiment_summary import experiment_summary as summarise
from drift.engine.experiments import ArmData, Moments, evaluate, metric_moments
from drift.profiles import ProfileSpec, sketch_rows

CONFUSION = {"1": {"1": 30, "0": 10}, "0": {"0": 50, "1": 10}}  # prediction -> label -> count
CRITERIA = {
    "metric": "accuracy",
    "mde": 0.02,
    "alpha_per_challenger": 0.05,
    "rho": 500.0,
    "mode": "ab",
    "guardrails": [],
    "min_labelled": 200,
}


@pytest.mark.parametrize("module", [experiments, experiment_guardrails, experiment_summary])
def test_the_docstring_examples_hold(module):
    assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("accuracy", (100, 80)),
        ("error_rate", (100, 20)),
        ("true_positive_rate", (40, 30)),  # actual positives: 30 caught of 40
        ("true_negative_rate", (60, 50)),
        ("precision", (40, 30)),  # predicted positives: 30 right of 40
    ],
)
def test_rates_come_from_the_confusion_counts(metric, expected):
    m = metric_moments(metric, confusion=CONFUSION, positive_label="1")
    assert (m.n, m.total) == expected and m.sumsq == m.total


def test_regression_metrics_come_from_error_sums():
    errors = {"count": 4, "abs_sum": 6.0, "sq_sum": 14.0}
    assert metric_moments("mean_absolute_error", errors=errors) == Moments(4, 6.0, 14.0)
    assert metric_moments("business_value", errors=errors, cost_per_unit_error=2.0) == Moments(4, -12.0, 56.0)


def arm(version, n, x, *, traffic=None, share=0.5):
    return ArmData(version, version == "v1", share, traffic or n, {"2026-11-20": Moments(n, x, x)})


def test_a_sample_ratio_mismatch_outranks_a_significant_lift():
    out = evaluate(CRITERIA, [arm("v1", 2_000, 1_500, traffic=6_000), arm("v2", 2_000, 1_700, traffic=4_000)])
    assert out["comparisons"][0]["verdict"] == "better"
    assert out["stop"]["reason"] == "sample_ratio_mismatch"


def test_a_worse_challenger_stops_for_futility_and_says_so():
    out = evaluate(CRITERIA, [arm("v1", 3_000, 2_400), arm("v2", 3_000, 2_100)])
    assert out["comparisons"][0]["verdict"] == "worse"
    assert out["stop"]["reason"] == "futility" and out["stop"]["detail"].startswith("v2 worse")


def test_the_always_valid_p_value_never_rises_between_looks():
    first = evaluate(CRITERIA, [arm("v1", 1_000, 750), arm("v2", 1_000, 790)])
    p1 = first["comparisons"][0]["always_valid_p"]
    later = evaluate(CRITERIA, [arm("v1", 2_000, 1_500), arm("v2", 2_000, 1_505)], previous_p={"v2": p1})
    assert later["comparisons"][0]["p_value"] > p1 and later["comparisons"][0]["always_valid_p"] == p1


def test_the_daily_series_is_cumulative():
    days = {"2026-11-20": Moments(500, 400, 400), "2026-11-21": Moments(500, 380, 380)}
    out = evaluate(
        CRITERIA,
        [ArmData("v1", True, 0.5, 1_000, days), ArmData("v2", False, 0.5, 1_000, days)],
    )
    assert [d["arms"]["v1"]["n"] for d in out["daily"]] == [500, 1_000]
    assert out["daily"][-1]["comparisons"]["v2"]["estimate"] == 0


def test_share_above_matches_the_raw_latencies():
    rng = np.random.default_rng(3)
    latencies = rng.lognormal(math.log(30), 0.5, 20_000)
    sketch = sketch_rows({}, ProfileSpec(()), scores=[0.5] * latencies.size, latencies=latencies.tolist())
    for limit in (10.0, 30.0, 55.0, 120.0):
        assert share_above(sketch["latency"], limit) == pytest.approx(
            float((latencies > limit).mean()), abs=0.01
        )


RESULTS = {
    "metric": {"name": "business_value", "label": "business value", "kind": "mean", "higher_is_better": True},
    "alpha": 0.05,
    "comparisons": [
        {
            "challenger": "v2",
            "control": "v1",
            "control_mean": 13.10,
            "challenger_mean": 14.30,
            "gain": 1.20,
            "gain_lower": 0.40,
            "gain_upper": 2.00,
            "verdict": "better",
            "n_control": 9_000,
            "n_challenger": 9_000,
        }
    ],
    "guardrails": [],
    "srm": {"mismatch": False, "enforced": True},
}


def test_the_summary_tells_business_value_in_money():
    text = summarise(RESULTS, status="stopped", stop_reason="success", currency="EUR")
    assert text.startswith("Version v2 earns EUR 1.20 per prediction more than v1 (EUR 14.30 vs EUR 13.10)")
    assert "between EUR 0.40 and EUR 2.00 per prediction" in text
    assert text.endswith("It stopped early because the evidence for the gain is conclusive.")


def test_the_summary_admits_an_unclear_direction_and_a_breach():
    c = {**RESULTS["comparisons"][0], "gain_lower": -0.3, "verdict": "inconclusive"}
    breach = {"status": "breach", "label": "latency p95", "challenger": "v2"}
    text = summarise(
        {**RESULTS, "comparisons": [c], "guardrails": [breach]}, status="running", currency="EUR"
    )
    assert "direction is not yet clear" in text and "Guardrail breached: latency p95 of version v2" in text


def test_the_summary_says_when_it_is_too_early():
    c = {**RESULTS["comparisons"][0], "verdict": "too_early", "n_control": 40, "n_challenger": 35}
    assert summarise({**RESULTS, "comparisons": [c]}, status="running").startswith(
        "Too early to tell: only 35"
    )
