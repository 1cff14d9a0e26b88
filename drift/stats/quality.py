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
``1/4``), two-sided: a drop in traffic is as much a fault as a flood. Robust to the history's own
faults and level changes (a promotion from canary), so pass the recent windows whatever their
verdicts: the centre is a median and the spread a moving range or a median absolute deviation,
never below Poisson noise. With three weeks of day-stamped history a window is compared with the
same weekday (traffic follows the week); before that with the range the last two weeks' windows
spanned (the most extreme one on each side set aside), widened by the noise, so a quiet Sunday passes
and only a volume unlike all of them alerts. The first ``MIN_VOLUME_HISTORY`` windows are not judged.
Pass comparable windows (the same hour on previous days) when traffic has a daily cycle.

For shares, pass only history windows that were not themselves faulty, oldest first.

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
_MEDIAN_RANGE = 0.954  # median moving range of two normal draws, in standard deviations
#: Earlier windows a volume needs before it is judged: with fewer, a launch week or a canary's first
#: days would set the normal.
MIN_VOLUME_HISTORY = 7
#: Without a weekly comparison the limits span the range of this many recent windows (two weeks of
#: daily windows: every weekday twice, and a level change is followed within days).
RECENT_WINDOWS = 14
WEEK = 7
#: Earlier windows on the window's own weekday needed before it is compared with that weekday.
MIN_WEEKS = 3
#: Week-over-week pairs needed to estimate the spread from them.
MIN_PAIRS = 6
POISSON_SPREAD = 0.5  # standard deviation of a Poisson count on Anscombe's square-root scale


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


def volume_check(
    history_totals: ArrayLike,
    total: int,
    *,
    history_days: Sequence[int | None] | None = None,
    day: int | None = None,
    sigmas: float = SIGMAS,
    min_history: int = MIN_VOLUME_HISTORY,
) -> QualityCheck:
    """Judge a window's row count against the recent windows, two-sided, whatever their verdicts.

    ``history_days`` (each earlier window's day number, e.g. days since 1970-01-01) and ``day`` (the
    window's) enable the weekly comparison; leave them out for windows longer than a day.

    Example:
        >>> hist = [1000, 980, 1030, 1010, 990, 1005, 1020, 970, 1000, 995]
        >>> volume_check(hist, 400).status, volume_check(hist, 1015).status
        ('alert', 'ok')
        >>> volume_check(hist[:3], 400).reason
        'not judged yet: the volume limits need 7 earlier windows (3 so far)'
    """
    hist = np.asarray(history_totals, dtype=np.float64).ravel()
    if hist.size < min_history:
        center = float(np.median(hist)) if hist.size else float(total)
        reason = f"not judged yet: the volume limits need {min_history} earlier windows ({hist.size} so far)"
        return QualityCheck("volume", "ok", float(total), center, 0.0, np.inf, "none", reason)
    y = np.sqrt(hist + 3 / 8)
    days = list(history_days) if history_days is not None else [None] * hist.size
    same = (
        [i for i, d in enumerate(days) if d is not None and (day - d) % WEEK == 0 and d < day]
        if day is not None and len(days) == hist.size
        else []
    )
    weekly = len(same) >= MIN_WEEKS
    if weekly:
        y0, spread, df, m = _weekly(y, days, same)
        low = high = y0
        basis = f"the same weekday in the last {len(same)} weeks"
    else:
        # Without a weekly comparison: the range the recent windows spanned (a quiet Sunday included),
        # widened by the noise, so only a volume unlike all of them alerts. Over two weeks the most
        # extreme window on each side is set aside: a weekday comes twice, a one-off fault once. The
        # noise is the median moving range, which the few rhythm jumps of a week do not move.
        recent = np.sort(y[-RECENT_WINDOWS:])
        trim = 1 if recent.size >= 2 * WEEK else 0
        y0, m = float(np.median(recent)), recent.size
        low, high = float(recent[trim]), float(recent[-1 - trim])
        spread, df = float(np.median(np.abs(np.diff(y))) / _MEDIAN_RANGE), 0.37 * (hist.size - 2)
        basis = f"the range of the last {m} windows"
    width = sigmas
    if spread > POISSON_SPREAD:
        # An estimated spread is worth only ~df degrees of freedom: the Student-t quantile keeps the
        # false-alarm rate at the nominal one despite that.
        width = float(stats.t.ppf(stats.norm.cdf(sigmas), df=max(df, 1.0)))
    spread = max(spread, POISSON_SPREAD)
    half = width * spread * np.sqrt(1 + np.pi / 2 / m)  # + uncertainty of the centre
    lower = max(0.0, float(max(0.0, low - half) ** 2 - 3 / 8))
    upper = float((high + half) ** 2 - 3 / 8)
    center = float(y0**2 - 3 / 8)
    rule = "volume_weekly" if weekly else "volume"
    if total < lower or total > upper:
        side = "below" if total < lower else "above"
        limit = lower if total < lower else upper
        reason = (
            f"{total:,} rows, {side} the control limit {limit:,.0f} (expected ~{center:,.0f}, from {basis})"
        )
        return QualityCheck("volume", "alert", float(total), center, lower, upper, rule, reason)
    reason = f"{total:,} rows within {lower:,.0f}-{upper:,.0f} (from {basis})"
    return QualityCheck("volume", "ok", float(total), center, lower, upper, rule, reason)


def _weekly(
    y: np.ndarray, days: Sequence[int | None], same: Sequence[int]
) -> tuple[float, float, float, int]:
    """(centre, spread, its degrees of freedom, windows in the centre) for a weekly comparison.

    The centre is the median of the same weekday's windows. The spread comes from week-over-week
    differences of every weekday (``y_t - y_{t-7}`` has variance 2 sigma^2 whatever the weekday's
    level), by their median absolute deviation: a fault or a level change spoils only the pairs that
    straddle it. Without enough pairs, the same weekday's own moving ranges stand in.
    """
    at = {d: i for i, d in enumerate(days) if d is not None}
    pairs = np.array([y[i] - y[at[d - WEEK]] for d, i in at.items() if d - WEEK in at])
    if pairs.size >= MIN_PAIRS:
        spread = float(1.4826 * np.median(np.abs(pairs - np.median(pairs))) / np.sqrt(2))
        df = 0.37 * (pairs.size - 1)  # the MAD's efficiency is ~37 % of the standard deviation's
    else:
        spread, df = float(np.abs(np.diff(y[list(same)])).mean() / _D2), 0.62 * (len(same) - 1)
    return float(np.median(y[list(same)])), spread, df, len(same)


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
