"""The decision threshold and the low-confidence band around it (drift.decisions). No database."""

import doctest

import pytest

from drift import decisions
from drift.decisions import decision_threshold, low_confidence_band


def test_the_worked_examples_in_the_docstring_hold() -> None:
    assert doctest.testmod(decisions).failed == 0


def test_the_break_even_score_follows_the_outcome_values() -> None:
    demo = {"tp": 2400.0, "fp": -350.0, "tn": 350.0, "fn": -2400.0}
    assert decision_threshold(demo) == pytest.approx(700 / 5500)
    assert decision_threshold({"tp": 1.0, "fp": -1.0, "tn": 1.0, "fn": -1.0}) == 0.5
    # values that never favour flagging (or clearing) have no break-even score: the usual 0.5
    assert decision_threshold({"tp": -1.0, "fp": -1.0, "tn": 1.0, "fn": 1.0}) == 0.5


def test_the_band_stays_inside_zero_and_one_around_the_threshold() -> None:
    low, high = low_confidence_band(0.127)
    assert 0 < low < 0.127 < high < 0.25
    assert low_confidence_band(0.98) == pytest.approx((0.97, 0.99))
