"""Narratives on fixed result dicts: what changed, by how much, where; plain words, no jargon."""

import doctest
import re

import pytest

from drift import narratives
from drift.engine.run import analyse, empty_results
from drift.narratives import narrate, number, pct
from tests.drift.engine.support import scenario_input

JARGON = re.compile(r"\b(PSI|KS|p-value|p=|Wasserstein|Jensen|chi|Benjamini|ECE|AUC|ADWIN|DDM)\b", re.I)


def numeric(feature, ref, cur, *, segments=None, effect=0.5):
    entry = {
        "feature": feature,
        "type": "numeric",
        "drifted": True,
        "testable": True,
        "effect_size": effect,
        "threshold": 0.1,
        "summary": {"reference_mean": ref, "current_mean": cur, "mean_change": (cur - ref) / abs(ref)},
    }
    if segments:
        entry["segments"] = segments
    return entry


def drift(*features, multivariate=False):
    return {
        "data_drift": {"status": "ok", "features": list(features), "multivariate": {"drifted": multivariate}}
    }


def test_its_docstring_examples_hold():
    assert doctest.testmod(narratives).failed == 0


def test_it_says_which_feature_moved_by_how_much_against_the_reference():
    text = narrate(drift(numeric("income", 50_300, 41_200)))

    assert text == (
        "Income changed against the reference. "
        "Average income fell 18% against the reference (41,200 vs 50,300)."
    )


def test_it_names_a_new_category_and_its_share():
    entry = {
        "feature": "channel",
        "type": "categorical",
        "drifted": True,
        "effect_size": 0.3,
        "threshold": 0.05,
        "summary": {"new_values": {"partner_api": 0.23}, "new_share": 0.23, "shares": []},
    }

    assert "A new channel value 'partner_api' now makes up 23% of requests." in narrate(drift(entry))


def test_it_names_the_segment_where_the_change_concentrates():
    segments = [
        {
            "by": "region",
            "concentrated_in": "south",
            "segments": [
                {"value": "south", "share": 0.3, "effect": 0.9},
                {"value": "north", "share": 0.7, "effect": 0.05},
            ],
        }
    ]
    text = narrate(drift(numeric("income", 50_000, 45_000, segments=segments)))

    assert "The change in income concentrates in region = south (30% of requests)." in text


def _mix_segments(*, explains: bool, concentrated_in=None):
    return [
        {
            "by": "customer_segment",
            "concentrated_in": concentrated_in,
            "mix": {
                "moved": True,
                "value": "new",
                "reference_share": 0.30,
                "current_share": 0.42,
                "explained": 0.8 if explains else 0.1,
            },
            "mix_explains": explains,
            "segments": [
                {"value": "new", "share": 0.42, "effect": 0.2, "significant": True},
                {"value": "premium", "share": 0.08, "effect": 0.4, "significant": False},
            ],
        }
    ]


def test_a_change_that_comes_from_the_segment_mix_names_the_segment_whose_share_moved():
    income = numeric("income", 44_000, 41_800, segments=_mix_segments(explains=True))
    loans = numeric("loan_amount", 12_500, 11_900, segments=_mix_segments(explains=True), effect=0.4)

    text = narrate(drift(income, loans))

    assert (
        "Most of the change in income comes from the mix: customer segment 'new' rose from 30% to 42% "
        "of requests." in text
    )
    assert "Most of the change in loan amount comes from that shift in customer segment." in text
    assert "concentrates" not in text


def test_a_segment_mix_that_moved_is_told_once_even_when_it_explains_little():
    segments = _mix_segments(explains=False, concentrated_in="new")
    text = narrate(drift(numeric("income", 44_000, 41_800, segments=segments)))

    assert "The change in income concentrates in customer segment = new (42% of requests)." in text
    assert text.endswith("Customer segment 'new' rose from 30% to 42% of requests.")


def test_the_count_of_drifted_features_says_how_many_could_be_tested():
    untestable = {
        "feature": "age",
        "type": "numeric",
        "drifted": False,
        "testable": False,
        "explanation": "age: not testable, too few rows (36 non-null values in this window; 100 are needed).",
    }
    features = [numeric("income", 100.0, 120.0), numeric("debt", 1.0, 1.5), untestable]

    assert narrate(drift(*features)).startswith(
        "Income and debt changed against the reference (2 of 2 testable features)."
    )
    assert narrate(drift(untestable)) == (
        "This window is too small to compare with the reference: no feature has enough values to test."
    )


def test_the_largest_changes_come_first_and_at_most_three_are_detailed():
    features = [numeric(f"f{i}", 100.0, 100.0 + i, effect=0.1 * i) for i in range(1, 6)]

    text = narrate(drift(*features))

    assert text.startswith("F5, f4, f3 and 2 more changed against the reference (5 of 5 features).")
    assert "Average f5 rose 5%" in text and "f1 rose" not in text


def test_it_says_when_nothing_changed():
    entry = {"feature": "age", "type": "numeric", "drifted": False, "effect_size": 0.01, "threshold": 0.1}

    assert narrate(drift(entry)) == "No feature changed materially against the reference."


def test_a_joint_change_without_a_marginal_one_is_explained():
    entry = {"feature": "age", "type": "numeric", "drifted": False, "effect_size": 0.01, "threshold": 0.1}

    assert "the way features move together has changed" in narrate(drift(entry, multivariate=True))


def test_quality_performance_and_operations_notes():
    results = {
        "data_quality": {
            "status": "ok",
            "features": {
                "age": {"missing": {"status": "alert", "observed": 0.15, "center": 0.02, "rule": "reference"}}
            },
            "volume": {"status": "alert", "observed": 400, "center": 1_000},
        },
        "performance": {
            "status": "ok",
            "labelled": 1_200,
            "degraded": ["accuracy"],
            "metrics": {"accuracy": {"value": 0.84, "reference": 0.91}},
            "business": {"currency": "EUR", "per_prediction": 3.5, "reference_per_prediction": 5.0},
        },
        "operations": {
            "status": "ok",
            "error_rate": 0.05,
            "errors": {"status": "alert"},
            "latency_ms": {"p95": 240.0, "usual_p95": 80.0, "slower": True},
        },
    }

    text = narrate(results)

    assert "Missing values in age rose to 15% (2% in the reference)." in text
    assert "Traffic was 400 predictions, below the usual range (about 1,000)." in text
    assert "Accuracy fell from 91% on the reference to 84% (1,200 labelled predictions)." in text
    assert "each prediction is worth 3.5 EUR, against 5 on the reference" in text
    assert "95% of predictions took under 240 ms, against about 80 ms usually" in text
    assert "5% of predictions failed." in text


def test_an_empty_window_is_told_by_its_reason():
    assert narrate(empty_results("no_data", "No predictions of version 'v1' yesterday.")) == (
        "No predictions of version 'v1' yesterday."
    )


@pytest.mark.parametrize(
    "kind",
    [
        "stationary",
        "mean_shift",
        "new_category",
        "missing_burst",
        "concept_shift",
        "fairness_gap",
        "calibration_shift",
        "correlation_change",
    ],
)
def test_narratives_of_real_results_are_plain_words(kind):
    text = narrate(analyse(scenario_input(kind, n_reference=4_000, n_current=2_000)))

    assert text and not JARGON.search(text), text


def test_numbers_read_naturally():
    assert [number(x) for x in (41_213, 50_300.0, 0.01234, 5.0, 1_234_567)] == [
        "41,200",
        "50,300",
        "0.0123",
        "5",
        "1,230,000",
    ]
    assert [pct(x) for x in (0.234, 0.012, 0.05, 0.0)] == ["23%", "1.2%", "5%", "0%"]


def test_concept_drift_is_told_with_its_size_and_a_readable_time():
    section = {
        "status": "ok",
        "drifted": True,
        "given_score_drifted": True,
        "conditional": {"score": {"drifted": True, "effect": 0.17}},
        "drifted_features": [],
        "detectors": {"adwin": {"drifts": 1, "first_drift_at": "2026-11-20T14:57:03Z"}},
    }

    text = narrate({"concept_drift": section})

    assert "Outcomes no longer follow the model's scores as they did on the reference." in text
    assert "At the same score, the outcome rate moved by 17 percentage points on average." in text
    assert "(first around 14:57 UTC on 20 Nov)" in text
    assert not JARGON.search(text), text


def _moved(band: str, reference: float, window: float, **extra) -> dict:
    return {"score_band": band, "reference_rate": reference, "window_rate": window, **extra}


def test_the_score_bands_that_moved_are_told_with_their_rates_instead_of_the_average():
    section = {
        "status": "ok",
        "drifted": True,
        "given_score_drifted": True,
        "target": "positive",
        "positive_label": "default",
        "conditional": {
            "score": {
                "drifted": True,
                "effect": 0.012,
                "fired": ["per_bin"],
                "moved": [
                    _moved("0.6 to 0.7", 0.09, 0.18),
                    _moved("0.7 to 0.8", 0.2, 0.29),
                    _moved("x", 0, 1),
                ],
            }
        },
        "drifted_features": [],
    }

    text = narrate({"concept_drift": section})

    assert (
        "Among predictions scored 0.6 to 0.7, the default rate is now 18%, where the reference says 9%."
        in text
    )
    assert (
        "Among predictions scored 0.7 to 0.8, the default rate is now 29%, where the reference says 20%."
        in text
    )
    assert "scored x" not in text and "on average" not in text  # two bands at most; no average
    assert not JARGON.search(text), text


@pytest.mark.parametrize(
    ("target", "label", "band", "said"),
    [
        ("positive", "1", "below 0.05", "Among predictions scored below 0.05, the outcome rate is now"),
        ("error", "", "no score", "Among predictions without a score, the error rate is now"),
        (
            "large_error",
            "",
            "1,200 to 1,500",
            "Among predictions of 1,200 to 1,500, the share of large errors",
        ),
    ],
)
def test_what_moved_is_named_for_the_kind_of_model(target, label, band, said):
    section = {
        "status": "ok",
        "drifted": True,
        "given_score_drifted": True,
        "target": target,
        "positive_label": label,
        "conditional": {"score": {"drifted": True, "moved": [_moved(band, 0.1, 0.2)]}},
    }

    assert said in narrate({"concept_drift": section})


def test_without_a_moved_score_band_the_most_changed_features_cell_is_told():
    section = {
        "status": "ok",
        "drifted": True,
        "target": "positive",
        "positive_label": "1",
        "conditional": {
            "score": {"drifted": False, "moved": []},
            "channel": {
                "drifted": True,
                "effect": 0.05,
                "moved": [_moved("0.3 to 0.4", 0.1, 0.3, feature_bin="partner")],
            },
        },
        "drifted_features": ["channel"],
    }

    text = narrate({"concept_drift": section})

    assert "most of all across channel." in text
    assert "Among predictions with channel partner scored 0.3 to 0.4, the outcome rate is now 30%" in text
