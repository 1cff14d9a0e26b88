"""The experiment page's pure parts, without a database: figures, advice, traffic check, tables."""

import doctest
import json

import pytest

from drift.charts import experiments as charts
from drift.charts.base import is_empty
from drift.engine import experiment_advice
from drift.engine.experiment_advice import recommendation, srm_sentence
from drift.page_tables import experiments as tables

LOOKS = [
    {"at": f"2026-11-2{k}T09:30:00+00:00", "challenger": "v2", "estimate": e, "lower": lo, "upper": hi,
     "verdict": v, "stop_reason": s}
    for k, (e, lo, hi, v, s) in enumerate(
        [
            (0.04, -0.10, 0.18, "too_early", ""),
            (0.03, -0.02, 0.08, "inconclusive", ""),
            (0.03, 0.005, 0.055, "better", "success"),
        ]
    )
]  # fmt: skip
HISTORY = [
    {"from": "2026-11-20T09:00:00+00:00", "shares": {"v1": 0.9, "v2": 0.1}},
    {"from": "2026-11-22T09:30:00+00:00", "shares": {"v1": 1.0, "v2": 0.0}},
]
DAILY = [
    {
        "day": "2026-11-20",
        "arms": {"v1": {"n": 900, "mean": 0.80}, "v2": {"n": 100, "mean": 0.84}},
        "comparisons": {"v2": {"estimate": 0.04, "lower": -0.1, "upper": 0.18}},
    },
    {
        "day": "2026-11-21",
        "arms": {"v1": {"n": 1800, "mean": 0.80}, "v2": {"n": 200, "mean": 0.83}},
        "comparisons": {"v2": {"estimate": 0.03, "lower": -0.02, "upper": 0.08}},
    },
]


@pytest.mark.parametrize("module", [charts, experiment_advice, tables])
def test_the_worked_examples_hold(module):
    assert doctest.testmod(module).failed == 0


def test_the_lift_is_drawn_in_points_with_its_band_the_zero_line_the_effect_and_the_stop():
    fig = charts.lift_over_time(LOOKS, metric="accuracy", kind="proportion", mde=0.02)

    upper, lower, line = fig["data"]
    assert line["y"] == pytest.approx([4.0, 3.0, 3.0]) and lower["fill"] == "tonexty"
    assert upper["y"] == pytest.approx([18.0, 8.0, 5.5]) and lower["y"] == pytest.approx([-10.0, -2.0, 0.5])
    zero, effect, stop = fig["layout"]["shapes"]
    assert (zero["y0"], effect["y0"]) == (0, pytest.approx(2.0))
    assert stop["x0"] == LOOKS[-1]["at"]  # the look that stopped it
    assert fig["layout"]["yaxis"]["title"]["text"] == "percentage points"
    json.dumps(fig)  # JSON-ready, as json_script needs


def test_a_lower_is_better_metric_puts_the_effect_line_below_zero_and_money_keeps_its_units():
    fig = charts.lift_over_time(
        LOOKS, metric="error_rate", kind="proportion", higher_is_better=False, mde=0.02
    )
    assert fig["layout"]["shapes"][1]["y0"] == pytest.approx(-2.0)

    money = charts.lift_over_time(LOOKS, metric="business_value", kind="mean", mde=5.0, currency="EUR")
    assert money["data"][2]["y"] == pytest.approx([0.04, 0.03, 0.03])
    assert money["layout"]["yaxis"]["title"]["text"] == "EUR per prediction"


def test_a_single_look_shows_its_range_as_a_bar_on_a_readable_time_axis():
    fig = charts.lift_over_time(LOOKS[:1], metric="accuracy", kind="proportion")

    line = fig["data"][2]
    assert line["error_y"]["array"] == pytest.approx([14.0]) and line["error_y"][
        "arrayminus"
    ] == pytest.approx([14.0])
    assert fig["layout"]["xaxis"]["range"] == ["2026-11-19T21:30:00+00:00", "2026-11-20T21:30:00+00:00"]
    assert "error_y" not in charts.lift_over_time(LOOKS, metric="accuracy", kind="proportion")["data"][2]


def test_every_figure_says_why_it_is_empty():
    assert is_empty(charts.lift_over_time([], metric="accuracy", kind="proportion"))
    no_estimate = [{**LOOKS[0], "estimate": None}]
    assert is_empty(charts.lift_over_time(no_estimate, metric="accuracy", kind="proportion"))
    assert is_empty(charts.allocation_over_time([]))
    assert is_empty(charts.arm_metric_over_time([], metric="accuracy", label="accuracy", kind="proportion"))


def test_the_traffic_split_steps_at_each_change_and_runs_to_the_end():
    fig = charts.allocation_over_time(HISTORY, until="2026-11-23T10:00:00+00:00")

    v1, v2 = fig["data"]
    assert v2["x"] == [h["from"] for h in HISTORY] + ["2026-11-23T10:00:00+00:00"]
    assert v2["y"] == [0.1, 0.0, 0.0] and v1["y"] == [0.9, 1.0, 1.0]
    assert v1["line"]["shape"] == "hv" and v1["stackgroup"] == v2["stackgroup"]
    assert fig["layout"]["yaxis"]["range"] == [0, 1]


def test_each_arm_is_drawn_with_its_labelled_count_and_a_range_for_rates():
    fig = charts.arm_metric_over_time(DAILY, metric="accuracy", label="accuracy", kind="proportion")

    v1, v2 = fig["data"]
    assert v1["y"] == pytest.approx([80.0, 80.0]) and v2["customdata"] == [100, 200]
    plus, minus = v2["error_y"]["array"], v2["error_y"]["arrayminus"]
    assert all(a > 0 for a in plus + minus) and plus[1] < plus[0]  # narrower with more outcomes

    money = charts.arm_metric_over_time(
        DAILY, metric="business_value", label="business value", kind="mean", currency="EUR"
    )
    assert "error_y" not in money["data"][0] and "EUR" in money["layout"]["yaxis"]["title"]["text"]


@pytest.mark.parametrize(
    ("status", "stop_reason", "verdict", "decision"),
    [
        ("draft", "", None, "none"),
        ("running", "", "better", "wait"),
        ("stopped", "success", "better", "promote"),
        ("stopped", "futility", "smaller_than_mde", "revert"),
        ("stopped", "guardrail", "better", "revert"),
        ("stopped", "sample_ratio_mismatch", "better", "revert"),
        ("stopped", "planned_duration", "better", "promote"),
        ("stopped", "planned_duration", "inconclusive", "revert"),
        ("stopped", "manual", "worse", "revert"),
        ("concluded", "success", "better", "none"),
    ],
)
def test_the_recommendation_follows_the_rule_that_fired(status, stop_reason, verdict, decision):
    results = {
        "comparisons": [{"challenger": "v2", "verdict": verdict, "gain": 0.03}] if verdict else [],
        "guardrails": [{"label": "latency p95", "challenger": "v2", "status": "breach"}],
    }
    advice = recommendation(results, status=status, stop_reason=stop_reason, control="v1")

    assert advice["decision"] == decision
    assert advice["version"] == ("v2" if decision == "promote" else "")
    if decision == "revert":
        assert "keep v1" in advice["text"]
    if stop_reason == "guardrail":
        assert "latency p95 of v2" in advice["text"]


def test_the_traffic_check_reads_as_a_sentence_for_each_case():
    base = {"expected_shares": {"v1": 0.5, "v2": 0.5}, "enforced": True}

    assert srm_sentence(None).startswith("Not checked yet")
    assert srm_sentence({**base, "observed": {"v1": 0, "v2": 0}}) == "No traffic has reached the arms yet."
    early = srm_sentence({**base, "observed": {"v1": 300, "v2": 200}, "p_value": 0.0, "mismatch": False})
    assert early.startswith("Too little traffic") and "500 of the 1,000" in early
    broken = {**base, "observed": {"v1": 6_000, "v2": 4_000}, "p_value": 1e-80, "mismatch": True}
    assert srm_sentence(broken).startswith(
        "Traffic did not split as planned: v1 received 60.0% (planned 50.0%)"
    )
    assert "cannot be trusted" in srm_sentence(broken)
    assert "reported, not enforced" in srm_sentence({**broken, "enforced": False})


def test_the_tables_keep_raw_values_for_the_csv_and_flag_a_breached_guardrail():
    results = {
        "metric": {"name": "accuracy", "label": "accuracy", "kind": "proportion"},
        "daily": DAILY,
        "arms": [
            {"version": "v1", "role": "control", "planned_share": 0.9, "traffic": 2000, "labelled": 1800,
             "mean": 0.8},
            {"version": "v2", "role": "challenger", "planned_share": 0.1, "traffic": 220, "labelled": 200,
             "mean": 0.83},
        ],
        "prob_best": {"v1": 0.1, "v2": 0.9},
        "guardrails": [
            {"metric": "latency_p95", "label": "latency p95", "challenger": "v2", "margin": 0.1,
             "control_value": 38.0, "challenger_value": 46.0, "limit": 41.8, "status": "breach"},
        ],
        "comparisons": [],
    }  # fmt: skip

    daily = tables.daily_table(results)
    assert daily.values()[1] == ["2026-11-21", 1800, 0.8, 200, 0.83, 0.03, -0.02, 0.08]
    arms = tables.arms_table(results)
    assert [c.kind for c in arms.columns][-2:] == ["pct", "pct"] and arms.values()[1][-1] == 0.9
    guard = tables.guardrails_table(results)
    assert guard.rows[0]["status"] == "alert" and guard.rows[0]["verdict"] == "breached"
    assert guard.rows[0]["reading"] == "46 ms vs 38 ms (limit 42 ms)"
    allocation = tables.allocation_table(HISTORY)
    assert allocation.header() == ["From", "v1 share", "v2 share"] and allocation.values()[1][1:] == [
        1.0,
        0.0,
    ]
    assert tables.metric_kinds({"name": "business_value", "kind": "mean"}) == ("money", "money")
