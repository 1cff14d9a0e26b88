"""Always-valid confidence sequences, sample-ratio checks and non-inferiority, judged by seeded simulation
and against closed forms (Howard et al. 2021, Johari et al. 2017) and SciPy."""

import doctest
import math

import numpy as np
import pytest
from scipy import stats

from drift.stats import sequential
from drift.stats.sequential import (
    cs_radius,
    difference_moments,
    difference_of_means,
    difference_of_proportions,
    mixture_p_value,
    mixture_precision,
    non_inferiority,
    sample_ratio_mismatch,
    sample_size_per_arm,
)

SIMULATIONS = 2_000
ALPHA = 0.05


def test_its_docstring_examples_hold():
    assert doctest.testmod(sequential).failed == 0


def test_the_radius_is_howards_normal_mixture_boundary():
    # Howard et al. (2021) eq. 14, on the sum S_n of n pair differences with variance sigma2 each:
    # |S_n| < sqrt((V + r) log((V + r) / (r alpha^2))), V = sigma2 n, r = sigma2 rho.
    sigma2, rho = 2.5, 300.0
    for n in (10, 1_000, 100_000):
        v, r = sigma2 * n, sigma2 * rho
        boundary = math.sqrt((v + r) * math.log((v + r) / (r * ALPHA**2)))
        assert float(cs_radius(math.sqrt(sigma2 / n), n, rho, ALPHA)) == pytest.approx(
            boundary / n, rel=1e-12
        )


def test_the_p_value_is_joharis_msprt_with_mixing_variance_sigma2_over_rho():
    # Johari et al.: Lambda = sqrt(V / (V + n tau2)) exp(n^2 tau2 d^2 / (2 V (V + n tau2))).
    v, rho, n, d = 0.18, 500.0, 4_000, 0.012
    tau2 = v / rho
    lam = math.sqrt(v / (v + n * tau2)) * math.exp(n**2 * tau2 * d**2 / (2 * v * (v + n * tau2)))
    assert float(mixture_p_value(d, math.sqrt(v / n), n, rho)) == pytest.approx(min(1.0, 1 / lam), rel=1e-12)


def test_zero_lies_outside_the_sequence_exactly_when_the_p_value_is_below_alpha():
    rng = np.random.default_rng(7)
    est, se, n = rng.normal(0, 0.02, 5_000), rng.uniform(0.002, 0.01, 5_000), rng.uniform(50, 50_000, 5_000)
    rho = 400.0
    outside = np.abs(est) > cs_radius(se, n, rho, ALPHA)
    assert np.array_equal(outside, mixture_p_value(est, se, n, rho) <= ALPHA)


def test_the_tuned_precision_makes_the_sequence_narrowest_at_the_planned_size():
    rho = mixture_precision(8_000, ALPHA)
    width = float(cs_radius(1.0, 8_000, rho, ALPHA))
    assert width < float(cs_radius(1.0, 8_000, rho * 1.2, ALPHA))
    assert width < float(cs_radius(1.0, 8_000, rho / 1.2, ALPHA))
    howard = 8_000 / (2 * math.log(1 / ALPHA) + math.log(1 + 2 * math.log(1 / ALPHA)))
    assert rho == pytest.approx(howard, rel=0.05)


def simulate(p_control, p_challenger, *, batch, looks, seed, planned=10_000):
    """Experiments with a look after every batch: (always-valid rejections, naive z-test rejections,
    per-arm sample at the first rejection). One vectorised pass over all simulations."""
    rng = np.random.default_rng(seed)
    xc = rng.binomial(batch, p_control, size=(SIMULATIONS, looks)).cumsum(axis=1)
    xt = rng.binomial(batch, p_challenger, size=(SIMULATIONS, looks)).cumsum(axis=1)
    n = batch * np.arange(1, looks + 1)
    est, se, n_eff, _, _ = difference_moments(n, xc, xc, n, xt, xt)
    p = mixture_p_value(est, se, n_eff, mixture_precision(planned, ALPHA))
    rejected = (p <= ALPHA).any(axis=1)
    naive = (np.abs(est / se) > stats.norm.ppf(1 - ALPHA / 2)).any(axis=1)
    stop = np.where(rejected, (p <= ALPHA).argmax(axis=1) + 1, looks) * batch
    return rejected.mean(), naive.mean(), stop


@pytest.mark.parametrize(("rate", "seed"), [(0.10, 1), (0.50, 2), (0.02, 3)])
def test_with_no_true_difference_daily_peeking_rejects_at_most_alpha(rate, seed):
    type_one, naive, _ = simulate(rate, rate, batch=200, looks=50, seed=seed)
    print(f"\nrate {rate:.2f}: always-valid type I error {type_one:.4f}; naive peeking {naive:.4f}")
    assert type_one <= 0.055
    assert naive > 0.2  # what the sequence protects against: peeking at a fixed-horizon test


def test_with_no_true_difference_in_means_peeking_rejects_at_most_alpha():
    rng = np.random.default_rng(11)
    looks, batch = 40, 100
    # Skewed business values (a lognormal revenue per prediction), identical in both arms.
    c = rng.lognormal(3.0, 1.0, size=(SIMULATIONS, looks, batch))
    t = rng.lognormal(3.0, 1.0, size=(SIMULATIONS, looks, batch))
    n = batch * np.arange(1, looks + 1)
    moments = [a.sum(axis=2).cumsum(axis=1) for a in (c, c**2, t, t**2)]
    est, se, n_eff, _, _ = difference_moments(n, moments[0], moments[1], n, moments[2], moments[3])
    p = mixture_p_value(est, se, n_eff, mixture_precision(2_000, ALPHA))
    assert (p <= ALPHA).any(axis=1).mean() <= 0.055


def test_with_a_true_lift_it_stops_and_reports_its_power():
    # Stated design: 10 % -> 12 % (2 points), 200 per arm per look, at most 10,000 per arm.
    power, _, stop = simulate(0.10, 0.12, batch=200, looks=50, seed=4)
    fixed = sample_size_per_arm(math.sqrt(0.11 * 0.89), 0.02)
    print(
        f"\npower {power:.3f} at 10,000 per arm for +2 points on 10 %; median stop at "
        f"{int(np.median(stop)):,} per arm (fixed-horizon test at 80 % power: {fixed:,})"
    )
    assert power >= 0.90
    assert np.median(stop) < 10_000


def test_power_is_low_when_the_lift_is_far_below_the_design():
    power, _, _ = simulate(0.10, 0.102, batch=200, looks=10, seed=5)
    assert power < 0.1


def test_the_fixed_horizon_sample_size_gives_its_power():
    n = sample_size_per_arm(math.sqrt(0.11 * 0.89), 0.02)
    rng = np.random.default_rng(6)
    xc, xt = rng.binomial(n, 0.10, SIMULATIONS), rng.binomial(n, 0.12, SIMULATIONS)
    est, se, _, _, _ = difference_moments(n, xc, xc, n, xt, xt)
    assert np.mean(np.abs(est / se) > 1.96) == pytest.approx(0.80, abs=0.03)


def test_difference_of_means_agrees_with_a_welch_standard_error():
    rng = np.random.default_rng(8)
    a, b = rng.normal(10, 2, 700), rng.normal(10.5, 3, 900)
    d = difference_of_means(a.size, a.sum(), (a**2).sum(), b.size, b.sum(), (b**2).sum(), rho=100.0)
    welch = math.sqrt(a.var() / a.size + b.var() / b.size)
    assert d.estimate == pytest.approx(b.mean() - a.mean())
    assert d.se == pytest.approx(welch)
    assert d.lower < d.estimate < d.upper


def test_an_arm_without_data_gives_an_unbounded_sequence():
    d = difference_of_proportions(0, 0, 5, 10, rho=100.0)
    assert (d.lower, d.upper, d.p_value, d.significant) == (-math.inf, math.inf, 1.0, False)


def test_the_mismatch_statistic_is_scipys_chisquare():
    rng = np.random.default_rng(9)
    for _ in range(20):
        shares = rng.dirichlet(np.ones(3))
        observed = rng.multinomial(5_000, shares)
        ours = sample_ratio_mismatch(observed.tolist(), shares.tolist())
        ref = stats.chisquare(observed, shares * observed.sum())
        assert ours.chi2 == pytest.approx(ref.statistic) and ours.p_value == pytest.approx(ref.pvalue)


def test_a_broken_allocation_is_caught():
    # Planned 50/50; a routing bug drops 4 % of the challenger's requests.
    rng = np.random.default_rng(10)
    caught = [
        sample_ratio_mismatch([c, rng.binomial(t, 0.96)], [0.5, 0.5]).mismatch
        for c, t in rng.multinomial(100_000, [0.5, 0.5], size=200)
    ]
    assert np.mean(caught) >= 0.95


def test_a_correct_allocation_rarely_raises_a_mismatch():
    rng = np.random.default_rng(12)
    alarms = [
        sample_ratio_mismatch(list(obs), [0.8, 0.1, 0.1]).mismatch
        for obs in rng.multinomial(20_000, [0.8, 0.1, 0.1], size=SIMULATIONS)
    ]
    assert np.mean(alarms) <= 0.004


def test_traffic_on_an_arm_planned_at_zero_is_a_mismatch():
    assert sample_ratio_mismatch([1_000, 1_000, 3], [0.5, 0.5, 0.0]).mismatch


def test_non_inferiority_against_the_normal_distribution():
    r = non_inferiority(0.004, 0.002, margin=0.005, alpha=0.05)
    assert r.p_value == pytest.approx(stats.norm.sf((0.005 - 0.004) / 0.002))
    assert r.harm_upper == pytest.approx(0.004 + stats.norm.ppf(0.95) * 0.002)
    assert r.status == "pending"
    assert non_inferiority(0.0, 0.001, margin=0.005).status == "pass"
    assert non_inferiority(0.02, 0.002, margin=0.005).status == "breach"


def test_always_valid_guardrail_bounds_are_wider_than_a_single_look():
    fixed = non_inferiority(0.003, 0.001, margin=0.005)
    seq = non_inferiority(0.003, 0.001, margin=0.005, n_eff=5_000, rho=600.0)
    assert seq.harm_upper > fixed.harm_upper
    assert (fixed.status, seq.status) == ("pass", "pending")
