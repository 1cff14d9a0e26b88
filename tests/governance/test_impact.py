"""What an incident cost and how fast people responded: the pure arithmetic. No database."""

import pytest

from governance.impact import confusion_counts, durations, per_prediction, value_lost, window_value

VALUES = {"tp": 100.0, "fp": -50.0, "tn": 0.0, "fn": -100.0}


def test_confusion_counts_read_the_engines_prediction_by_label_shape():
    counts = confusion_counts({"1": {"1": 30, "0": 10}, "0": {"0": 50, "1": 10}}, "1")

    assert counts == {"tp": 30.0, "fp": 10.0, "tn": 50.0, "fn": 10.0}
    assert per_prediction(counts, VALUES) == 15.0


def test_a_model_without_outcome_values_has_no_value_per_prediction():
    assert per_prediction({"tp": 3}, {"tp": None, "fp": None}) is None
    assert per_prediction({}, VALUES) is None


def test_labels_must_cover_half_a_window_before_its_value_counts_as_realised():
    thin = {"performance": {"status": "ok", "coverage": 0.2, "business": {"per_prediction": 9.0}}}
    estimated = {"status": "ok", "expected_confusion": {"tp": 10, "fp": 0, "tn": 0, "fn": 0}}

    assert window_value(thin, VALUES) is None
    assert window_value({**thin, "estimated_performance": estimated}, VALUES) == (100.0, "estimated")


def test_value_lost_sums_windows_against_the_reference_and_says_why_when_it_cannot():
    windows = [
        {"rows": 100, "performance": {"status": "ok", "coverage": 1.0, "business": {"per_prediction": 5.0}}},
        {"rows": 50, "performance": {"status": "no_data"}},  # nothing to value: left out
    ]

    out = value_lost(windows, values=VALUES, reference_per_prediction=15.0, currency="EUR")

    assert out["total"] == 1_000.0 and [w["rows"] for w in out["windows"]] == [100]
    none = value_lost(windows, values=VALUES, reference_per_prediction=None, currency="EUR")
    assert none["total"] is None and "reference" in none["reason"]


@pytest.mark.parametrize(
    "moments, expected",
    [
        (
            {"onset": 0, "detected": 60, "acknowledged": None, "mitigated": 60, "resolved": None},
            (60, None, 0, None),
        ),
        (
            {"onset": None, "detected": 10, "acknowledged": 5, "mitigated": None, "resolved": 20},
            (None, 0, None, 10),
        ),
    ],
)
def test_durations_are_seconds_never_negative_and_unknown_when_a_moment_is_missing(moments, expected):
    out = durations(**moments)

    assert (
        out["time_to_detect"],
        out["time_to_acknowledge"],
        out["time_to_mitigate"],
        out["time_to_resolve"],
    ) == expected
