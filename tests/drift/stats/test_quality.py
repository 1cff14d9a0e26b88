"""Data-quality control limits, judged by seeded simulations of windows."""

import doctest

import numpy as np
import pytest

from drift.stats import quality
from drift.stats.quality import cusum, judge_shares, share_check, volume_check

HISTORY = 30


def test_its_docstring_examples_hold():
    assert doctest.testmod(quality).failed == 0


def alert_rate(counts: np.ndarray, totals: np.ndarray, baseline: float | None = None) -> float:
    """Judge every window against the HISTORY windows before it, as the engine does."""
    alerts = [
        share_check(
            "share", counts[t - HISTORY : t], totals[t - HISTORY : t], counts[t], totals[t], baseline=baseline
        ).status
        == "alert"
        for t in range(HISTORY, len(counts))
    ]
    return float(np.mean(alerts))


@pytest.mark.parametrize(
    ("rows", "share"), [(1_000, 0.02), (200, 0.02), (20_000, 0.02), (500, 0.3), (100, 0.0)]
)
def test_binomial_noise_at_the_nominal_share_stays_quiet(rows, share):
    rng = np.random.default_rng(rows)
    counts = rng.binomial(rows, share, size=1_030)
    assert alert_rate(counts, np.full(counts.size, rows)) <= 0.01


def test_overdispersed_but_stable_shares_stay_quiet():
    # Real shares wander between windows more than binomial noise; Laney's factor absorbs it.
    rng = np.random.default_rng(1)
    shares = rng.beta(40, 1_960, size=1_030)  # mean 2 %, sd ~0.3 points window to window
    counts = rng.binomial(5_000, shares)
    assert alert_rate(counts, np.full(counts.size, 5_000)) <= 0.01


def test_varying_window_sizes_stay_quiet():
    rng = np.random.default_rng(2)
    totals = rng.integers(100, 5_000, size=1_030)
    assert alert_rate(rng.binomial(totals, 0.05), totals) <= 0.01


def test_missing_share_from_two_to_six_percent_alerts_at_once():
    rng = np.random.default_rng(3)
    caught = 0
    for _ in range(200):
        history = rng.binomial(1_000, 0.02, size=HISTORY)
        check = share_check("missing share", history, [1_000] * HISTORY, rng.binomial(1_000, 0.06), 1_000)
        caught += check.status == "alert"
    assert caught >= 198
    assert check.rule == "p_chart" and check.center == pytest.approx(0.02, abs=0.005)
    assert "missing share" in check.reason and "above the control limit" in check.reason


def test_a_small_persistent_shift_is_caught_by_the_cusum():
    rng = np.random.default_rng(4)
    history = list(rng.binomial(1_000, 0.02, size=HISTORY))
    windows = 0
    while windows < 40:
        windows += 1
        count = rng.binomial(1_000, 0.027)  # +0.7 points: inside the 3-sigma limit most windows
        check = share_check("late share", history[-HISTORY:], [1_000] * HISTORY, count, 1_000, baseline=0.02)
        if check.status == "alert":
            break
        history.append(count)
    assert check.status == "alert" and check.rule == "cusum" and windows <= 20


def test_an_empty_window_or_no_history_is_ok_and_says_why():
    assert share_check("x", [], [], 5, 10).reason == "no history yet"
    assert share_check("x", [1], [10], 0, 0).reason == "no rows in the window"
    assert share_check("x", [], [], 90, 100, baseline=0.01).status == "alert"  # the baseline suffices


def test_fewer_missing_values_is_never_a_fault():
    assert share_check("missing share", [50] * 20, [1_000] * 20, 0, 1_000).status == "ok"


def test_judge_shares_reads_count_total_pairs():
    assert judge_shares([(20, 1_000)] * 10, (21, 1_000), name="m").status == "ok"


# --- CUSUM ---------------------------------------------------------------------------------------


def test_cusum_follows_the_tabular_recursion():
    # Montgomery's textbook recursion: S_t = max(0, S_{t-1} + z_t - k).
    z = [0.2, 1.8, 2.1, -0.4, 2.6, 1.0]
    s, path = 0.0, []
    for value in z:
        s = max(0.0, s + value - 0.5)
        path.append(s)
    assert cusum(z, h=10).statistic == pytest.approx(path[-1])
    result = cusum(z, h=4.0)
    assert result.first_alarm == int(np.argmax(np.array(path) > 4.0))


def test_cusum_in_control_run_length_is_long():
    rng = np.random.default_rng(5)
    alarms = sum(cusum(rng.standard_normal(100)).first_alarm is not None for _ in range(200))
    assert alarms / 200 <= 0.15  # ARL0 ~ 900 windows: ~10 % of 100-window runs see one alarm


# --- volume --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mean", "extra_noise"), [(1_000, 0.0), (40, 0.0), (20_000, 0.1)])
def test_stable_volume_stays_quiet(mean, extra_noise):
    rng = np.random.default_rng(mean)
    level = (
        mean * rng.gamma(1 / extra_noise**2, extra_noise**2, 1_030) if extra_noise else np.full(1_030, mean)
    )
    totals = rng.poisson(level)
    alerts = [
        volume_check(totals[t - HISTORY : t], totals[t]).status == "alert" for t in range(HISTORY, 1_030)
    ]
    assert np.mean(alerts) <= 0.01


def test_a_traffic_drop_or_flood_alerts():
    rng = np.random.default_rng(6)
    history = rng.poisson(1_000, size=HISTORY)
    drop, flood = volume_check(history, 700), volume_check(history, 1_400)
    assert drop.status == flood.status == "alert"
    assert "below" in drop.reason and "above" in flood.reason
    assert volume_check([], 10).reason == "no history yet"
