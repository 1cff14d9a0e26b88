"""Thompson sampling: the exact two-arm probability against integration and Monte Carlo, and seeded
simulations of traffic moving to the better arm."""

import doctest

import numpy as np
import pytest
from scipy import integrate, stats

from drift.stats import bandits
from drift.stats.bandits import allocation, prob_b_beats_a, prob_best, thompson_choose


def test_its_docstring_examples_hold():
    assert doctest.testmod(bandits).failed == 0


def by_integration(a_a, b_a, a_b, b_b):
    value, _ = integrate.quad(lambda x: stats.beta.pdf(x, a_b, b_b) * stats.beta.cdf(x, a_a, b_a), 0, 1)
    return value


@pytest.mark.parametrize(
    "params",
    [(1, 1, 1, 1), (3, 7, 5, 5), (11, 91, 21, 81), (40, 60, 38, 62), (2.5, 4, 3.5, 3), (7, 3, 2.5, 1.5)],
)
def test_the_exact_two_arm_probability_matches_numerical_integration(params):
    assert prob_b_beats_a(*params) == pytest.approx(by_integration(*params), abs=1e-8)


def test_it_matches_monte_carlo_on_large_counts():
    rng = np.random.default_rng(0)
    a, b = rng.beta(1_001, 9_001, 400_000), rng.beta(1_061, 8_941, 400_000)
    assert prob_b_beats_a(1_001, 9_001, 1_061, 8_941) == pytest.approx(float((b > a).mean()), abs=0.003)


def test_the_two_orders_sum_to_one():
    assert prob_b_beats_a(13, 40, 9, 31) + prob_b_beats_a(9, 31, 13, 40) == pytest.approx(1.0)


def test_many_arms_are_judged_by_seeded_monte_carlo():
    first = prob_best([10, 30, 12], [90, 70, 88], seed=3)
    assert first == prob_best([10, 30, 12], [90, 70, 88], seed=3)
    assert sum(first) == pytest.approx(1.0) and first[1] > 0.99


def test_the_allocation_keeps_a_floor_for_every_arm():
    shares = allocation([5, 500], [995, 500], floor=0.05)
    assert shares == pytest.approx([0.05, 0.95])
    with pytest.raises(ValueError):
        allocation([1, 1, 1], [1, 1, 1], floor=0.4)


def run(rates, *, periods, requests, seed, route):
    """Serve `periods` of `requests`, re-allocating after each; returns (final shares, successes)."""
    rng = np.random.default_rng(seed)
    wins, losses = np.zeros(len(rates)), np.zeros(len(rates))
    shares = np.full(len(rates), 1 / len(rates))
    for period in range(periods):
        if route == "allocation":
            served = rng.multinomial(requests, shares)
        else:
            served = np.bincount(thompson_choose(wins, losses, requests, rng), minlength=len(rates))
        won = rng.binomial(served, rates)
        wins, losses = wins + won, losses + served - won
        shares = np.array(allocation(wins, losses, floor=0.05, seed=period))
    return shares, wins.sum()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_thompson_sampling_moves_traffic_to_the_better_arm(seed):
    shares, successes = run([0.10, 0.13], periods=30, requests=500, seed=seed, route="allocation")
    print(f"\nseed {seed}: final shares {np.round(shares, 3).tolist()}")
    assert shares[1] >= 0.9
    even = 30 * 500 * (0.10 + 0.13) / 2
    assert successes > even  # more successes than a fixed 50/50 split would expect


def test_it_finds_the_best_of_three_arms():
    shares, _ = run([0.10, 0.13, 0.11], periods=40, requests=600, seed=4, route="allocation")
    assert int(np.argmax(shares)) == 1 and shares[1] >= 0.8


def test_routing_by_allocation_behaves_like_per_request_thompson_sampling():
    by_table = [run([0.10, 0.13], periods=20, requests=300, seed=s, route="allocation")[1] for s in range(10)]
    per_request = [
        run([0.10, 0.13], periods=20, requests=300, seed=s, route="thompson")[1] for s in range(10)
    ]
    assert np.mean(by_table) == pytest.approx(np.mean(per_request), rel=0.03)
