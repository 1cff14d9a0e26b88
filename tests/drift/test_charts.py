"""Chart builders are pure: figure dicts from plain data, checked without a database."""

import doctest
import json
from typing import Any

import pytest

from drift import charts
from drift.charts import base, drift, operations, pages, performance

W = ["2026-11-18T00:00:00+00:00", "2026-11-19T00:00:00+00:00", "2026-11-20T00:00:00+00:00"]
EVENTS = [{"at": W[1], "title": "Income share changed"}]


def jsonable(fig: dict[str, Any]) -> dict[str, Any]:
    """Every figure must survive strict JSON (no NaN): json_script would otherwise emit invalid JSON."""
    return json.loads(json.dumps(fig, allow_nan=False))


def titles(fig: dict[str, Any]) -> tuple[str, str, str]:
    lay = fig["layout"]
    return lay["title"]["text"], lay["xaxis"]["title"]["text"], lay["yaxis"]["title"]["text"]


@pytest.mark.parametrize("module", [base, drift, operations, pages, performance])
def test_the_docstring_examples_hold(module: Any) -> None:
    assert doctest.testmod(module).failed == 0


# --- empty data: every builder answers with a figure that says why ----------------------------------


@pytest.mark.parametrize(
    "fig",
    [
        charts.drift_heatmap([], []),
        charts.sparkline([None, None], ["a", "b"], name="x"),
        charts.distribution_overlay([], [], [], feature="income"),
        charts.statistic_over_time([], feature="income", method="wasserstein"),
        charts.quality_over_time([{"window": W[0]}]),
        charts.metric_over_time([{"window": W[0]}], metric="Accuracy"),
        charts.calibration_curve(None),
        charts.business_outcomes(None, {"tp": 1.0}, currency="EUR", estimated=True),
        charts.business_outcomes({"tp": 3}, {}, currency="EUR", estimated=False),
        charts.confidence_histogram(None),
        charts.attribution_ranking(None, None),
        charts.fairness_groups("age band", [{"group": "18-24", "n": 5, "selection_rate": None}]),
        charts.latency_over_time([{"window": W[0]}]),
        charts.volume_and_errors([{"window": W[0], "volume": 0}]),
        charts.queue_over_time([{"window": W[0]}]),
    ],
)
def test_an_empty_chart_has_no_traces_and_says_why(fig: dict[str, Any]) -> None:
    fig = jsonable(fig)
    assert fig["data"] == [] and charts.is_empty(fig)
    assert fig["layout"]["annotations"][0]["text"]


# --- each chart ------------------------------------------------------------------------------------


def test_the_heatmap_colours_effect_against_threshold_and_sorts_the_most_changed_first() -> None:
    cells = [
        {"feature": "age", "window": W[0], "ratio": 0.4, "drifted": False},
        {"feature": "age", "window": W[1], "ratio": 0.5, "drifted": False},
        {"feature": "income", "window": W[0], "ratio": 0.9, "drifted": False},
        {"feature": "income", "window": W[1], "ratio": 7.0, "drifted": True},
        {"feature": "customer_id", "window": W[1], "ratio": None, "drifted": False},
    ]
    fig = jsonable(charts.drift_heatmap(W[:2], cells, window_ids=[11, 12]))
    trace = fig["data"][0]
    # customer_id is never compared (an identifier): no empty row for it
    assert trace["type"] == "heatmap" and trace["y"] == ["income", "age"]
    assert trace["z"][0] == [0.9, drift.RATIO_CAP]  # capped so one feature does not wash out the rest
    assert trace["zmin"] == 0 and trace["zmax"] == drift.RATIO_CAP
    assert trace["colorscale"][0][0] == 0 and trace["colorscale"][-1][0] == 1
    assert trace["colorbar"]["ticktext"][1] == "1 (threshold)"
    assert trace["customdata"] == [[11, 12]] * 2
    assert "7.00x its threshold" in trace["text"][0][1]
    assert titles(fig)[1] == base.TIME_AXIS


def test_the_heatmap_hover_is_plain_words_outside_the_technical_view() -> None:
    cells = [{"feature": "income", "window": W[0], "ratio": 2.0, "drifted": True}]
    trace = charts.drift_heatmap(W[:1], cells, technical=False)["data"][0]
    assert trace["text"] == [["changed"]]
    bar_title = trace["colorbar"]["title"]["text"]
    assert "÷" not in bar_title and "alarm level" in bar_title


def test_the_heatmap_blanks_a_missing_window_and_names_rows_by_their_labels() -> None:
    cells = [
        {"feature": "credit_history_months", "window": W[0], "ratio": 0.5, "drifted": False},
        {"feature": "age", "window": W[1], "ratio": 0.2, "drifted": False},
    ]
    trace = charts.drift_heatmap(W[:2], cells, labels={"credit_history_months": "credit history months"})
    assert trace["data"][0]["y"] == ["credit history months", "age"]
    assert trace["data"][0]["z"][0] == [0.5, None]


def test_a_heatmap_of_identifiers_only_is_an_empty_figure() -> None:
    cells = [{"feature": "customer_id", "window": W[0], "ratio": None, "drifted": False}]
    assert charts.drift_heatmap(W[:1], cells)["data"] == []


def test_the_metric_chart_draws_measured_and_estimated_with_bands_reference_and_events() -> None:
    points = [
        {"window": W[0], "realised": {"value": 0.86, "low": 0.8, "high": 0.9}},
        {"window": W[1], "estimated": {"value": 0.81, "low": 0.78, "high": 0.84}},
        {"window": W[2], "estimated": {"value": float("nan")}},
    ]
    fig = jsonable(charts.metric_over_time(points, metric="Accuracy", reference=0.85, events=EVENTS))
    names = [t["name"] for t in fig["data"]]
    assert "Estimated accuracy (before labels)" in names and "Accuracy from labelled outcomes" in names
    assert "Reference" in names and "Events" in names
    bands = [t for t in fig["data"] if t.get("fill") == "tonexty"]
    assert len(bands) == 2
    estimated = next(t for t in fig["data"] if t["name"] == "Estimated accuracy (before labels)")
    assert estimated["y"] == [None, 0.81, None]  # NaN becomes a gap
    assert titles(fig) == ("Accuracy over time", base.TIME_AXIS, "Accuracy")
    assert fig["layout"]["yaxis"]["tickformat"] == ".0%"
    assert fig["layout"]["shapes"][0]["x0"] == W[1]


def test_an_error_metric_is_not_shown_as_a_percentage() -> None:
    fig = charts.metric_over_time(
        [{"window": W[0], "realised": {"value": 120.0}}], metric="Mean absolute error", percent=False
    )
    assert "tickformat" not in fig["layout"]["yaxis"]


def test_the_calibration_curve_has_the_diagonal_and_skips_empty_bins() -> None:
    rel = {
        "edges": [0, 0.1, 0.2, 0.3],
        "counts": [20, 0, 5],
        "mean_predicted": [0.05, None, 0.25],
        "observed_rate": [0.1, None, 0.2],
    }
    fig = jsonable(charts.calibration_curve(rel))
    diagonal, window = fig["data"]
    assert diagonal["x"] == [0, 1] and diagonal["y"] == [0, 1]
    assert window["x"] == [0.05, 0.25] and window["y"] == [0.1, 0.2]
    assert titles(fig)[1:] == ("Mean predicted probability", "Observed rate")


def test_business_outcomes_multiply_counts_by_values_and_colour_costs() -> None:
    values = {"tp": 2400.0, "fp": -350.0, "tn": 350.0, "fn": -2400.0}
    fig = jsonable(
        charts.business_outcomes(
            {"tp": 2, "fp": 4, "tn": 24, "fn": 1}, values, currency="EUR", estimated=True
        )
    )
    bar = fig["data"][0]
    assert bar["x"] == ["Correctly flagged", "Flagged in error", "Correctly cleared", "Missed"]
    assert bar["y"] == [4800.0, -1400.0, 8400.0, -2400.0]
    assert bar["marker"]["color"] == [base.GREEN, base.RED, base.GREEN, base.RED]
    assert "estimated" in fig["layout"]["title"]["text"] and titles(fig)[2] == "Value (EUR)"
    # the tallest bar's label goes inside it rather than being cut at the top of the plot
    assert bar["textposition"] == "auto" and bar["cliponaxis"] is False


def test_fairness_bars_carry_95_percent_intervals_and_the_four_fifths_band() -> None:
    groups = [
        {"group": "18-24", "n": 100, "selection_rate": 0.5},
        {"group": "50-64", "n": 100, "selection_rate": 0.2},
        {"group": "65+", "n": 10, "selection_rate": None},
    ]
    fig = jsonable(charts.fairness_groups("age band", groups, four_fifths=True))
    bar = fig["data"][0]
    assert bar["x"] == ["18-24", "50-64"]
    low, high = base.wilson(0.5, 100)
    assert bar["error_y"]["array"][0] == pytest.approx(high - 0.5)
    assert bar["error_y"]["arrayminus"][0] == pytest.approx(0.5 - low)
    band = fig["layout"]["shapes"][0]
    assert band["y1"] == pytest.approx(0.4)  # four fifths of the highest rate
    assert "shapes" not in charts.fairness_groups("age band", groups)["layout"]


def test_the_wilson_interval_stays_inside_zero_and_one() -> None:
    assert base.wilson(0.0, 10)[0] == 0.0 and base.wilson(1.0, 10)[1] == 1.0
    assert base.wilson(None, 10) == (None, None) and base.wilson(0.5, 0) == (None, None)


def test_confidence_histogram_compares_shares_with_the_reference() -> None:
    fig = jsonable(charts.confidence_histogram([5, 5] + [0] * 8, [1, 3] + [0] * 8))
    ref, win = fig["data"]
    assert ref["name"] == "Reference" and ref["y"][:2] == [0.25, 0.75]
    assert win["y"][:2] == [0.5, 0.5] and win["x"][0] == "0%-10%"


def test_attribution_ranks_the_top_features_of_the_window() -> None:
    window = {f"f{i}": float(i) for i in range(15)}
    fig = jsonable(charts.attribution_ranking({"f14": 1.0}, window, top=5))
    ref, win = fig["data"]
    assert win["y"] == ["f10", "f11", "f12", "f13", "f14"]  # bottom-up: most important on top
    assert ref["x"][-1] == 1.0 and ref["x"][0] is None


def test_distribution_overlay_shows_shares_per_bin() -> None:
    fig = jsonable(charts.distribution_overlay(["a", "b"], [30, 10], [5, 5], feature="channel"))
    ref, cur = fig["data"]
    assert ref["y"] == [0.75, 0.25] and cur["y"] == [0.5, 0.5]
    assert fig["layout"]["barmode"] == "group" and titles(fig)[1:] == ("channel", "Share of rows")


def test_statistic_over_time_marks_changed_windows_against_a_stepped_threshold() -> None:
    history = [
        {"window": W[0], "effect": 0.05, "threshold": 0.1, "drifted": False},
        {"window": W[1], "effect": 0.3, "threshold": 0.08, "drifted": True},
    ]
    fig = jsonable(charts.statistic_over_time(history, feature="income", method="wasserstein", events=EVENTS))
    effect, threshold = fig["data"][:2]
    assert effect["marker"]["color"] == [base.BLUE, base.RED]
    assert threshold["line"]["shape"] == "hv" and threshold["y"] == [0.1, 0.08]
    assert titles(fig)[2] == "Effect size (wasserstein)" and fig["data"][-1]["name"] == "Events"


def test_quality_over_time_draws_only_series_with_values() -> None:
    fig = jsonable(charts.quality_over_time([{"window": W[0], "late": 0.2, "refused": None}]))
    assert [t["name"] for t in fig["data"]] == ["Arrived late"]
    assert fig["layout"]["yaxis"]["tickformat"] == ".0%"  # "20%", as elsewhere in the app
    small = charts.quality_over_time([{"window": W[0], "missing": 0.004}])
    assert small["layout"]["yaxis"]["tickformat"] == ".1%"  # whole percents would repeat "0%"


def test_operations_charts() -> None:
    lat = jsonable(charts.latency_over_time([{"window": W[0], "p50": 40, "p95": 90, "p99": None}]))
    assert [t["name"] for t in lat["data"]] == ["p50", "p95"] and titles(lat)[2] == "Milliseconds"
    vol = jsonable(charts.volume_and_errors([{"window": W[0], "volume": 500, "error_rate": 0.02}]))
    assert vol["data"][0]["type"] == "bar" and vol["data"][1]["yaxis"] == "y2"
    assert vol["layout"]["yaxis2"]["tickformat"] == ".1%"
    queue = jsonable(charts.queue_over_time([{"window": W[0], "avg": 3.5, "max": 9}]))
    assert [t["name"] for t in queue["data"]] == ["Average", "Peak"]


def test_the_sparkline_has_no_axes_and_bridges_gaps() -> None:
    fig = jsonable(charts.sparkline([0.8, None, 0.82], ["a", "b", "c"], name="Accuracy"))
    assert fig["layout"]["xaxis"]["visible"] is False and fig["data"][0]["connectgaps"] is True


# --- page assembly ---------------------------------------------------------------------------------


def summary(window: str, accuracy: float | None = None, **extra: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"window_start": window, "run_id": 1}
    if accuracy is not None:
        s["estimated_performance"] = {
            "status": "ok",
            "metrics": {
                "accuracy": {
                    "value": accuracy,
                    "low": accuracy - 0.02,
                    "high": accuracy + 0.02,
                    "reference": 0.85,
                }
            },
        }
    s.update(extra)
    return s


def test_the_executive_view_gets_two_charts_and_the_technical_view_all() -> None:
    kwargs: dict[str, Any] = {
        "series": [summary(W[0], 0.84), summary(W[1], 0.8)],
        "cells": [{"feature": "income", "window": W[0], "ratio": 1.2, "drifted": True}],
        "windows": W[:1],
        "results": {"fairness": {"attributes": [{"attribute": "age_band", "groups": []}]}},
        "events": EVENTS,
        "task": "binary_classification",
        "values": {"tp": 1.0},
        "currency": "EUR",
    }
    executive = pages.model_figures(**kwargs, technical=False)
    assert set(executive) == {"performance", "outcomes"}
    technical = pages.model_figures(**kwargs, technical=True)
    assert {
        "heatmap",
        "calibration",
        "latency",
        "volume",
        "queue",
        "confidence",
        "attribution",
        "quality",
        "fairness_0",
    } <= set(technical)
    perf = technical["performance"]
    assert next(t for t in perf["data"] if t["name"] == "Reference")["y"] == [0.85, 0.85]
    for fig in technical.values():
        jsonable(fig)


def test_outcome_counts_prefer_labelled_outcomes_to_the_estimate() -> None:
    labelled = {
        "performance": {"status": "ok", "business": {"counts": {"tp": 1, "fp": 0, "tn": 3, "fn": 0}}},
        "estimated_performance": {"status": "ok", "expected_confusion": {"tp": 9.0}},
    }
    assert pages.outcome_counts(labelled) == ({"tp": 1, "fp": 0, "tn": 3, "fn": 0}, False)
    del labelled["performance"]
    assert pages.outcome_counts(labelled) == ({"tp": 9.0}, True)
    assert pages.outcome_counts({}) == (None, True)


def test_feature_figures() -> None:
    figs = pages.feature_figures(
        name="income",
        distribution={"labels": ["<1", "1-2"], "reference": [5, 5], "current": [1, 3]},
        history=[{"window": W[0], "effect": 0.2, "threshold": 0.1, "drifted": True, "method": "wasserstein"}],
        quality=[{"window": W[0], "missing": 0.01}],
        events=[],
    )
    assert set(figs) == {"distribution", "statistic", "quality"}
    assert figs["statistic"]["layout"]["yaxis"]["title"]["text"] == "Effect size (wasserstein)"
