"""Always-valid inference for A/B tests: confidence sequences, the mixture SPRT, sample-ratio checks.

A fixed-horizon test is valid at one look; an analyst who checks the dashboard every day and stops
when p < 0.05 rejects a true null far more often than 5 %. A *confidence sequence* holds at every look
at once, P(exists n: theta outside CS_n) <= alpha, so results may be read after every batch and the
test stopped whenever the interval excludes zero.

The formula (Robbins' normal mixture; Howard et al. 2021, "Time-uniform, nonparametric,
nonasymptotic confidence sequences", eq. 14; the mSPRT of Johari et al. 2017/2022 in other units).
For arms with sample sizes n_c, n_t, means m_c, m_t and variances v_c, v_t::

    estimate  d   = m_t - m_c                       (challenger minus control)
    std error se  = sqrt(v_c / n_c + v_t / n_t)
    "time"    n   = (v_c + v_t) / se**2              (pairs a 50/50 split would need for this se)
    radius        = se * sqrt((1 + rho / n) * (log(1 + n / rho) + 2 * log(1 / alpha)))
    CS_n          = d +/- radius
    mixture LR    = sqrt(rho / (n + rho)) * exp(n * z**2 / (2 * (n + rho))),  z = d / se
    always-valid p-value = running minimum over looks of min(1, 1 / LR)

0 lies outside CS_n exactly when LR >= 1 / alpha. ``rho`` is the precision of the normal mixture over
the standardised effect d / sqrt(v_c + v_t), in units of samples; Johari's mixing variance is
tau**2 = (v_c + v_t) / rho. It only trades width early against width late and never costs validity;
``mixture_precision`` tunes it so the sequence is narrowest at the planned sample size (Howard et al.
approximate the same optimum by rho = n / (2 log(1/alpha) + log(1 + 2 log(1/alpha)))). Fix it before
the experiment starts: choosing it after seeing data voids the guarantee.

Assumptions: observations independent within and between arms, with a stable mean per arm (no
novelty effect); the guarantee is exact for Gaussian data with known variances and holds
asymptotically with plug-in variances for bounded data such as 0/1 outcomes (Waudby-Smith et al.
2024, time-uniform central limit theory), which is why the engine waits for a minimum sample before
acting. Several challengers share alpha by Bonferroni (alpha / k each).

Example:
    >>> rho = mixture_precision(10_000, alpha=0.05)
    >>> round(rho)
    1218
    >>> # 10 % vs 11 %: one fixed look would call it (z = 2.31), a sequence valid at every look waits
    >>> d = difference_of_proportions(1_000, 10_000, 1_100, 10_000, rho=rho, alpha=0.05)
    >>> round(d.estimate, 4), round(d.lower, 4), round(d.upper, 4), d.significant
    (0.01, -0.0032, 0.0232, False)
    >>> d = difference_of_proportions(1_000, 10_000, 1_150, 10_000, rho=rho, alpha=0.05)
    >>> round(d.lower, 4), round(d.upper, 4), round(d.p_value, 4), d.significant
    (0.0017, 0.0283, 0.0163, True)
    >>> srm = sample_ratio_mismatch([5_000, 5_300], [0.5, 0.5])
    >>> round(srm.p_value, 4), srm.mismatch
    (0.0031, False)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

FloatArray = NDArray[np.float64]
# The usual threshold of SRM checks: an allocation bug is loud, so a strict level costs little power
# and keeps a daily check from crying wolf over a long test.
SRM_THRESHOLD = 0.001
# Variance floor of a mean: an arm whose outcomes are all equal so far still has some uncertainty.
_MIN_VARIANCE = 1e-12


@dataclass(frozen=True)
class Difference:
    """Challenger minus control at one look, with its always-valid (1 - alpha) confidence sequence."""

    estimate: float
    lower: float
    upper: float
    p_value: float  # always-valid at this look alone; take the running minimum across looks
    se: float
    n_eff: float
    control_mean: float
    treatment_mean: float
    n_control: int
    n_treatment: int
    alpha: float

    @property
    def significant(self) -> bool:
        return self.lower > 0 or self.upper < 0


@dataclass(frozen=True)
class SampleRatioCheck:
    chi2: float
    dof: int
    p_value: float
    mismatch: bool
    observed: tuple[int, ...]
    expected_shares: tuple[float, ...]


@dataclass(frozen=True)
class NonInferiority:
    """One-sided check that the challenger is not worse than control by more than ``margin``.

    ``harm`` is how much worse the challenger is (positive = worse, in the metric's units), with a
    one-sided (1 - alpha) bound ``harm_upper`` (pass when below the margin) and ``harm_lower``
    (breach when above the margin: the challenger is worse by more than allowed, with confidence).
    """

    harm: float
    harm_lower: float
    harm_upper: float
    margin: float
    p_value: float  # of H0 "worse by at least the margin"
    status: str  # pass | breach | pending


@lru_cache(maxsize=64)
def _best_ratio(alpha: float) -> float:
    log_term = 2 * math.log(1 / alpha)

    def width(log_x: float) -> float:
        x = math.exp(log_x)
        return (1 + x) * (math.log1p(1 / x) + log_term)

    found = optimize.minimize_scalar(width, bounds=(-12.0, 6.0), method="bounded", options={"xatol": 1e-6})
    return math.exp(float(found.x))


def mixture_precision(planned_n: float, alpha: float = 0.05) -> float:
    """The ``rho`` that makes the confidence sequence narrowest at ``planned_n`` (effective pairs).

    The width at n is se * sqrt((1 + x)(log(1 + 1/x) + 2 log(1/alpha))) with x = rho / n, so the
    best rho is a fixed fraction of n (about 0.122 at alpha = 0.05).

    Example:
        >>> round(mixture_precision(1_000, 0.05), 1)
        121.8
    """
    return max(1.0, _best_ratio(alpha) * float(planned_n))


def cs_radius(se: ArrayLike, n_eff: ArrayLike, rho: float, alpha: float) -> FloatArray:
    """Half-width of the normal-mixture confidence sequence; vectorised over looks or simulations.

    Example:
        >>> float(cs_radius(1.0, 1_000, 121.8, 0.05).round(3))  # vs 1.96 for one fixed look
        3.035
    """
    n = np.maximum(np.asarray(n_eff, dtype=float), 1e-12)
    return np.asarray(se, dtype=float) * np.sqrt(
        (1 + rho / n) * (np.log1p(n / rho) + 2 * math.log(1 / alpha))
    )


def mixture_p_value(estimate: ArrayLike, se: ArrayLike, n_eff: ArrayLike, rho: float) -> FloatArray:
    """min(1, 1 / mixture likelihood ratio) against "no difference", at one look; vectorised."""
    n = np.maximum(np.asarray(n_eff, dtype=float), 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(np.asarray(se) > 0, np.asarray(estimate, dtype=float) / np.asarray(se, dtype=float), 0.0)
    log_lr = 0.5 * np.log(rho / (n + rho)) + n * z**2 / (2 * (n + rho))
    return np.exp(-np.maximum(log_lr, 0.0))


def always_valid_p_values(p_values: ArrayLike) -> FloatArray:
    """Running minimum along the last axis (the looks): the always-valid p-value sequence."""
    return np.minimum.accumulate(np.asarray(p_values, dtype=float), axis=-1)


def difference_moments(
    n_c: ArrayLike, sum_c: ArrayLike, sumsq_c: ArrayLike, n_t: ArrayLike, sum_t: ArrayLike, sumsq_t: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """(estimate, se, n_eff, control mean, challenger mean) from per-arm count, sum and sum of squares.

    Vectorised, so a simulation evaluates thousands of experiments in one call. These are the
    sufficient statistics the database aggregates per arm per day; for a 0/1 metric sum = sumsq.
    """
    arrays = [np.asarray(a, dtype=float) for a in (n_c, sum_c, sumsq_c, n_t, sum_t, sumsq_t)]
    nc, sc, qc, nt, st, qt = arrays
    with np.errstate(divide="ignore", invalid="ignore"):
        mc, mt = sc / nc, st / nt
        vc = np.maximum(qc / nc - mc**2, _MIN_VARIANCE)
        vt = np.maximum(qt / nt - mt**2, _MIN_VARIANCE)
        se = np.sqrt(vc / nc + vt / nt)
        n_eff = (vc + vt) / se**2
    return mt - mc, se, n_eff, mc, mt


def _difference(
    n_c: int, sum_c: float, sumsq_c: float, n_t: int, sum_t: float, sumsq_t: float, rho: float, alpha: float
) -> Difference:
    if n_c < 2 or n_t < 2:
        nan = float("nan")
        return Difference(nan, -math.inf, math.inf, 1.0, nan, 0.0, nan, nan, n_c, n_t, alpha)
    est, se, n_eff, mc, mt = (float(x) for x in difference_moments(n_c, sum_c, sumsq_c, n_t, sum_t, sumsq_t))
    radius = float(cs_radius(se, n_eff, rho, alpha))
    p = float(mixture_p_value(est, se, n_eff, rho))
    return Difference(est, est - radius, est + radius, p, se, n_eff, mc, mt, n_c, n_t, alpha)


def difference_of_means(
    n_c: int,
    sum_c: float,
    sumsq_c: float,
    n_t: int,
    sum_t: float,
    sumsq_t: float,
    *,
    rho: float,
    alpha: float = 0.05,
) -> Difference:
    """Always-valid CS for mean(challenger) - mean(control), e.g. business value per prediction.

    Example:
        >>> d = difference_of_means(400, 4_000.0, 80_000.0, 400, 4_400.0, 88_400.0, rho=50.0)
        >>> round(d.estimate, 3), round(d.lower, 3), round(d.upper, 3)
        (1.0, -1.146, 3.146)
    """
    return _difference(n_c, sum_c, sumsq_c, n_t, sum_t, sumsq_t, rho, alpha)


def difference_of_proportions(
    x_c: int, n_c: int, x_t: int, n_t: int, *, rho: float, alpha: float = 0.05
) -> Difference:
    """Always-valid CS for p_challenger - p_control (successes x out of n per arm)."""
    return _difference(n_c, x_c, x_c, n_t, x_t, x_t, rho, alpha)


def sample_ratio_mismatch(
    observed: Sequence[int], expected: Sequence[float], *, threshold: float = SRM_THRESHOLD
) -> SampleRatioCheck:
    """Chi-square goodness of fit of the arms' counts to the planned shares (or expected counts).

    A mismatch means traffic did not split as planned (a routing bug, a crashing arm, bots): the
    arms are then not comparable and the lift must not be trusted, whatever it says.

    Example:
        >>> sample_ratio_mismatch([5_000, 4_600], [0.5, 0.5]).mismatch  # 8 % short on one arm
        True
    """
    obs = np.asarray(observed, dtype=float)
    exp = np.asarray(expected, dtype=float)
    total = obs.sum()
    shares = exp / exp.sum()
    keep = shares > 0
    if total <= 0 or keep.sum() < 2:
        return SampleRatioCheck(
            0.0, 0, 1.0, False, tuple(int(x) for x in obs), tuple(float(s) for s in shares)
        )
    want = shares[keep] * total
    chi2 = float(np.sum((obs[keep] - want) ** 2 / want))
    dof = int(keep.sum() - 1)
    # Traffic on an arm planned at 0 % is itself a mismatch, which the statistic cannot express.
    stray = bool(obs[~keep].sum() > 0)
    p = 0.0 if stray else float(stats.chi2.sf(chi2, dof))
    return SampleRatioCheck(
        chi2, dof, p, p < threshold, tuple(int(x) for x in obs), tuple(float(s) for s in shares)
    )


def non_inferiority(
    harm: float,
    se: float,
    *,
    margin: float,
    alpha: float = 0.05,
    n_eff: float | None = None,
    rho: float | None = None,
) -> NonInferiority:
    """Is the challenger worse than control by less than ``margin``? One-sided, in "harm" units.

    Pass ``harm`` as how much worse the challenger is (e.g. error rate challenger - control, or
    control accuracy - challenger accuracy). With ``n_eff`` and ``rho`` the bounds come from the
    (two-sided, so conservative) always-valid sequence and may be checked at every look; otherwise
    they are the classic fixed-horizon one-sided z bounds.

    Example:
        >>> r = non_inferiority(0.002, 0.001, margin=0.005)
        >>> round(r.harm_upper, 5), r.status   # 0.002 + 1.645 * 0.001 < 0.005
        (0.00364, 'pass')
    """
    if not (math.isfinite(harm) and math.isfinite(se)):
        return NonInferiority(harm, -math.inf, math.inf, margin, 1.0, "pending")
    if n_eff is not None and rho is not None:
        width = float(cs_radius(se, n_eff, rho, alpha))
    else:
        width = float(stats.norm.ppf(1 - alpha)) * se
    lower, upper = harm - width, harm + width
    p = float(stats.norm.sf((margin - harm) / se)) if se > 0 else float(harm >= margin)
    status = "pass" if upper < margin else "breach" if lower > margin else "pending"
    return NonInferiority(harm, lower, upper, margin, p, status)


def sample_size_per_arm(sd: float, mde: float, *, alpha: float = 0.05, power: float = 0.8) -> int:
    """Fixed-horizon pairs for a two-sided z-test to detect ``mde`` with ``power`` (equal arms).

    Used to plan the duration and tune ``rho``; a confidence sequence needs more (roughly 1.5-2x)
    in exchange for looking at will.

    Example:
        >>> sample_size_per_arm(math.sqrt(0.11 * 0.89), 0.02)  # 10 % -> 12 %, pooled variance
        3843
    """
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return math.ceil(2 * sd**2 * z**2 / mde**2)
