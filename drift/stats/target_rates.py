"""Per-bin tests of the target rate: is the outcome rate in any input bin off its reference rate?

``drift.stats.concept.conditional_target_drift`` sums the per-bin chi-squares into one omnibus test.
The sum is powerful when P(y | x) moves a little everywhere, but a change confined to a few bins (one
segment's default rate, one score decile) is diluted by every quiet bin's degree of freedom. Testing
each bin on its own and correcting for the number of bins tested finds those sparse changes with a
fraction of the rows, at the same false-positive rate:

* per bin, the observed window positives against those expected under the reference's rate: the
  2 x 2 chi-square (1 dof, no continuity correction) of reference vs window, which also carries the
  reference's own sampling error (equal to ``scipy.stats.chi2_contingency(..., correction=False)``);
* ``holm``: Holm's step-down correction over the tested bins (family-wise error ``alpha``, valid
  under any dependence); a bin is flagged when its adjusted p-value is below ``alpha`` and its rate
  moved by at least ``min_effect``;
* ``fisher``: Fisher's combination ``-2 sum log p`` against chi-square(2 k), as
  ``scipy.stats.combine_pvalues(p, method="fisher")``; between the omnibus sum and Holm.

With ``exact=True`` a bin whose chi-square p-value is at most ``alpha`` gets Fisher's exact test
instead, two-sided by doubling the smaller tail (``2 min`` of ``scipy.stats.fisher_exact``'s "less" and
"greater"; one vectorised hypergeometric call): in a sparse bin (75 rows at a 7 % rate) the
chi-square's far tail is too light, e.g. 1e-6 where the exact upper tail is 5e-5, and Holm works in
that far tail. Only p-values that could reject are recomputed; one above ``alpha`` can't make Holm flag
a bin whatever its exact value.

Example:
    >>> n_ref, pos_ref = [1000] * 10, [200] * 10
    >>> n_win, pos_win = [500] * 10, [100] * 9 + [160]  # one bin's rate moved from 0.20 to 0.32
    >>> result = per_bin_rate_test(n_ref, pos_ref, n_win, pos_win, alpha=0.01)
    >>> result.drifted, result.flagged_bins
    (True, (9,))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

METHODS = ("holm", "fisher")


@dataclass(frozen=True)
class PerBinRateTest:
    """The verdict of the per-bin tests (``p_value``: the smallest Holm-adjusted p-value, or Fisher's
    combined one) and the bins flagged (Holm: adjusted p-value at most ``alpha`` and a move of at
    least ``min_effect``; Fisher, when the combination rejects: bins with a raw p-value below
    ``alpha`` that moved that far)."""

    method: str
    p_value: float | None
    drifted: bool
    flagged_bins: tuple[int, ...]
    bins_tested: int
    p_values: tuple[float | None, ...]  # raw per-bin p-values, None for untested bins
    adjusted: tuple[float | None, ...]  # Holm-adjusted (or, for Fisher, raw) per-bin p-values
    reason: str | None = None


def holm_adjust(p_values: ArrayLike) -> NDArray[np.float64]:
    """Holm's step-down adjusted p-values: ``max_{j <= i} min(1, (m - j + 1) p_(j))`` in sorted order.

    A hypothesis is rejected at family-wise error ``alpha`` when its adjusted p-value is ``<= alpha``.
    NaN counts as 1.

    Example:
        >>> holm_adjust([0.01, 0.04, 0.03, 0.005]).round(3).tolist()
        [0.03, 0.06, 0.06, 0.02]
    """
    p = np.nan_to_num(np.asarray(p_values, dtype=np.float64).ravel(), nan=1.0)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = stepped
    return out


def bin_chi_square(
    reference_n: ArrayLike, reference_positives: ArrayLike, window_n: ArrayLike, window_positives: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(statistic, p-value) per bin of the 2 x 2 chi-square test, reference vs window (1 dof, no
    continuity correction). A bin with one class only on both sides has statistic 0 and p-value 1.

    Example:
        >>> stat, p = bin_chi_square([100], [20], [100], [40])
        >>> round(float(stat[0]), 3), round(float(p[0]), 4)
        (9.524, 0.002)
    """
    n_r, pos_r = np.asarray(reference_n, dtype=np.float64), np.asarray(reference_positives, dtype=np.float64)
    n_w, pos_w = np.asarray(window_n, dtype=np.float64), np.asarray(window_positives, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (pos_r + pos_w) / (n_r + n_w)
        var = pooled * (1 - pooled) * (1 / n_r + 1 / n_w)
        diff = pos_r / n_r - pos_w / n_w
        stat = np.where(var > 0, diff**2 / np.where(var > 0, var, 1.0), 0.0)
    return stat, stats.chi2.sf(stat, 1)


def _exact_where_small(
    p_bin: NDArray[np.float64],
    tested: NDArray[np.bool_],
    alpha: float,
    n_r: NDArray[np.float64],
    pos_r: NDArray[np.float64],
    n_w: NDArray[np.float64],
    pos_w: NDArray[np.float64],
) -> NDArray[np.float64]:
    """The tested bins' p-values at most ``alpha`` replaced by Fisher's exact test on whole counts: the
    window's positives are hypergeometric given both sides' rows and the positives in all."""
    out = p_bin.copy()
    b = np.flatnonzero(tested & (p_bin <= alpha))
    if b.size:
        rows, drawn = np.rint(n_r[b] + n_w[b]), np.rint(n_w[b])
        positives, seen = np.rint(pos_r[b] + pos_w[b]), np.rint(pos_w[b])
        below = stats.hypergeom.cdf(seen, rows, positives, drawn)
        above = stats.hypergeom.sf(seen - 1, rows, positives, drawn)
        out[b] = np.minimum(1.0, 2 * np.minimum(below, above))
    return out


def per_bin_rate_test(
    reference_n: ArrayLike,
    reference_positives: ArrayLike,
    window_n: ArrayLike,
    window_positives: ArrayLike,
    *,
    method: str = "holm",
    min_count: int = 10,
    alpha: float = 0.01,
    min_effect: float = 0.02,
    exact: bool = False,
) -> PerBinRateTest:
    """Per-bin target-rate tests, corrected for the bins tested (see the module docstring).

    Bins with fewer than ``min_count`` rows on either side are not tested. Counts per bin: rows and
    positives of the reference, rows and positives of the window (e.g. a profile's conditional table
    and the window's bincounts).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    n_r, pos_r = np.asarray(reference_n, dtype=np.float64), np.asarray(reference_positives, dtype=np.float64)
    n_w, pos_w = np.asarray(window_n, dtype=np.float64), np.asarray(window_positives, dtype=np.float64)
    tested = (n_r >= min_count) & (n_w >= min_count)
    _, p_bin = bin_chi_square(n_r, pos_r, n_w, pos_w)
    if exact:
        p_bin = _exact_where_small(p_bin, tested, alpha, n_r, pos_r, n_w, pos_w)
    k = int(tested.sum())
    raw: list[float | None] = [float(p) if t else None for p, t in zip(p_bin, tested, strict=True)]
    if k == 0:
        empty = (None,) * n_r.size
        return PerBinRateTest(
            method, None, False, (), 0, empty, empty, f"no bin has {min_count} rows on both sides"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        moved = np.abs(pos_r / n_r - pos_w / n_w) >= min_effect
    index = np.flatnonzero(tested)
    if method == "holm":
        adjusted_tested = holm_adjust(p_bin[tested])
        adjusted: list[float | None] = [None] * n_r.size
        for i, q in zip(index, adjusted_tested, strict=True):
            adjusted[i] = float(q)
        flagged = tuple(
            int(i) for i, q in zip(index, adjusted_tested, strict=True) if q <= alpha and moved[i]
        )
        p_value = float(adjusted_tested.min())
        return PerBinRateTest(method, p_value, bool(flagged), flagged, k, tuple(raw), tuple(adjusted))
    # Fisher: the bins' evidence pooled (a p-value that underflows to 0 is floored so the log stays
    # finite); drift also needs the window-weighted mean move to reach `min_effect`, as the omnibus.
    p_value = float(stats.combine_pvalues(np.maximum(p_bin[tested], 1e-300), method="fisher").pvalue)
    effect = float(np.sum(n_w[tested] * np.abs(pos_r / n_r - pos_w / n_w)[tested]) / n_w[tested].sum())
    drifted = p_value < alpha and effect >= min_effect
    flagged = tuple(int(i) for i in index if moved[i] and p_bin[i] < alpha) if drifted else ()
    return PerBinRateTest(method, p_value, drifted, flagged, k, tuple(raw), tuple(raw))
