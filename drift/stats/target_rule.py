"""The concept-drift decision on a table of target rates: the summed test or the per-bin test. Pure.

Two tests of "has the target rate per bin moved from the reference's?", each at half the level:

* ``summed``: the per-bin chi-squares summed into one (``drift.stats.concept``), strongest when the
  rate moves a little in every bin;
* ``per_bin``: each bin on its own with Holm's correction (``drift.stats.target_rates``, exact
  p-values where the chi-square's tail is too light), strongest when one bin moves (one score band,
  one segment) and the other bins' quiet degrees of freedom dilute the sum.

The table drifted when either fires. By the union bound the false-positive rate stays at most
``alpha``. Seeded, on 10 bins (1,000 reference and 500 window rows each, ``alpha`` 1 %): a +0.10 move
in one bin is found ~0.6 of the time against ~0.5 for the sum alone at the full ``alpha``; the price
is a +0.02 move in every bin, found ~0.21 of the time against ~0.27
(``tests/drift/stats/test_target_rule.py``).

Example:
    >>> n_ref, pos_ref = [1000] * 10, [200] * 10
    >>> n_win, pos_win = [500] * 10, [100] * 9 + [160]  # one bin's rate moved from 0.20 to 0.32
    >>> result = target_rate_drift(n_ref, pos_ref, n_win, pos_win, alpha=0.01)
    >>> result.drifted, result.fired, result.per_bin.flagged_bins
    (True, ('per_bin',), (9,))
"""

from __future__ import annotations

from dataclasses import dataclass

from numpy.typing import ArrayLike

from drift.stats.concept import ConditionalTargetDrift, conditional_target_drift_counts
from drift.stats.target_rates import PerBinRateTest, per_bin_rate_test

SUMMED, PER_BIN = "summed", "per_bin"


@dataclass(frozen=True)
class TargetRateDrift:
    """Both tests, each run at ``alpha / 2``; ``fired`` names those that rejected."""

    summed: ConditionalTargetDrift
    per_bin: PerBinRateTest
    alpha: float

    @property
    def fired(self) -> tuple[str, ...]:
        return tuple(
            name for name, hit in ((SUMMED, self.summed.drifted), (PER_BIN, self.per_bin.drifted)) if hit
        )

    @property
    def drifted(self) -> bool:
        return bool(self.fired)


def target_rate_drift(
    reference_n: ArrayLike,
    reference_positives: ArrayLike,
    window_n: ArrayLike,
    window_positives: ArrayLike,
    *,
    alpha: float = 0.01,
    min_count: int = 10,
    min_effect: float = 0.02,
) -> TargetRateDrift:
    """Has the target rate per bin moved? Counts per bin as in ``conditional_target_drift_counts``;
    both tests need a move of at least ``min_effect`` (the sum on average, a flagged bin on its own)."""
    half = alpha / 2
    summed = conditional_target_drift_counts(
        reference_n,
        reference_positives,
        window_n,
        window_positives,
        alpha=half,
        min_count=min_count,
        min_effect=min_effect,
    )
    per_bin = per_bin_rate_test(
        reference_n,
        reference_positives,
        window_n,
        window_positives,
        method="holm",
        alpha=half,
        min_count=min_count,
        min_effect=min_effect,
        exact=True,
    )
    return TargetRateDrift(summed, per_bin, alpha)
