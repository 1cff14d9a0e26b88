"""The health rule, business impact and page story, number formatting and page tables: pure, no database."""

import doctest
from typing import Any

import pytest

from drift import briefing, formatting
from drift.briefing import ACT, HEALTHY, WATCH, business_impact, health_status
from drift.page_tables import model as model_tables
from drift.page_tables import quality_table

VALUES = {"tp": 2400.0, "fp": -350.0, "tn": 350.0, "fn": -2400.0}


@pytest.mark.parametrize("module", [briefing, formatting, model_tables])
def test_the_docstring_examples_hold(module: Any) -> None:
    assert doctest.testmod(module).failed == 0


def drift(share: float, multivariate: bool = False) -> dict[str, Any]:
    return {"status": "ok", "share_drifted": share, "multivariate_drifted": multivariate}


def accuracy(value: float, reference: float = 0.85, degraded: bool = True) -> dict[str, Any]:
    return {
        "status": "ok",
        "metrics": {"accuracy": {"value": value, "reference": reference}},
        "degraded": ["accuracy"] if degraded else [],
    }


# --- the health rule --------------------------------------------------------------------------------


def test_a_quiet_window_is_healthy() -> None:
    health = health_status({"data_drift": drift(0.0)})
    assert health.status == HEALTHY and health.reasons


@pytest.mark.parametrize(
    ("summary", "kwargs", "status", "says"),
    [
        ({"data_drift": drift(0.3)}, {}, ACT, "30% of the inputs changed"),
        ({"data_drift": drift(0.1)}, {}, WATCH, "10% of the inputs changed"),
        ({"data_drift": drift(0.0, multivariate=True)}, {}, WATCH, "move together"),
        ({"estimated_performance": accuracy(0.79)}, {}, ACT, "6.0 points worse"),
        ({"estimated_performance": accuracy(0.83)}, {}, WATCH, "2.0 points worse"),
        ({"performance": accuracy(0.70), "estimated_performance": accuracy(0.84)}, {}, ACT, "(measured)"),
        ({"data_quality": {"alerts": ["late"]}}, {}, WATCH, "1 data-quality check alerting"),
        (
            {"operations": {"errors_status": "alert", "error_rate": 0.04}},
            {},
            WATCH,
            "4% of predictions failed",
        ),
        ({"operations": {"latency_ms": {"slower": True}}}, {}, WATCH, "slower"),
        ({"fairness": {"flags": ["age band"]}}, {}, WATCH, "differ between groups"),
        ({}, {"serving_mode": "paused"}, ACT, "paused"),
        ({}, {"open_events": [{"severity": "critical"}]}, ACT, "1 critical event open"),
        ({}, {"open_events": [{"severity": "warning"}] * 2}, WATCH, "2 events open"),
        ({}, {"stale": True}, WATCH, "out of date"),
        (None, {}, WATCH, "No finished analysis"),
    ],
)
def test_the_health_rule(summary: Any, kwargs: dict[str, Any], status: str, says: str) -> None:
    health = health_status(summary, **kwargs)
    assert health.status == status
    assert any(says in r for r in health.reasons), health.reasons


def test_an_error_metric_acts_on_a_relative_rise() -> None:
    perf = {"status": "ok", "metrics": {"mae": {"value": 130.0, "reference": 100.0}}, "degraded": ["mae"]}
    assert health_status({"performance": perf}, task="regression").status == ACT
    perf["metrics"]["mae"]["value"] = 110.0
    assert health_status({"performance": perf}, task="regression").status == WATCH


def test_the_rule_words_name_every_status() -> None:
    assert [s for s, _ in briefing.RULE] == [ACT, WATCH, HEALTHY]


# --- business impact --------------------------------------------------------------------------------


def labelled(coverage: float, per_prediction: float) -> dict[str, Any]:
    return {"status": "ok", "coverage": coverage, "business": {"per_prediction": per_prediction}}


def estimated(tp: float, fp: float, tn: float, fn: float) -> dict[str, Any]:
    return {"status": "ok", "expected_confusion": {"tp": tp, "fp": fp, "tn": tn, "fn": fn}}


def test_impact_uses_labels_when_they_cover_the_window_and_the_estimate_otherwise() -> None:
    summaries = [
        {"window_start": "a", "rows": 100, "performance": labelled(0.9, 200.0)},
        {
            "window_start": "b",
            "rows": 100,
            "performance": labelled(0.1, 999.0),
            "estimated_performance": estimated(1, 1, 8, 0),
        },
        {"window_start": "c", "rows": 0, "estimated_performance": estimated(1, 0, 0, 0)},
    ]
    impact = business_impact(summaries, values=VALUES, currency="EUR", reference_per_prediction=250.0)
    per_estimated = (2400 - 350 + 8 * 350) / 10
    assert impact is not None
    assert impact.total == pytest.approx(100 * 200 + 100 * per_estimated)
    assert (impact.realised_windows, impact.estimated_windows, impact.rows) == (1, 1, 200)
    assert impact.reference_total == 250.0 * 200
    assert impact.difference == pytest.approx(impact.total - 50_000)
    assert "1 window from labelled outcomes, 1 estimated" in impact.basis


def test_impact_is_unknown_without_values_or_results() -> None:
    assert (
        business_impact(
            [{"rows": 10, "estimated_performance": estimated(1, 1, 1, 1)}], values={}, currency="EUR"
        )
        is None
    )
    assert business_impact([], values=VALUES, currency="EUR") is None
    assert "not known yet" in briefing.impact_sentence(None, 7)


def test_the_impact_sentence_states_the_basis_and_the_gap_in_money() -> None:
    impact = briefing.Impact("EUR", 80_000.0, 400, 0, 4, 100_000.0)
    text = briefing.impact_sentence(impact, 4)
    assert "€80,000" in text and "estimated from the model's confidence" in text
    assert "€20,000 less than the reference's rate" in text


def test_a_regression_model_counts_its_error_cost() -> None:
    perf = {"status": "ok", "coverage": 1.0, "business": {"cost_per_prediction": 12.5}}
    impact = business_impact([{"rows": 10, "performance": perf}], values={}, currency="USD")
    assert impact is not None and impact.total == -125.0


# --- the story ----------------------------------------------------------------------------------------


def test_the_story_splits_changes_from_consequences_and_next_steps() -> None:
    results = {
        "data_drift": {
            "status": "ok",
            "features": [
                {
                    "feature": "income",
                    "type": "numeric",
                    "drifted": True,
                    "effect_size": 0.5,
                    "threshold": 0.1,
                    "summary": {"reference_mean": 50000.0, "current_mean": 41000.0, "mean_change": -0.18},
                }
            ],
        },
        "estimated_performance": {
            "status": "ok",
            "metrics": {"accuracy": {"value": 0.8, "reference": 0.85, "degraded": True}},
        },
    }
    story = briefing.story(
        results,
        impact_text="Worth €1.",
        kpi="Keep defaults low.",
        serving={"mode": "human_review", "reason": "income shifted"},
        open_events=[{"title": "Income changed", "status": "detected"}],
        open_incidents=[{"severity": "SEV2", "title": "Bad feed"}],
        owner="Risk team",
        schedule="Next run tomorrow.",
    )
    assert story["what_changed"].startswith("Income changed against the reference")
    assert (
        "accuracy is estimated at 80%" in story["why_it_matters"] and "Worth €1." in story["why_it_matters"]
    )
    assert "Keep defaults low." in story["why_it_matters"]
    nxt = story["what_next"]
    assert "routing decisions to human review (income shifted)" in nxt and "Income changed (detected)" in nxt
    assert "SEV2 Bad feed" in nxt and "Risk team owns this model." in nxt and "Next run tomorrow." in nxt


def test_with_nothing_open_the_next_steps_say_so() -> None:
    story = briefing.story({}, impact_text="", owner="", schedule="")
    assert story["what_next"] == "No open events: nothing is waiting on anyone."


def test_first_sentence_keeps_decimals() -> None:
    text = "Average utilisation rose 17% (0.326 vs 0.279). Traffic was high."
    assert briefing.first_sentence(text) == "Average utilisation rose 17% (0.326 vs 0.279)."


# --- formatting ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (801550.2, "EUR", "€801,550"),
        (-37160, "EUR", "-€37,160"),
        (2.5e6, "USD", "$2.5M"),
        (3.456, "GBP", "£3.46"),
        (None, "EUR", "—"),
        (12, "SEK", "SEK 12"),
        (-0.001, "EUR", "€0"),
        (0, "EUR", "€0"),
    ],
)
def test_money(value: Any, currency: str, text: str) -> None:
    assert formatting.money(value, currency) == text


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (45.2, "45 ms"),
        (1200, "1.2 s"),
        (42_000, "42 s"),
        (185_000, "3 min 5 s"),
        (7_500_000, "2 h 5 min"),
        (3 * 86_400_000, "3 days"),
        (float("nan"), "—"),
    ],
)
def test_durations(ms: float, text: str) -> None:
    assert formatting.duration_ms(ms) == text


def test_shares_points_and_counts() -> None:
    assert formatting.percent(0.234) == "23%" and formatting.percent(None) == "—"
    assert formatting.points(-0.043) == "-4.3 pts" and formatting.count(1234.6) == "1,235"


# --- tables -------------------------------------------------------------------------------------------


def test_the_quality_table_puts_alerts_first_and_can_keep_only_them() -> None:
    results = {
        "data_quality": {
            "late": {"status": "ok", "observed": 0.0, "center": 0.0, "upper": 0.01},
            "volume": {"status": "alert", "observed": 600.0, "center": 22.0, "upper": 47.0},
            "features": {"income": {"missing": {"status": "alert", "observed": 0.03, "center": 0.0}}},
        }
    }
    table = quality_table(results)
    assert [r["status"] for r in table.rows] == ["alert", "alert", "ok"]
    assert [r["check"] for r in quality_table(results, alerts_only=True).rows] == [
        "Traffic volume",
        "Missing values",
    ]
    assert table.rows[0]["_counts"] is True  # volume is rows, not a share
