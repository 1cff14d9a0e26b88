"""The concept-drift section names the score bands whose outcome rate moved, and the narrative says so."""

import dataclasses
import doctest

import numpy as np
import pytest

from drift.engine import concept_moves
from drift.engine.concept import concept_section
from drift.engine.concept_moves import band_text, moved_cells, readable_bin, score_band
from drift.narratives import narrate
from drift.scenarios import make_scenario
from tests.drift.engine.support import window_input


def test_its_docstring_examples_hold():
    assert doctest.testmod(concept_moves).failed == 0


def test_score_bands_read_as_ranges_with_open_ends_and_a_missing_score():
    edges = [0.1, 0.25, 0.6]
    assert [band_text(*score_band(code, edges)) for code in range(5)] == [
        "below 0.1",
        "0.1 to 0.25",
        "0.25 to 0.6",
        "0.6 or more",
        "no score",
    ]
    assert band_text(1200.0, 1500.0) == "1,200 to 1,500"
    assert [readable_bin(b) for b in ("< 0", "0 to 1", "> 2", "null", "partner_api")] == [
        "below 0",
        "0 to 1",
        "above 2",
        "missing",
        "partner_api",
    ]


def test_a_features_cells_name_their_feature_bin_and_keep_the_largest_moves_first():
    # Two feature bins x (two deciles + missing score): cells 0-2 are bin "a", 3-5 bin "b".
    n = [100] * 6
    moves = moved_cells(
        [1, 4],
        n,
        [10, 20, 0, 10, 20, 0],
        n,
        [10, 25, 0, 10, 50, 0],
        edges=[0.5],
        feature_bins=["a", "b", "null"],
    )
    assert [(m["feature_bin"], m["score_band"]) for m in moves] == [
        ("b", "0.5 or more"),
        ("a", "0.5 or more"),
    ]
    assert moves[0]["window_rate"] == pytest.approx(0.5) and moves[0]["reference_rate"] == pytest.approx(0.2)


def _one_band_changed(seed: int, shift: float) -> tuple[dict, tuple[float, float]]:
    """A quiet scenario where the window's outcomes in the reference's 7th score decile are redrawn
    `shift` more likely; the inputs and every other band stay as they were."""
    sc = make_scenario("stationary", n_reference=10_000, n_current=10_000, seed=seed)
    low, high = np.quantile(sc.reference.score, [0.6, 0.7])
    cur = sc.current
    band = (cur.score >= low) & (cur.score < high)
    redrawn = np.random.default_rng(seed).random(cur.n) < np.clip(cur.p_true + shift, 0, 1)
    y = np.where(band, redrawn, cur.y).astype(np.int64)
    out = concept_section(window_input(dataclasses.replace(sc, current=dataclasses.replace(cur, y=y))))
    return out, (float(low), float(high))


def test_a_change_in_one_score_band_is_found_and_that_band_is_named_with_its_rates():
    out, (low, high) = _one_band_changed(seed=6, shift=0.25)

    score = out["conditional"]["score"]
    assert out["drifted"] and out["given_score_drifted"] and "per_bin" in score["fired"]
    assert "per_bin" in out["tests_fired"]
    top = score["moved"][0]
    assert top["window_rate"] - top["reference_rate"] == pytest.approx(0.25, abs=0.08)
    assert (top["score_low"], top["score_high"]) == pytest.approx((low, high))
    assert top["window_n"] > 300  # the labelled rows the sketches keep of the band's ~1,000

    text = narrate({"concept_drift": out})
    assert f"Among predictions scored {top['score_band']}, the outcome rate is now" in text
    assert "where the reference says" in text


def test_a_quiet_window_moves_no_band():
    out, _ = _one_band_changed(seed=7, shift=0.0)

    assert not out["drifted"] and out["tests_fired"] == []
    assert all(c["moved"] == [] for c in out["conditional"].values())
