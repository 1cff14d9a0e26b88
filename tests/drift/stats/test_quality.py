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


def test_the_first_windows_are_not_judged_and_say_why():
    for history in ([], [1_000] * 6):
        check = volume_check(history, 10)
        assert check.status == "ok" and check.rule == "none"
        assert check.reason == (
            f"not judged yet: the volume limits need 7 earlier windows ({len(history)} so far)"
        )


WEEKDAY = np.array([1.08, 1.1, 1.06, 1.04, 1.0, 0.7, 0.52])  # Monday ... Sunday


def weekly_traffic(days: int, *, seed: int, per_day: float = 2_500, wobble: float = 0.04) -> np.ndarray:
    rng = np.random.default_rng(seed)
    level = per_day * WEEKDAY[np.arange(days) % 7] / WEEKDAY.mean()
    return rng.poisson(level * rng.gamma(1 / wobble**2, wobble**2, days))


def test_quiet_weeks_with_a_weekly_rhythm_stay_quiet_and_a_halved_day_alerts():
    totals = weekly_traffic(28 + 70, seed=11)
    quiet, halved = [], []
    for t in range(28, totals.size):  # ten weeks, each judged on the four weeks before it
        days = list(range(t - 28, t))
        quiet.append(volume_check(totals[t - 28 : t], totals[t], history_days=days, day=t))
        halved.append(volume_check(totals[t - 28 : t], totals[t] // 2, history_days=days, day=t))

    assert [c.status for c in quiet].count("alert") == 0
    assert {c.rule for c in quiet} == {"volume_weekly"}
    assert all(c.status == "alert" and "below" in c.reason for c in halved)
    # Sundays are compared with Sundays: their limits sit far below a weekday's.
    assert quiet[6].upper < quiet[0].lower


def test_before_three_weeks_the_weekly_rhythm_stays_inside_the_limits():
    totals = weekly_traffic(21 + 70, seed=12)
    checks = [
        volume_check(totals[t - 20 : t], totals[t], history_days=list(range(t - 20, t)), day=t)
        for t in range(20, totals.size)
    ]  # twenty earlier windows: two of each weekday, not yet three

    assert {c.rule for c in checks} == {"volume"}
    assert [c.status for c in checks].count("alert") == 0


def test_a_fault_in_the_history_neither_alerts_again_nor_becomes_the_normal():
    totals = weekly_traffic(35, seed=13)
    history = totals[:28].copy()
    history[21] //= 5  # a bad day three weeks after the start, same weekday as day 35
    days = list(range(28))

    assert volume_check(history, totals[28], history_days=days, day=28).status == "ok"
    assert volume_check(history, totals[28] // 2, history_days=days, day=28).status == "alert"


def test_after_a_promotion_the_limits_follow_the_new_volume_within_days():
    rng = np.random.default_rng(14)
    canary, production = rng.poisson(250, 7), rng.poisson(2_700, 10)
    history = np.r_[canary, production[:4]]

    assert volume_check(np.r_[canary], production[0]).status == "alert"  # ten times the traffic
    assert volume_check(history, production[4]).status == "ok"
