"""Learned thresholds, Benjamini-Hochberg, and the drift decision.

**Null distribution.** For a window of ``W`` rows, draw chunks from the reference and score each
chunk against the reference *without* that chunk. (NannyML bug #426 scores chunks against a
reference that still contains them: chunk and "reference" then share rows, the null shrinks and
thresholds come out too tight.) Chunks are random subsets, not contiguous blocks: a 20k-row
reference holds only two contiguous 10k chunks, far too few for a 99.5th percentile.

* binned mode: a chunk is a multivariate hypergeometric draw from the reference counts (sampling
  rows without replacement), the remainder is what is left;
* sample mode: a chunk is a random subset of the raw reference values.

**Window size.** The chunk has ``m = min(W, R // 2)`` rows so the remainder keeps at least half the
reference (``R`` rows). The distances used here have a null that shrinks like ``n_eff^-1/2``
(KS, Wasserstein, Jensen-Shannon, Hellinger; PSI like ``n_eff^-1``), with
``n_eff = n1 n2 / (n1 + n2)``. So each null value is rescaled by
``(n_eff(chunk vs remainder) / n_eff(window vs reference)) ** exponent``: a 100k window against a
20k reference gets a threshold ~0.55 times the one measured on 10k chunks. The test suite checks
that the false-alarm rate stays near ``1 - QUANTILE`` for windows smaller and larger than ``R``.

Learn once per (reference, nominal window size) and cache; :func:`rescale_threshold` follows the
actual non-null count of each window by the same scaling, without re-simulating.

**Threshold.** The ``QUANTILE`` (99.5th percentile) of the rescaled null, raised to any floor left
by false alarms, and clipped to per-method ``BOUNDS``: the lower bound is the smallest change worth
an event on huge windows (where the null is ~0), the upper bound stops tiny windows or repeated
false alarms from blinding the detector (the p-value still guards small windows).

**Decision.** A feature drifted when its effect size is above its threshold *and* its p-value
stays significant after Benjamini-Hochberg across the window's features.

Example:
    >>> import numpy as np
    >>> ref = np.array([2000] * 10)
    >>> th = learn_thresholds_binned(ref, 5_000, methods=("jensenshannon",))["jensenshannon"]
    >>> 0.01 < th.value < 0.05
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drift.stats import binning
from drift.stats.univariate import DriftTest, is_constant

QUANTILE = 0.995
N_DRAWS_BINNED = 1_000
N_DRAWS_SAMPLES = 300
#: Null values kept for adaptive updates; new passing windows push out the oldest draws.
MAX_NULL = 1_000
#: A false alarm lifts the threshold this far above the false-alarmed effect size.
FALSE_ALARM_MARGIN = 0.05
#: Below this many reference rows the null is meaningless: threshold = upper bound.
MIN_REFERENCE = 20
#: (lower, upper) per effect size. Wasserstein is in reference standard deviations.
BOUNDS: dict[str, tuple[float, float]] = {
    "wasserstein": (0.02, 0.25),
    "ks": (0.01, 0.2),
    "jensenshannon": (0.01, 0.2),
    "hellinger": (0.01, 0.2),
    "psi": (0.001, 0.1),
}
_EXPONENT = {"psi": 1.0}  # every other distance: 0.5
# Elements of the (draws, reference rows) mask built per block in sample mode (~16 MB of int64).
_BLOCK_ELEMENTS = 2_000_000


@dataclass(frozen=True)
class LearnedThreshold:
    """A threshold for one effect size at one window size, with the null it came from."""

    method: str
    value: float
    null: tuple[float, ...]  # null effect sizes rescaled to the window size, oldest first
    quantile: float
    lower: float
    upper: float
    floor: float = 0.0  # raised by false alarms
    chunk_size: int = 0
    window_size: int = 0
    reference_size: int = 0
    reason: str = ""


@dataclass(frozen=True)
class DriftDecision:
    """The verdict on one feature: drifted iff effect > threshold and BH-significant."""

    drifted: bool
    effect_method: str
    effect_size: float
    threshold: float
    p_value: float
    significant: bool
    reason: str


def _resolve(
    null: Sequence[float] | NDArray[np.float64], quantile: float, floor: float, lower: float, upper: float
) -> float:
    q = float(np.quantile(np.asarray(null), quantile)) if len(null) else upper
    return float(np.clip(max(q, floor), lower, upper))


def _scale(method: str, chunk: int, reference: int, window: int) -> float:
    n_null = chunk * (reference - chunk) / reference
    n_target = window * reference / (window + reference)
    return float((n_null / n_target) ** _EXPONENT.get(method, 0.5))


def _build(
    method: str, raw_null: NDArray[np.float64], chunk: int, reference: int, window: int, quantile: float
) -> LearnedThreshold:
    lower, upper = BOUNDS[method]
    null = raw_null * _scale(method, chunk, reference, window)
    value = _resolve(null, quantile, 0.0, lower, upper)
    return LearnedThreshold(
        method, value, tuple(float(v) for v in null), quantile, lower, upper, 0.0, chunk, window, reference
    )


def _too_small(
    methods: Sequence[str], reference: int, window: int, quantile: float
) -> dict[str, LearnedThreshold]:
    reason = f"reference has {reference} values (< {MIN_REFERENCE}): threshold at its upper bound"
    return {
        m: LearnedThreshold(m, BOUNDS[m][1], (), quantile, *BOUNDS[m], 0.0, 0, window, reference, reason)
        for m in methods
    }


def learn_thresholds_binned(
    reference_counts: ArrayLike,
    window_size: int,
    *,
    methods: Sequence[str] = ("wasserstein",),
    edges: ArrayLike | None = None,
    reference_std: float | None = None,
    n_draws: int = N_DRAWS_BINNED,
    quantile: float = QUANTILE,
    seed: int = 0,
) -> dict[str, LearnedThreshold]:
    """Learn thresholds for binned effect sizes; learn once per (reference, window size) and cache.

    ``methods`` are effect sizes from ``univariate.NUMERIC_EFFECTS``; "wasserstein" needs
    ``edges``. The result is keyed by the method actually used: a constant reference turns
    "wasserstein" into "ks", as ``univariate.numeric_drift_binned`` does. Seeded: same inputs,
    same thresholds.

    Example:
        >>> th = learn_thresholds_binned([100] * 12, 600, methods=("ks", "psi"))
        >>> sorted(th), th["ks"].chunk_size
        (['ks', 'psi'], 600)
    """
    ref = np.asarray(reference_counts, dtype=np.int64)
    total = int(ref.sum())
    methods = _effective_methods(methods, ref, edges, reference_std)
    if total < MIN_REFERENCE:
        return _too_small(methods, total, window_size, quantile)
    chunk = max(1, min(int(window_size), total // 2))
    rng = np.random.default_rng(seed)
    chunks = rng.multivariate_hypergeometric(ref, chunk, size=n_draws).astype(np.float64)
    rest = ref - chunks
    out = {}
    for method in methods:
        if method == "wasserstein":
            assert edges is not None  # guaranteed by _effective_methods
            std = binning.binned_mean_std(ref, edges)[1] if reference_std is None else reference_std
            raw = binning.batch_wasserstein(rest, chunks, binning.bin_widths(edges)) / std
        else:
            raw = binning.COUNT_DISTANCES[method](rest, chunks)
        out[method] = _build(method, raw, chunk, total, int(window_size), quantile)
    return out


def _effective_methods(
    methods: Sequence[str], ref: NDArray[np.int64], edges: ArrayLike | None, reference_std: float | None
) -> list[str]:
    unknown = set(methods) - set(BOUNDS)
    if unknown:
        raise ValueError(f"unknown effect sizes {sorted(unknown)}; choose from {sorted(BOUNDS)}")
    if "wasserstein" not in methods:
        return list(methods)
    if edges is None:
        raise ValueError("binned Wasserstein needs the bin edges")
    mean, std = binning.binned_mean_std(ref, edges)
    std = std if reference_std is None else reference_std
    if not is_constant(std, mean):
        return list(methods)
    return list(dict.fromkeys("ks" if m == "wasserstein" else m for m in methods))


def learn_thresholds_samples(
    reference: ArrayLike,
    window_size: int,
    *,
    methods: Sequence[str] = ("wasserstein", "ks"),
    n_draws: int = N_DRAWS_SAMPLES,
    quantile: float = QUANTILE,
    seed: int = 0,
) -> dict[str, LearnedThreshold]:
    """Learn thresholds for sample-based effect sizes ("wasserstein", "ks") from raw values.

    The reference is sorted once; each draw is a boolean mask of chunk rows over the sorted values,
    so both empirical CDFs come from one cumulative sum (no per-draw sort).

    Example:
        >>> import numpy as np
        >>> ref = np.random.default_rng(1).normal(size=4_000)
        >>> th = learn_thresholds_samples(ref, 1_000)
        >>> 0.05 < th["ks"].value < 0.1
        True
    """
    x = np.sort(binning.finite(reference))
    total = x.size
    if set(methods) - {"wasserstein", "ks"}:
        raise ValueError("sample-based thresholds support 'wasserstein' and 'ks' only")
    std = float(x.std()) if total else 0.0
    if "wasserstein" in methods and is_constant(std, float(x.mean()) if total else 0.0):
        methods = list(dict.fromkeys("ks" if m == "wasserstein" else m for m in methods))
    if total < MIN_REFERENCE:
        return _too_small(methods, total, window_size, quantile)
    chunk = max(1, min(int(window_size), total // 2))
    last = np.flatnonzero(np.r_[x[1:] != x[:-1], True])  # evaluate CDFs once per distinct value
    below = (last + 1).astype(np.float64)
    dx = np.diff(x[last])
    rng = np.random.default_rng(seed)
    ks_null, w_null = [], []
    block = max(1, _BLOCK_ELEMENTS // total)
    for start in range(0, n_draws, block):  # loop over blocks of draws, never over rows
        b = min(block, n_draws - start)
        picked = np.argpartition(rng.random((b, total)), chunk - 1, axis=1)[:, :chunk]
        mask = np.zeros((b, total), dtype=np.int32)
        np.put_along_axis(mask, picked, 1, axis=1)
        in_chunk = np.cumsum(mask, axis=1)[:, last]
        diff = in_chunk / chunk - (below - in_chunk) / (total - chunk)
        ks_null.append(np.abs(diff).max(axis=1))
        w_null.append((np.abs(diff[:, :-1]) * dx).sum(axis=1) / (std or 1.0))
    raw = {"ks": np.concatenate(ks_null), "wasserstein": np.concatenate(w_null)}
    return {m: _build(m, raw[m], chunk, total, int(window_size), quantile) for m in methods}


def rescale_threshold(threshold: LearnedThreshold, window_size: int) -> LearnedThreshold:
    """The same threshold for another window size, by the ``n_eff`` scaling of the null.

    Lets the engine learn once per (reference, nominal window size) and follow the actual number
    of non-null values in each window without re-simulating. A false-alarm floor is kept as is.

    Example:
        >>> th = learn_thresholds_binned([500] * 20, 1_000, methods=("ks",))["ks"]
        >>> rescale_threshold(th, 4_000).value < th.value
        True
    """
    if window_size == threshold.window_size or not threshold.null or window_size < 1:
        return threshold
    ref, old, new = threshold.reference_size, threshold.window_size, int(window_size)
    factor = ((old * ref / (old + ref)) / (new * ref / (new + ref))) ** _EXPONENT.get(threshold.method, 0.5)
    # One numpy multiply instead of a Python loop over the 1,000 draws (every feature of every
    # analysis is rescaled); the same IEEE products, so the same threshold.
    scaled = np.asarray(threshold.null, dtype=np.float64) * factor
    value = _resolve(scaled, threshold.quantile, threshold.floor, threshold.lower, threshold.upper)
    return replace(threshold, null=tuple(scaled.tolist()), value=value, window_size=int(window_size))


def update_threshold(
    threshold: LearnedThreshold, effect_size: float, *, false_alarm: bool = False, memory: int = MAX_NULL
) -> LearnedThreshold:
    """Adapt a threshold to a new window's effect size (pure: returns a new threshold).

    * A window that passed appends its effect size to the null; the oldest values fall out beyond
      ``memory``, so production windows gradually replace the reference draws.
    * A window a person marked as a false alarm lifts the floor to ``effect * (1 + 5 %)`` so the
      same change passes next time; the upper bound still caps it.

    Example:
        >>> th = LearnedThreshold("ks", 0.05, (0.01, 0.02, 0.04), 0.995, 0.01, 0.2)
        >>> round(update_threshold(th, 0.08, false_alarm=True).value, 3)
        0.084
        >>> update_threshold(th, 0.9, false_alarm=True).value
        0.2
    """
    if not np.isfinite(effect_size):
        return threshold
    null, floor = threshold.null, threshold.floor
    if false_alarm:
        floor = max(floor, effect_size * (1 + FALSE_ALARM_MARGIN))
    else:
        null = (*null, float(effect_size))[-memory:]
    value = _resolve(null, threshold.quantile, floor, threshold.lower, threshold.upper)
    return replace(threshold, null=null, floor=floor, value=value)


def benjamini_hochberg(p_values: ArrayLike, alpha: float = 0.05) -> NDArray[np.bool_]:
    """Which hypotheses are rejected at false discovery rate ``alpha`` (step-up procedure).

    Equivalent to ``scipy.stats.false_discovery_control(p) <= alpha``; NaN counts as 1.

    Example:
        >>> benjamini_hochberg([0.001, 0.04, 0.03, 0.5], alpha=0.05).tolist()
        [True, False, False, False]
    """
    p = np.nan_to_num(np.asarray(p_values, dtype=np.float64).ravel(), nan=1.0)
    n = p.size
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(p)
    passed = p[order] <= alpha * np.arange(1, n + 1) / n
    k = np.flatnonzero(passed).max() + 1 if passed.any() else 0  # largest rank that passes
    rejected = np.zeros(n, dtype=bool)
    rejected[order[:k]] = True
    return rejected


def decide(
    tests: Mapping[str, DriftTest],
    thresholds: Mapping[str, LearnedThreshold | float],
    *,
    alpha: float = 0.05,
) -> dict[str, DriftDecision]:
    """Apply the drift rule to one window's features: effect > threshold and BH-significant.

    ``thresholds[feature]`` is the threshold for that feature's ``effect_method``. Untestable
    features are left out of the Benjamini-Hochberg family and never drift.

    Example:
        >>> from drift.stats.univariate import DriftTest
        >>> t = {"age": DriftTest("ks", 0.2, 1e-9, "wasserstein", 0.4, 9000, 900),
        ...      "zip": DriftTest("chi_square", 3.0, 0.2, "jensenshannon", 0.3, 9000, 900)}
        >>> d = decide(t, {"age": 0.05, "zip": 0.05})
        >>> d["age"].drifted, d["zip"].drifted
        (True, False)
    """
    names = [n for n, t in tests.items() if t.testable]
    significant = dict(zip(names, benjamini_hochberg([tests[n].p_value for n in names], alpha), strict=True))
    out = {}
    for name, test in tests.items():  # one entry per feature, not per row
        th = thresholds.get(name, np.inf)
        if isinstance(th, LearnedThreshold):
            if th.method != test.effect_method:
                raise ValueError(f"{name}: threshold is for {th.method}, effect is {test.effect_method}")
            th = th.value
        sig = significant.get(name, False)
        above = test.effect_size > th
        effect = f"{test.effect_method} {test.effect_size:.3g}"
        if not test.testable:
            reason = f"not testable: {test.reason}"
        elif above and sig:
            reason = f"{effect} above threshold {th:.3g}, p={test.p_value:.2g}"
        elif above:
            reason = f"{effect} above threshold {th:.3g} but not significant after BH (p={test.p_value:.2g})"
        else:
            reason = f"{effect} within threshold {th:.3g}"
        out[name] = DriftDecision(
            bool(above and sig),
            test.effect_method,
            test.effect_size,
            float(th),
            test.p_value,
            bool(sig),
            reason,
        )
    return out
