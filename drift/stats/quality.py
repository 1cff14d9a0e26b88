"""Control limits for data quality: random fluctuation stays quiet, systematic faults alert.

**Shares** (missing, out-of-range, undeclared category, late, refused records): a one-sided
p-chart on the arcsine-square-root scale, where a share observed on ``n`` rows has variance
``~1 / (4 n)`` whatever its level, so the limit stays honest for shares near 0 (the plain normal
p-chart is too tight there). Real shares also wander between windows more than binomial noise
(overdispersion: batch jobs, upstream hiccups); Laney's p'-chart correction measures that from the
history's standardised values (mean moving range / 1.128) and widens the limit when it exceeds 1.
A one-sided tabular CUSUM on the same standardised values (``k = 0.5``, ``h = 5``, in-control run
length ~900 windows) catches persistent small shifts that stay inside the limit every window.

**Volume**: row counts on Anscombe's square-root scale (``sqrt(x + 3/8)``, Poisson variance
``1/4``), with the spread taken from the history's moving ranges when it exceeds Poisson noise
(quasi-Poisson), two-sided: a drop in traffic is as much a fault as a flood. Pass comparable
history windows (e.g. the same hour on previous days) when traffic has a daily cycle.

Pass only history windows that were not themselves faulty, oldest first.

Example:
    >>> hist_counts, hist_totals = [20, 18, 25, 21, 19, 22, 17, 23, 20, 24], [1000] * 10
    >>> share_check("missing share", hist_counts, hist_totals, 60, 1000).status
    'alert'
    >>> share_check("missing share", hist_counts, hist_totals, 26, 1000).status
    'ok'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

SIGMAS = 3.0
CUSUM_K = 0.5
CUSUM_H = 5.0
#: History windows needed before the overdispersion (Laney) factor is estimated; below, 1.
MIN_HISTORY_FOR_DISPERSION = 8
_D2 = 1.128  # mean moving range of two normal draws, in standard deviations


@dataclass(frozen=True)
class QualityCheck:
    """A quality verdict: the observed value, its limits, and why."""

    name: str
    status: Literal["ok", "alert"]
    observed: float
    center: float
    lower: float
    upper: float
    rule: str  # "p_chart", "cusum", "volume" or "none"
    reason: str


@dataclass(frozen=True)
class CusumResult:
    """A one-sided tabular CUSUM over a sequence (reset to 0 after each alarm)."""

    statistic: float  # the cumulative sum after the last value
    alarm: bool  # whether the last value raised an alarm
    first_alarm: int | None  # index of the first alarm in the sequence


def cusum(z: ArrayLike, *, k: float = CUSUM_K, h: float = CUSUM_H) -> CusumResult:
    """Upper tabular CUSUM ``S_t = max(0, S_{t-1} + z_t - k)``, alarm when ``S_t > h``.

    ``z`` are standardised values (in-control mean 0, sd 1). The recursion runs over windows (tens
    to hundreds), not rows.

    Example:
        >>> cusum([0.1, -0.3, 0.2]).alarm
        False
        >>> r = cusum([1.5] * 6)
        >>> r.alarm, r.first_alarm
        (True, 5)
    """
    s, level, first, alarm = 0.0, 0.0, None, False
    for i, value in enumerate(np.asarray(z, dtype=np.float64).ravel()):
        s = level = max(0.0, s + float(value) - k)
        alarm = s > h
        if alarm:
            first = i if first is None else first
            s = 0.0  # restart, so one fault gives one alarm per run of evidence
    return CusumResult(level, alarm, first)


def _arcsine(counts: np.ndarray, totals: np.ndarray) -> np.ndarray:
    return np.arcsin(np.sqrt(np.clip(counts / totals, 0.0, 1.0)))


def _dispersion(z: np.ndarray) -> float:
    """Laney's sigma_z: the spread of standardised values beyond binomial noise (at least 1)."""
    if z.size < MIN_HISTORY_FOR_DISPERSION:
        return 1.0
    return max(1.0, float(np.abs(np.diff(z)).mean() / _D2))


def share_check(
    name: str,
    history_counts: ArrayLike,
    history_totals: ArrayLike,
    count: int,
    total: int,
    *,
    baseline: float | None = None,
    sigmas: float = SIGMAS,
) -> QualityCheck:
    """Judge a share (``count / total``) against its history: p-chart limit, then CUSUM.

    ``baseline`` is the expected share (e.g. the reference's missing share); by default the pooled
    history share. Alerts only upwards: fewer missing values is never a fault.

    Example:
        >>> c = share_check("late share", [5] * 12, [500] * 12, 30, 500)
        >>> c.status, c.rule, round(c.upper, 4)
        ('alert', 'p_chart', 0.0277)
    """
    counts = np.asarray(history_counts, dtype=np.float64)
    totals = np.asarray(history_totals, dtype=np.float64)
    keep = totals > 0
    counts, totals = counts[keep], totals[keep]
    observed = count / total if total > 0 else 0.0
    if total <= 0 or (baseline is None and totals.size == 0):
        why = "no rows in the window" if total <= 0 else "no history yet"
        return QualityCheck(name, "ok", observed, observed, 0.0, 1.0, "none", why)
    center = float(counts.sum() / totals.sum()) if baseline is None else float(baseline)
    y0 = float(np.arcsin(np.sqrt(center)))
    z_hist = (_arcsine(counts, totals) - y0) * 2 * np.sqrt(totals)
    sigma_z = _dispersion(z_hist)
    upper = float(np.sin(min(np.pi / 2, y0 + sigmas * sigma_z / (2 * np.sqrt(total)))) ** 2)
    z_now = (float(np.arcsin(np.sqrt(observed))) - y0) * 2 * np.sqrt(total)
    if observed > upper:
        reason = f"{name} {observed:.2%} above the control limit {upper:.2%} (expected {center:.2%})"
        return QualityCheck(name, "alert", observed, center, 0.0, upper, "p_chart", reason)
    run = cusum(np.append(z_hist, z_now) / sigma_z)
    if run.alarm:
        reason = (
            f"{name} {observed:.2%} has stayed above the expected {center:.2%} (CUSUM {run.statistic:.1f})"
        )
        return QualityCheck(name, "alert", observed, center, 0.0, upper, "cusum", reason)
    reason = f"{name} {observed:.2%} within the control limit {upper:.2%}"
    return QualityCheck(name, "ok", observed, center, 0.0, upper, "p_chart", reason)


def volume_check(history_totals: ArrayLike, total: int, *, sigmas: float = SIGMAS) -> QualityCheck:
    """Judge a window's row count against comparable history windows, two-sided.

    Example:
        >>> hist = [1000, 980, 1030, 1010, 990, 1005, 1020, 970, 1000, 995]
        >>> volume_check(hist, 400).status, volume_check(hist, 1015).status
        ('alert', 'ok')
    """
    hist = np.asarray(history_totals, dtype=np.float64).ravel()
    if hist.size == 0:
        return QualityCheck("volume", "ok", float(total), float(total), 0.0, np.inf, "none", "no history yet")
    y = np.sqrt(hist + 3 / 8)
    y0 = float(y.mean())
    spread, width = 0.5, sigmas  # Poisson noise on this scale
    if hist.size >= MIN_HISTORY_FOR_DISPERSION:
        measured = float(np.abs(np.diff(y)).mean() / _D2)
        if measured > spread:
            # A spread estimated from m moving ranges is worth ~0.62 (m - 1) degrees of freedom;
            # the Student-t quantile keeps the false-alarm rate at the nominal one despite that.
            spread = measured
            width = float(stats.t.ppf(stats.norm.cdf(sigmas), df=0.62 * (hist.size - 1)))
    half = width * spread * np.sqrt(1 + 1 / hist.size)  # + uncertainty of the estimated centre
    lower = float(max(0.0, y0 - half) ** 2 - 3 / 8)
    upper = float((y0 + half) ** 2 - 3 / 8)
    center = float(y0**2 - 3 / 8)
    if total < lower or total > upper:
        side = "below" if total < lower else "above"
        limit = lower if total < lower else upper
        reason = f"{total:,} rows, {side} the control limit {limit:,.0f} (expected ~{center:,.0f})"
        return QualityCheck("volume", "alert", float(total), center, lower, upper, "volume", reason)
    reason = f"{total:,} rows within {lower:,.0f}-{upper:,.0f}"
    return QualityCheck("volume", "ok", float(total), center, lower, upper, "volume", reason)


def judge_shares(
    history: Sequence[tuple[int, int]], current: tuple[int, int], *, name: str, baseline: float | None = None
) -> QualityCheck:
    """:func:`share_check` for ``(count, total)`` pairs, as profiles store them.

    Example:
        >>> judge_shares([(2, 100)] * 10, (15, 100), name="refused share").status
        'alert'
    """
    counts = [c for c, _ in history]
    totals = [t for _, t in history]
    return share_check(name, counts, totals, current[0], current[1], baseline=baseline)
