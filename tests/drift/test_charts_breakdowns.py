"""Drift by segment, concept drift and the weekly report: pure figures, tables and sentences, no database."""

import doctest
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from drift import reports
from drift.briefing import Impact
from drift.charts import breakdowns, concept, report, segments
from drift.page_tables import breakdowns as breakdown_tables
from drift.page_tables import report as report_tables

W = ["2026-11-17T00:00:00+00:00", "2026-11-18T00:00:00+00:00", "2026-11-19T00:00:00+00:00"]
JARGON = re.compile(r"\bPSI\b|\bKS\b|p-value|wasserstein|jensen", re.IGNORECASE)


def jsonable(fig: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(fig, allow_nan=False))


def drift_section(*, concentrated: str | None = "new", too_small: tuple[str, ...] = ()) -> dict[str, Any]:
    """A window where channel changed, mostly inside the 'new' customers, and the segment mix moved."""
    return {
        "status": "ok",
        "features": [
            {
                "feature": "channel",
                "type": "categorical",
                "drifted": True,
                "effect_size": 0.3,
                "threshold": 0.1,
                "segments": [
                    {
                        "by": "customer_segment",
                        "concentrated_in": concentrated,
                        "too_small": list(too_small),
                        "mix": {"moved": True, "value": "new", "reference_share": 0.3, "current_share": 0.42},
                        "segments": []
                        if too_small
                        else [
                            {
                                "value": "new",
                                "share": 0.42,
                                "reference_share": 0.3,
                                "effect": 0.5,
                                "significant": True,
                            },
                            {
                                "value": "existing",
                                "share": 0.5,
                                "reference_share": 0.6,
                                "effect": 0.18,
                                "significant": True,
                            },
                            {
                                "value": "premium",
                                "share": 0.08,
                                "reference_share": 0.1,
                                "effect": 0.05,
                                "significant": False,
                            },
                        ],
                    }
                ],
            },
            {"feature": "income", "type": "numeric", "drifted": False, "effect_size": 0.01, "threshold": 0.1},
            {
                "feature": "customer_segment",
                "type": "categorical",
                "role": "segment",
                "drifted": True,
                "effect_size": 0.12,
                "threshold": 0.1,
                "segments": [],
                "summary": {
                    "shares": [
                        {"value": "new", "reference": 0.3, "current": 0.42},
                        {"value": "existing", "reference": 0.6, "current": 0.5},
                    ]
                },
            },
        ],
    }


@pytest.mark.parametrize(
    "module", [segments, concept, breakdowns, report, reports, breakdown_tables, report_tables]
)
def test_the_docstring_examples_hold(module: Any) -> None:
    assert doctest.testmod(module).failed == 0


# --- drift by segment -----------------------------------------------------------------------------------


def test_segment_bars_show_the_change_inside_each_segment_against_the_threshold() -> None:
    fig = jsonable(segments.segment_effects(drift_section()))
    (trace,) = fig["data"]
    assert trace["name"] == "channel" and trace["orientation"] == "h"
    assert trace["y"] == [
        "customer segment = new",
        "customer segment = existing",
        "customer segment = premium",
    ]
    assert trace["x"] == [5.0, 1.8, 0.5]  # effect inside the segment / the feature's threshold
    assert trace["marker"]["line"]["color"][0] != trace["marker"]["line"]["color"][1]  # concentrates in 'new'
    assert "concentrates here" in trace["text"][0] and "not significant" in trace["text"][2]
    assert fig["layout"]["shapes"][0]["x0"] == 1  # the threshold line


def test_the_segment_mix_compares_shares_with_the_reference() -> None:
    fig = jsonable(segments.segment_mix(drift_section()))
    ref, cur = fig["data"]
    assert ref["name"] == "Reference" and ref["y"] == [0.3, 0.6]
    assert cur["name"] == "This window" and cur["y"] == [0.42, 0.5]


@pytest.mark.parametrize(
    ("section", "says"),
    [
        (None, "No drift results"),
        ({"status": "ok", "features": [{"feature": "a", "drifted": True}]}, "No segment declared"),
        (
            {"status": "ok", "features": [{"feature": "s", "role": "segment", "drifted": False}]},
            "No input changed",
        ),
        (drift_section(too_small=("premium",)), "too small to compare inside this window (premium)"),
    ],
)
def test_segment_bars_say_why_they_are_empty(section: Any, says: str) -> None:
    fig = segments.segment_effects(section)
    assert fig["data"] == [] and says in fig["layout"]["annotations"][0]["text"]


def test_the_segment_table_holds_every_segment_of_every_changed_feature() -> None:
    table = breakdown_tables.segments_table({"data_drift": drift_section()})
    assert [(r["feature"], r["segment"], r["concentrated"]) for r in table.rows] == [
        ("channel", "new", True),
        ("channel", "existing", False),
        ("channel", "premium", False),
    ]
    assert table.rows[0]["ratio"] == pytest.approx(5.0)


# --- concept drift ----------------------------------------------------------------------------------------


def summaries(drifted_at: int | None = 2) -> list[dict[str, Any]]:
    out = []
    for i, w in enumerate(W):
        out.append(
            {
                "window_start": w,
                "concept_drift": {
                    "status": "ok",
                    "error_rate": 0.13 + 0.02 * i,
                    "reference_error_rate": 0.13,
                    "rows": 400,
                    "conditional_score_effect": 0.17 if i == drifted_at else 0.01,
                    "drifted": i == drifted_at,
                    "drifted_features": ["income"] if i == drifted_at else [],
                    "min_effect": 0.02,
                },
            }
        )
    out.insert(0, {"window_start": "2026-11-16T00:00:00+00:00", "concept_drift": {"status": "no_data"}})
    return out


def test_the_concept_chart_draws_errors_the_outcome_change_its_threshold_and_the_windows_that_fired() -> None:
    points = concept.concept_points(summaries())
    fig = jsonable(concept.concept_over_time(points, threshold=0.02, events=[{"at": W[1], "title": "e"}]))
    names = [t["name"] for t in fig["data"]]
    assert names == [
        "Error rate",
        "Reference error rate",
        "Outcome change at the same score",
        "Threshold",
        "Concept drift",
        "Events",
    ]
    errors = fig["data"][0]["y"]
    assert errors[0] is None and errors[1:] == pytest.approx([0.13, 0.15, 0.17])  # no labels: a gap
    assert fig["data"][3]["y"] == [0.02, 0.02]
    assert fig["data"][4]["x"] == [W[2]]


def test_the_concept_chart_without_outcomes_says_so() -> None:
    fig = concept.concept_over_time(concept.concept_points([{"window_start": W[0]}]))
    assert fig["data"] == [] and "No labelled outcomes yet" in fig["layout"]["annotations"][0]["text"]


def test_breakdown_figures_take_the_threshold_the_engine_stored() -> None:
    series = summaries()
    series[-1]["concept_drift"]["min_effect"] = 0.05
    figs = breakdowns.breakdown_figures(series=series, results={"data_drift": drift_section()}, events=[])
    threshold = next(t for t in figs["concept"]["data"] if t["name"] == "Threshold")
    assert threshold["y"] == [0.05, 0.05]
    assert figs["segments"]["data"] and figs["segment_mix"]["data"]


def test_the_concept_table_lists_labelled_windows_newest_first() -> None:
    table = breakdown_tables.concept_table(concept.concept_points(summaries()))
    assert [r["window"] for r in table.rows] == list(reversed(W))
    assert table.rows[0]["drifted"] and table.rows[0]["features"] == "income"


def test_the_concept_table_says_which_test_fired_and_which_score_bands_moved() -> None:
    series = summaries()
    series[-1]["concept_drift"]["tests_fired"] = ["per_bin"]
    series[-1]["concept_drift"]["conditional_score_moved"] = [
        {"score_band": "0.6 to 0.7", "reference_rate": 0.09, "window_rate": 0.18, "window_n": 1234}
    ]
    table = breakdown_tables.concept_table(concept.concept_points(series))
    assert table.rows[0]["found_by"] == "one bin on its own (Holm)"
    assert table.rows[0]["bands"] == "0.6 to 0.7: 9.0% → 18.0% of 1,234"
    assert table.rows[1]["found_by"] == "" and table.rows[1]["bands"] == ""  # older results: blank


# --- the weekly report ------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a Thursday of ISO week 48


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (None, "2026-W47"),
        ("", "2026-W47"),
        ("2026-W47", "2026-W47"),
        (" 2026-W01 ", "2026-W01"),
        ("2026-W48", "2026-W48"),
    ],
)
def test_a_week_is_an_iso_week_and_defaults_to_the_last_complete_one(value: str | None, label: str) -> None:
    week = reports.parse_week(value, NOW)
    assert week.label == label
    assert week.start.weekday() == 0 and (week.end - week.start).days == 7


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("2026-47", "must look like 2026-W07"),
        ("last week", "must look like"),
        ("2026-W54", "2026 has no ISO week 54"),
        ("2026-W00", "no ISO week 0"),
        ("2027-W03", "has not started yet"),
    ],
)
def test_a_bad_week_is_refused_with_what_is_wrong(value: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        reports.parse_week(value, NOW)


def test_the_week_rolls_performance_up_by_the_rows_behind_each_window() -> None:
    series = [
        {
            "rows": 100,
            "performance": {
                "status": "ok",
                "labelled": 100,
                "metrics": {"accuracy": {"value": 0.9, "reference": 0.88}},
            },
        },
        {
            "rows": 100,
            "performance": {
                "status": "ok",
                "labelled": 300,
                "metrics": {"accuracy": {"value": 0.8, "reference": 0.88}},
            },
        },
        {
            "rows": 100,
            "performance": {"status": "ok", "labelled": 5, "metrics": {"accuracy": {"value": 0.1}}},
        },  # noise
    ]
    p = reports.performance_rollup(series, "accuracy")
    assert p["realised"]["value"] == pytest.approx(0.825) and p["realised"]["labelled"] == 400
    assert p["estimated"]["value"] is None and p["reference"] == 0.88


def test_the_weekly_story_names_features_segment_money_and_actions_in_plain_words() -> None:
    drifted = reports.drifted_features(
        [
            {"feature": "channel", "drifted": True},
            {"feature": "channel", "drifted": True},
            {"feature": "income", "drifted": True},
            {"feature": "age", "drifted": False},
        ]
    )
    assert drifted == [("channel", 2), ("income", 1)]
    where = reports.segment_findings(drift_section())
    assert where[0] == "The change concentrates in customer segment = new (42% of requests), for channel."
    assert where[1] == "The share of customer segment 'new' rose from 30% to 42% of requests."
    changed = reports.what_changed(
        windows=7, drifted=drifted, segments=where, concept_windows=1, quality_windows=0
    )
    assert "channel (2 of 7 windows)" in changed and "customer segment = new" in changed
    assert "outcomes no longer followed the model's scores" in changed
    impact = Impact("EUR", 250_000.0, 1000, 2, 5, reference_total=300_000.0)
    matters = reports.why_it_matters(
        perf={"realised": {"value": 0.82, "labelled": 900}, "estimated": {"value": None}, "reference": 0.85},
        task="binary_classification",
        impact=impact,
        rows=1000,
    )
    assert "Accuracy was 82% against 85% on the reference" in matters
    assert "€250,000" in matters and "€50,000 less than the reference's rate" in matters
    happened = reports.what_happened(
        events_opened=[{}, {}],
        events_closed=[{}],
        incidents_opened=[{}],
        incidents_resolved=[],
        mode_changes=[
            {"at": NOW, "to": "human_review", "actor": "policy:1", "reason": "share_drifted > 0.2"}
        ],
        actions=12,
        serving_mode="human_review",
    )
    assert "2 events opened and 1 closed" in happened and "1 incident opened and 0 resolved" in happened
    assert "Serving changed on 26 Nov: routing decisions to human review (by a monitoring policy)" in happened
    assert "12 actions" in happened
    assert not JARGON.search(" ".join([changed, matters, happened]))


def test_a_quiet_week_says_so() -> None:
    assert reports.what_changed(windows=0, drifted=[], segments=[], concept_windows=0, quality_windows=0) == (
        "No window of this week was analysed."
    )
    happened = reports.what_happened(
        events_opened=[],
        events_closed=[],
        incidents_opened=[],
        incidents_resolved=[],
        mode_changes=[],
        actions=0,
        serving_mode="normal",
    )
    assert happened == "No events, incidents or actions this week."


def test_the_value_chart_splits_measured_and_estimated_windows() -> None:
    fig = jsonable(
        report.value_by_window([(W[0], 10.0, "realised"), (W[1], -5.0, "estimated")], currency="EUR")
    )
    assert [t["y"] for t in fig["data"]] == [[10.0, None], [None, -5.0]]
    assert report.value_by_window([], currency="EUR")["data"] == []


def test_the_report_figures_are_few_and_plain() -> None:
    figs = report.report_figures(
        series=[],
        cells=[],
        windows=[],
        per_window=[],
        events=[],
        task="binary_classification",
        currency="EUR",
    )
    assert sorted(figs) == ["heatmap", "performance", "value", "volume"]
    for fig in figs.values():
        jsonable(fig)


def test_the_concept_chart_says_when_the_outcome_change_is_not_measured_yet() -> None:
    series = summaries(drifted_at=None)
    for s in series[1:]:
        s["concept_drift"]["conditional_score_effect"] = None
    fig = concept.concept_over_time(concept.concept_points(series))
    assert [t["name"] for t in fig["data"]] == ["Error rate", "Reference error rate"]
    assert "once score bands have enough outcomes" in fig["layout"]["annotations"][0]["text"]
