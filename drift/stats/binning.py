"""Bins fixed by the reference, and distances between binned count vectors.

Bin convention (``drift/profiles.py`` counts rows at ingestion with :func:`bin_counts`): the edges
``e_0 < ... < e_m`` come from reference quantiles, with ``e_0`` the reference minimum and ``e_m``
the maximum. A value ``x`` falls in

* bin ``0`` when ``x < e_0`` (below the reference range, an overflow bin),
* bin ``i`` (``1..m``) when ``e_{i-1} <= x < e_i``; the last inner bin also holds ``x == e_m``,
* bin ``m + 1`` when ``x > e_m`` (above the reference range, an overflow bin),

so a count vector has ``len(edges) + 1`` entries. NaN is never binned: profiles count it as null.

The ``batch_*`` kernels reduce over the last axis, so the same code scores one pair of count
vectors or a ``(draws, bins)`` matrix of simulated reference chunks (see ``thresholds``).

Example:
    >>> import numpy as np
    >>> edges = quantile_edges(np.arange(100.0), n_bins=4)
    >>> edges.tolist()
    [0.0, 24.75, 49.5, 74.25, 99.0]
    >>> bin_counts(np.array([-5.0, 0.0, 30.0, 99.0, 120.0, np.nan]), edges).tolist()
    [1, 1, 1, 0, 1, 1]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Floor for a bin's share in PSI, so an empty bin costs a large but finite amount (the common
#: industry choice; PSI is infinite without it). Chosen below 1 / (typical window size).
PSI_EPSILON = 1e-4

FloatArray = NDArray[np.float64]


def finite(values: ArrayLike) -> FloatArray:
    """Return the non-NaN, finite values as a float array.

    Example:
        >>> finite([1.0, float("nan"), 2.0]).tolist()
        [1.0, 2.0]
    """
    arr = np.asarray(values, dtype=np.float64).ravel()
    return arr[np.isfinite(arr)]


def quantile_levels(n_bins: int) -> FloatArray:
    """Quantile levels of the edges: equal shares, with the tails refined from 10 bins up.

    From ``n_bins >= 10`` the outermost bins hold 0.5 % and 1.5 % of the reference on each side and
    the rest share the middle 90 % equally. Narrow tail bins make tail changes visible to PSI and
    Jensen-Shannon (the blind spot of decile bins), and keep the uniform-within-bin assumption of
    the binned Wasserstein distance from being stretched across a long tail.

    Example:
        >>> quantile_levels(4).tolist()
        [0.0, 0.25, 0.5, 0.75, 1.0]
        >>> quantile_levels(10)[:4].tolist()
        [0.0, 0.005, 0.02, 0.05]
    """
    if n_bins < 10:
        return np.linspace(0.0, 1.0, n_bins + 1)
    middle = np.linspace(0.05, 0.95, n_bins - 5)
    return np.concatenate([[0.0, 0.005, 0.02], middle, [0.98, 0.995, 1.0]])


def quantile_edges(values: ArrayLike, n_bins: int = 20) -> FloatArray:
    """Edges of ``n_bins`` reference-quantile bins (levels from :func:`quantile_levels`; fewer bins
    when values tie).

    A quantile repeated by ties marks a point mass (a zero-inflated or integer feature); it gets a
    bin of its own, ``[v, nextafter(v))``, so the atom is not smeared into its neighbour. A
    constant feature yields ``[c, nextafter(c)]``: one inner bin holding exactly ``c``. An empty or
    all-NaN reference yields no edges, and :func:`bin_counts` then returns a single bin.

    Example:
        >>> quantile_edges([0, 0, 0, 0, 1, 2, 3, 4], n_bins=4).tolist()
        [0.0, 5e-324, 0.5, 2.25, 4.0]
    """
    x = finite(values)
    if x.size == 0:
        return np.empty(0)
    q = np.quantile(x, quantile_levels(n_bins))
    edges, repeats = np.unique(q, return_counts=True)
    atoms = edges[repeats > 1]
    if edges.size == 1 or atoms.size:
        # Close each atom (and a constant feature) with the next float up; edges stay sorted.
        edges = np.unique(np.concatenate([edges, np.nextafter(atoms, np.inf)]))
        if edges.size == 1:
            edges = np.array([edges[0], np.nextafter(edges[0], np.inf)])
    return edges


def bin_counts(values: ArrayLike, edges: ArrayLike) -> NDArray[np.int64]:
    """Count finite values into ``len(edges) + 1`` bins (see the module docstring).

    Example:
        >>> bin_counts([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]).tolist()
        [0, 1, 2, 0]
    """
    e = np.asarray(edges, dtype=np.float64)
    x = finite(values)
    if e.size == 0:
        return np.array([x.size], dtype=np.int64)
    idx = np.searchsorted(e, x, side="right")
    idx[x == e[-1]] = e.size - 1  # the last inner bin is closed on the right
    return np.bincount(idx, minlength=e.size + 1).astype(np.int64)


def category_counts(values: ArrayLike, categories: ArrayLike) -> NDArray[np.int64]:
    """Counts on ``categories`` followed by one bin for any other value; None/NaN/"" are skipped.

    Example:
        >>> category_counts(np.array(["a", "b", "a", "z", None], dtype=object), ["a", "b"]).tolist()
        [2, 1, 1]
    """
    v = np.asarray(values, dtype=object).ravel()
    keys = v.astype(str)
    missing = np.equal(v, None) | (v != v) | (keys == "")  # v != v is True only for NaN
    names = [str(c) for c in np.asarray(categories, dtype=object).ravel()]
    lookup = {name: i for i, name in enumerate(names)}
    uniq, inverse = np.unique(keys[~missing], return_inverse=True)
    # One dictionary lookup per distinct value, never per row.
    code = np.array([lookup.get(u, len(names)) for u in uniq], dtype=np.int64)
    return np.bincount(code[inverse], minlength=len(names) + 1).astype(np.int64)


def bin_widths(edges: ArrayLike, low: float | None = None, high: float | None = None) -> FloatArray:
    """Width of each bin; the overflow bins reach ``low`` / ``high`` (observed min / max).

    An overflow bin's width is capped at one reference range (``e_m - e_0``), so a single extreme
    value cannot dominate a Wasserstein distance; without ``low``/``high`` it has width 0 (its
    mass sits on the edge).

    Example:
        >>> bin_widths([0.0, 1.0, 3.0], low=-0.5, high=100.0).tolist()
        [0.5, 1.0, 2.0, 3.0]
    """
    e = np.asarray(edges, dtype=np.float64)
    if e.size == 0:
        return np.zeros(1)
    span = e[-1] - e[0]
    below = 0.0 if low is None else float(np.clip(e[0] - low, 0.0, span))
    above = 0.0 if high is None else float(np.clip(high - e[-1], 0.0, span))
    return np.concatenate([[below], np.diff(e), [above]])


def binned_mean_std(
    counts: ArrayLike, edges: ArrayLike, widths: ArrayLike | None = None
) -> tuple[float, float]:
    """Mean and std of binned data, with mass spread uniformly inside each bin.

    Example:
        >>> binned_mean_std([0, 1, 1, 0], [0.0, 1.0, 2.0])
        (1.0, 0.5773502691896257)
    """
    c = np.asarray(counts, dtype=np.float64)
    e = np.asarray(edges, dtype=np.float64)
    if c.sum() <= 0 or e.size == 0:
        return 0.0, 0.0
    w = bin_widths(e) if widths is None else np.asarray(widths, dtype=np.float64)
    left = np.concatenate([[e[0] - w[0]], e])
    mid = left + w / 2
    p = c / c.sum()
    mean = float(p @ mid)
    var = float(p @ (w**2 / 12 + (mid - mean) ** 2))
    return mean, float(np.sqrt(max(var, 0.0)))


def _shares(counts: NDArray[np.float64]) -> FloatArray:
    total = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts / total


def batch_ks(ref: ArrayLike, cur: ArrayLike) -> FloatArray:
    """Max |CDF difference| over bin edges (a lower bound of the exact KS statistic).

    Example:
        >>> float(batch_ks([5, 5, 0], [0, 5, 5]))
        0.5
    """
    p = _shares(np.asarray(ref, dtype=np.float64))
    q = _shares(np.asarray(cur, dtype=np.float64))
    return np.abs(np.cumsum(p - q, axis=-1)).max(axis=-1)


def batch_psi(ref: ArrayLike, cur: ArrayLike, epsilon: float = PSI_EPSILON) -> FloatArray:
    """Population stability index, sum (q - p) ln(q / p), shares floored at ``epsilon``.

    Example:
        >>> round(float(batch_psi([50, 50], [40, 60])), 6)
        0.040547
    """
    p = np.maximum(_shares(np.asarray(ref, dtype=np.float64)), epsilon)
    q = np.maximum(_shares(np.asarray(cur, dtype=np.float64)), epsilon)
    return ((q - p) * np.log(q / p)).sum(axis=-1)


def batch_js(ref: ArrayLike, cur: ArrayLike) -> FloatArray:
    """Jensen-Shannon distance in base 2 (in [0, 1]), as ``scipy.spatial.distance.jensenshannon``.

    Example:
        >>> float(batch_js([1, 0], [0, 1]))
        1.0
    """
    p = _shares(np.asarray(ref, dtype=np.float64))
    q = _shares(np.asarray(cur, dtype=np.float64))
    m = (p + q) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum(axis=-1)
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum(axis=-1)
    return np.sqrt(np.maximum((kl_p + kl_q) / 2, 0.0))


def batch_hellinger(ref: ArrayLike, cur: ArrayLike) -> FloatArray:
    """Hellinger distance sqrt(1 - sum sqrt(p q)) (in [0, 1]).

    Example:
        >>> float(batch_hellinger([1, 0], [0, 1]))
        1.0
    """
    p = _shares(np.asarray(ref, dtype=np.float64))
    q = _shares(np.asarray(cur, dtype=np.float64))
    return np.sqrt(np.maximum(1.0 - np.sqrt(p * q).sum(axis=-1), 0.0))


def batch_wasserstein(ref: ArrayLike, cur: ArrayLike, widths: ArrayLike) -> FloatArray:
    """Wasserstein-1 between binned distributions with mass uniform inside each bin.

    Both CDFs are then piecewise linear on the same breakpoints, so the area between them is
    exact per bin: ``w (|a| + |b|) / 2`` when the CDF difference keeps its sign from ``a`` to
    ``b`` across the bin, ``w (a^2 + b^2) / (2 (|a| + |b|))`` when it crosses zero.

    Example:
        >>> float(batch_wasserstein([0, 1, 0, 0], [0, 0, 1, 0], [0.0, 1.0, 1.0, 0.0]))
        1.0
    """
    p = _shares(np.asarray(ref, dtype=np.float64))
    d = np.cumsum(p - _shares(np.asarray(cur, dtype=np.float64)), axis=-1)
    zero = np.zeros((*d.shape[:-1], 1))
    d = np.concatenate([zero, d], axis=-1)
    a, b = d[..., :-1], d[..., 1:]
    same = a * b >= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        crossing = (a**2 + b**2) / (2 * (np.abs(a) + np.abs(b)))
    area = np.where(same, (np.abs(a) + np.abs(b)) / 2, crossing)
    return (np.nan_to_num(area) * np.asarray(widths, dtype=np.float64)).sum(axis=-1)


#: Distances that need only the two count vectors (Wasserstein also needs the bin widths).
COUNT_DISTANCES = {"ks": batch_ks, "psi": batch_psi, "jensenshannon": batch_js, "hellinger": batch_hellinger}
