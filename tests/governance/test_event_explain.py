"""An event in plain language (governance.explain): every signal kind reads as a sentence without
statistical jargon, and the event's state follows. No database."""

import doctest
import re

import pytest

from governance import explain
from governance.explain import explain_event, signal_value, what_was_seen

JARGON = re.compile(r"\bPSI\b|\bKS\b|p-value|wasserstein|jensen|None", re.IGNORECASE)


def test_the_worked_examples_in_the_docstring_hold() -> None:
    assert doctest.testmod(explain).failed == 0


@pytest.mark.parametrize(
    ("signal", "value", "threshold", "says"),
    [
        ("data_drift.share_drifted", 0.25, 0.2, "A share of the inputs (25%) changed"),
        (
            "data_drift.feature.income",
            0.31,
            0.1,
            "The input 'income' moved away from the reference data by 0.31",
        ),
        ("data_drift.multivariate", 0.7, 0.55, "The inputs changed together"),
        (
            "data_quality.missing.age",
            0.12,
            0.05,
            "12% of missing values in 'age'; the policy allows up to 5%",
        ),
        ("data_quality.late", 0.3, None, "30% of records that arrived late"),
        ("data_quality.volume", 120, None, "left its usual range (120 predictions)"),
        ("performance.accuracy", 0.71, 0.86, "Measured accuracy is 0.71 against 0.86 on the reference data"),
        ("estimated_performance.auc", 0.7, None, "Estimated auc is 0.7"),
        (
            "calibration.ece",
            0.08,
            0.05,
            "Predicted probabilities match real outcomes less well by 8% on average",
        ),
        ("fairness.gender.demographic_parity_ratio", 0.7, 0.8, "the policy expects at least 0.8"),
        ("concept_drift.adwin", 2, 0, "changed pattern (2 times)"),
        ("operations.latency_p95", 950, 400, "95 in 100 took up to 950 ms; the policy allows up to 400 ms"),
        ("operations.error_rate", 0.07, 0.05, "7% of requests failed"),
        ("not.a.signal", 3, None, "The signal 'not.a.signal' reached 3"),
    ],
)
def test_each_signal_reads_as_a_plain_sentence(
    signal: str, value: float, threshold: float | None, says: str
) -> None:
    text = what_was_seen(signal, value, threshold)
    assert says in text, text
    assert not JARGON.search(text), text


def test_an_unknown_value_still_reads() -> None:
    assert (
        what_was_seen("data_drift.share_drifted", None, None)
        == "Some of the inputs changed against the reference data"
    )


@pytest.mark.parametrize(
    ("active", "status", "says"),
    [
        (True, "detected", "the latest analysis still shows it. Nobody has acknowledged it yet."),
        (
            False,
            "investigating",
            "no longer shows it, so it waits for a person to close it. Someone is investigating",
        ),
        (False, "resolved", "no longer shows it. It is resolved."),
    ],
)
def test_the_state_of_the_event_follows_what_was_seen(active: bool, status: str, says: str) -> None:
    text = explain_event(
        signal="operations.error_rate",
        value=0.07,
        threshold=0.05,
        windows=1,
        breach_active=active,
        status=status,
    )
    assert "Seen in 1 analysis window," in text and says in text, text


@pytest.mark.parametrize(
    ("signal", "value", "shown"),
    [
        ("data_drift.share_drifted", 0.7857142857142857, "79%"),
        ("data_quality.missing.income", 0.01, "1%"),
        ("data_quality.volume", 1336, "1,336"),
        ("operations.error_rate", 0.04059, "4.1%"),
        ("operations.latency_p95", 950, "950 ms"),
        ("data_drift.feature.income", 0.12793, "0.128"),
        ("estimated_performance.accuracy", 0.8116, "0.812"),  # as its sentence says it
        ("not.a.signal", 3, "3"),
        ("data_drift.share_drifted", None, "—"),
    ],
)
def test_a_signal_value_reads_in_the_unit_of_its_sentence(
    signal: str, value: float | None, shown: str
) -> None:
    assert signal_value(signal, value) == shown
